import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * The peer dependencies of every plugin: one copy, the server's. Errors are classified across
 * copies, but zod schemas are checked with `instanceof` and metrics must land in the server's
 * registry, so a plugin must use these exact modules.
 */
export const PLUGIN_PEERS = ['@clarion/plugin-sdk', 'zod', 'prom-client'] as const;

function peerOf(specifier: string): string | undefined {
  return PLUGIN_PEERS.find((p) => specifier === p || specifier.startsWith(`${p}/`));
}

let registered = false;

/**
 * Lets a plugin installed anywhere (CLARION_PLUGIN_PATH outside the server's folder, a plugin
 * folder of dev mode, `npm install --legacy-peer-deps` that installed no peers) find its peers:
 * where Node's own lookup from the plugin finds none, they resolve to the server's copies. A
 * plugin that ships its own copy keeps it (the loader warns about that).
 */
export function resolvePluginPeersFromServer(): void {
  if (registered) return;
  registered = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      try {
        return nextResolve(specifier, context);
      } catch (error) {
        if (!peerOf(specifier)) throw error;
        let file: string;
        try {
          file = require.resolve(specifier);
        } catch {
          throw error;
        }
        return { url: pathToFileURL(file).href, shortCircuit: true };
      }
    },
  });
}
