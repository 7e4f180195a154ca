/** The files of a new plugin package, from its name; `$` placeholders are filled by scaffold.ts. */

export interface ScaffoldNames {
  /** kebab-case plugin and channel name, e.g. `acme-chat`. */
  name: string;
  /** npm package name, e.g. `clarion-plugin-acme-chat` or `@acme/clarion-plugin-acme-chat`. */
  packageName: string;
  /** PascalCase for identifiers, e.g. `AcmeChat`. */
  pascal: string;
  /** camelCase, e.g. `acmeChat`. */
  camel: string;
  /** `CLARION_ACME_CHAT`. */
  envPrefix: string;
  /** This server's SDK version (the dev dependency) and the peer range it satisfies. */
  sdkVersion: string;
  sdkRange: string;
}

export function packageJson(n: ScaffoldNames): string {
  return `${JSON.stringify(
    {
      name: n.packageName,
      version: '0.1.0',
      description: `Clarion channel plugin: ${n.name}`,
      license: 'UNLICENSED',
      type: 'commonjs',
      main: 'dist/index.js',
      types: 'dist/index.d.ts',
      files: ['dist', '!dist/**/*.test.*', 'README.md', 'CHANGELOG.md'],
      engines: { node: '>=22' },
      scripts: {
        build: 'tsc -p tsconfig.json',
        test: 'node --test --test-force-exit "dist/**/*.test.js"',
      },
      exports: {
        '.': './dist/index.js',
        './testing': './dist/testing/index.js',
        './package.json': './package.json',
      },
      peerDependencies: { '@clarion/plugin-sdk': n.sdkRange, 'prom-client': '^15.1.0', zod: '^4.0.0' },
      peerDependenciesMeta: { 'prom-client': { optional: true } },
      devDependencies: {
        '@clarion/plugin-sdk': `^${n.sdkVersion}`,
        '@types/node': '^24.0.0',
        'prom-client': '15.1.3',
        typescript: '7.0.2',
        zod: '4.6.7',
      },
    },
    null,
    2,
  )}\n`;
}

export const tsconfig = `{
  "compilerOptions": {
    "target": "ES2024",
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "lib": ["ES2024"],
    "types": ["node"],
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "skipLibCheck": true,
    "declaration": true,
    "sourceMap": true,
    "outDir": "dist",
    "rootDir": "src"
  },
  "include": ["src"]
}
`;

export function pluginTs(n: ScaffoldNames): string {
  return `import {
  defineChannelPlugin,
  InvalidAddressError,
  PermanentError,
  parseRetryAfter,
  RetryableError,
  readPluginPackage,
  secret,
  ThrottledAddressError,
} from '@clarion/plugin-sdk';
import { z } from 'zod';

const pkg = readPluginPackage(__dirname);

/** Settings: ${n.envPrefix}_ENDPOINT, ${n.envPrefix}_API_KEY (or ${n.envPrefix}_API_KEY_FILE), ${n.envPrefix}_TIMEOUT_MS. */
const config = z.object({
  endpoint: z.url(),
  apiKey: secret(),
  timeoutMs: z.coerce.number().int().positive().default(5000),
});

/** Sends \`{to, text}\` to the provider's \`POST /messages\`. Adapt the request and the answers to your provider. */
export const ${n.camel}Plugin = defineChannelPlugin({
  name: '${n.name}',
  version: pkg.version,
  sdkVersion: pkg.sdkRange,
  channel: '${n.name}',
  addressKind: 'url',
  /** What a user stores as their ${n.name} address (\`addresses: {'${n.name}': "…"}\`). */
  addressSchema: z.url(),
  /** \`content['${n.name}']\` of a notification. */
  contentSchema: z.object({ text: z.string().min(1).max(4000) }),
  config,
  processor: { concurrency: 50, attempts: 5, backoff: { baseMs: 1000, maxMs: 60_000 } },
  metrics: (m) => ({ deadAddresses: m.counter('dead_addresses_total', 'Addresses the provider reported gone') }),
  async createSender({ config, metrics }) {
    return {
      async send(job) {
        if (job.address.kind !== 'url') throw new InvalidAddressError('not a url address', { reason: 'invalid' });
        if (!job.content.text) throw new PermanentError('content has no text', { code: 'no_text' });
        let res: Response;
        try {
          res = await fetch(\`\${config.endpoint.replace(/\\/$/, '')}/messages\`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: \`Bearer \${config.apiKey}\` },
            body: JSON.stringify({ to: job.address.url, text: job.content.text }),
            signal: AbortSignal.timeout(config.timeoutMs),
          });
        } catch (error) {
          throw new RetryableError(\`provider unreachable: \${(error as Error).message}\`, { cause: error });
        }
        const answer = (await res.json().catch(() => ({}))) as { id?: string; error?: string };
        const code = answer.error ?? String(res.status);
        if (res.ok) return answer.id ? { providerMessageId: answer.id } : {};
        if (res.status === 429)
          throw new ThrottledAddressError('rate limited', parseRetryAfter(res.headers.get('retry-after')) ?? 1000, {
            status: 429,
            code,
          });
        if (res.status === 404 || res.status === 410) {
          metrics.deadAddresses.inc();
          throw new InvalidAddressError(\`address gone: \${code}\`, { status: res.status, code, reason: 'unregistered' });
        }
        if (res.status === 401 || res.status === 403)
          throw new PermanentError(\`credentials refused: \${code}\`, { status: res.status, code, configuration: true });
        if (res.status >= 500) throw new RetryableError(\`provider \${res.status}\`, { status: res.status, code });
        throw new PermanentError(\`provider refused the message: \${code}\`, { status: res.status, code });
      },
      async close() {},
    };
  },
});

export default ${n.camel}Plugin;
`;
}

export function indexTs(n: ScaffoldNames): string {
  return `export { default, ${n.camel}Plugin } from './plugin';\n`;
}

export function fakeTs(n: ScaffoldNames): string {
  return `import { type FakeAnswer, type FakeProvider, startFakeProvider } from '@clarion/plugin-sdk/testing';

export const FAKE_API_KEY = 'fake-api-key-123';

/**
 * A fake of the provider: \`POST /messages\` with the bearer key and \`{to, text}\` answers 200 \`{id}\`;
 * a recipient URL ending in \`/gone\` answers 404; a wrong key 401; no text 400.
 * Make it check what your real provider checks.
 */
export async function startFake${n.pascal}(): Promise<FakeProvider> {
  let next = 0;
  return startFakeProvider((req): FakeAnswer => {
    if (req.method !== 'POST' || req.path !== '/messages') return { status: 404, body: { error: 'not_found' } };
    if (req.headers.authorization !== \`Bearer \${FAKE_API_KEY}\`) return { status: 401, body: { error: 'unauthorized' } };
    const message = req.json as { to?: unknown; text?: unknown } | undefined;
    if (typeof message?.text !== 'string' || typeof message.to !== 'string')
      return { status: 400, body: { error: 'invalid_message' } };
    if (message.to.endsWith('/gone')) return { status: 404, body: { error: 'unknown_recipient' } };
    next += 1;
    return { status: 200, body: { id: \`msg-\${next}\` } };
  });
}
`;
}

export function fakeIndexTs(n: ScaffoldNames): string {
  return `export { FAKE_API_KEY, startFake${n.pascal} } from './fake-${n.name}';\n`;
}

export function testTs(n: ScaffoldNames): string {
  return `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPermanentError, silentLogger } from '@clarion/plugin-sdk';
import { type FakeProvider, makeJob, noopMetricsFactory, runConformanceSuite } from '@clarion/plugin-sdk/testing';
import { ${n.camel}Plugin } from './plugin';
import { FAKE_API_KEY, startFake${n.pascal} } from './testing';

const job = (to: string, text = 'Hello') =>
  makeJob({ plugin: '${n.name}', channel: '${n.name}', address: { kind: 'url', url: to }, content: { text } });

let fake: FakeProvider;
runConformanceSuite({
  plugin: ${n.camel}Plugin,
  setup: async () => {
    fake = await startFake${n.pascal}();
  },
  teardown: async () => fake.close(),
  config: () => ({ endpoint: fake.url, apiKey: FAKE_API_KEY, timeoutMs: 500 }),
  validJob: () => job('https://example.com/ana'),
  invalidAddressJob: () => job('https://example.com/gone'),
  httpFaults: { provider: () => fake, timeoutMs: 500 },
});

test('refused credentials are a configuration error', async () => {
  const provider = await startFake${n.pascal}();
  try {
    const sender = await ${n.camel}Plugin.createSender({
      config: ${n.camel}Plugin.config.parse({ endpoint: provider.url, apiKey: 'wrong-key' }),
      log: silentLogger,
      metrics: ${n.camel}Plugin.metrics!(noopMetricsFactory('${n.name}')),
    });
    await assert.rejects(
      sender.send(job('https://example.com/ana'), { appConfig: undefined, attempt: 1, log: silentLogger }),
      (e: unknown) => isPermanentError(e) && e.configuration,
    );
  } finally {
    await provider.close();
  }
});
`;
}

export function readme(n: ScaffoldNames): string {
  return `# ${n.packageName}

A Clarion channel plugin: the channel \`${n.name}\`.

- Address (kind \`url\`): \`PUT /v1/users/:id\` with \`addresses: {"${n.name}": "…"}\`.
- Content: \`content["${n.name}"] = {text}\`.
- Settings: \`${n.envPrefix}_ENDPOINT\`, \`${n.envPrefix}_API_KEY\` (or \`${n.envPrefix}_API_KEY_FILE\`), \`${n.envPrefix}_TIMEOUT_MS\`.

\`\`\`sh
npm install
npm run build
npm test        # the Clarion conformance kit against the fake provider (needs Redis: TEST_REDIS_URL)
npm publish
\`\`\`

Requires Node >= 22. \`@clarion/plugin-sdk\`, \`zod\` and \`prom-client\` are peer dependencies: the
server's copies are used. Install into a server: \`npm install --prefix /opt/clarion-plugins --omit=dev
--legacy-peer-deps ${n.packageName}\`, then \`CLARION_PLUGINS=${n.packageName}\` and
\`CLARION_PLUGIN_PATH=/opt/clarion-plugins/node_modules\` (see Clarion's docs/plugins.md).
`;
}

export function changelog(n: ScaffoldNames): string {
  return `# ${n.packageName}\n\n## 0.1.0\n\n- First version.\n`;
}

export const gitignore = 'node_modules\ndist\n';
