import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** How the container image starts node: what its last stage puts in NODE_OPTIONS and before the CLI. */
export interface ImageNode {
  /** `ENV NODE_OPTIONS=…` (the heap caps). */
  nodeOptions: string;
  /** The ENTRYPOINT's arguments between `node` and the CLI's path (V8 flags NODE_OPTIONS refuses). */
  nodeArgs: string[];
}

/**
 * Read from deploy/Dockerfile, so processes started outside a container (the bench, the chart's
 * pods run as processes) run node as the image does, with no copy of its flags to drift.
 */
export function imageNode(
  dockerfile = join(resolve(__dirname, '..', '..', '..'), 'deploy', 'Dockerfile'),
): ImageNode {
  const text = readFileSync(dockerfile, 'utf8').replace(/\\\n/g, ' ');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const nodeOptions = /NODE_OPTIONS="([^"]*)"/.exec(runtime)?.[1];
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(runtime)?.[1];
  if (nodeOptions === undefined || entrypoint === undefined)
    throw new Error(`${dockerfile}: no NODE_OPTIONS or ENTRYPOINT in its last stage`);
  const argv = JSON.parse(entrypoint) as string[];
  const node = argv.indexOf('node');
  const cli = argv.findIndex((a) => a.endsWith('/cli/main.js'));
  if (node < 0 || cli < node) throw new Error(`${dockerfile}: the ENTRYPOINT does not run node on the CLI`);
  return { nodeOptions, nodeArgs: argv.slice(node + 1, cli) };
}
