import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { defineChannelPlugin } from '../plugin';
import { makeJob } from './conformance';
import { noopMetricsFactory } from './noop-metrics';
import { assertRedisReachable } from './redis-check';
import { routingProblems } from './routable';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const base = {
  version: '1.0.0',
  sdkVersion: '^0.1.0',
  config: z.object({}),
  async createSender() {
    return {
      async send() {
        return {};
      },
      async close() {},
    };
  },
};

describe('test kit checks', () => {
  test('without Redis the kit says so within seconds, naming the URL and TEST_REDIS_URL', async () => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    await assert.rejects(assertRedisReachable(url), (error: Error) => {
      assert.match(error.message, new RegExp(`cannot reach ${url}`));
      assert.match(error.message, /TEST_REDIS_URL/);
      return true;
    });
    assert.ok(Date.now() - started < 5000);
  });

  test('a conformance run without Redis ends within seconds with that error (it used to hang)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clarion-kit-'));
    try {
      const file = join(dir, 'no-redis.test.js');
      const sdk = join(__dirname, '..', 'index.js');
      const testing = join(__dirname, 'index.js');
      const zod = require.resolve('zod');
      writeFileSync(
        file,
        `const sdk = require(${JSON.stringify(sdk)});
const { runConformanceSuite, makeJob } = require(${JSON.stringify(testing)});
const { z } = require(${JSON.stringify(zod)});
const plugin = sdk.defineChannelPlugin({ name: 'no-redis', version: '1.0.0', sdkVersion: '^0.1.0', channel: 'chat', addressKind: 'url',
  config: z.object({}), async createSender() { return { async send() { return {}; }, async close() {} }; } });
runConformanceSuite({ plugin, config: () => ({}),
  validJob: () => makeJob({ plugin: 'no-redis', channel: 'chat', address: { kind: 'url', url: 'https://chat.example/x' } }) });
`,
      );
      const started = Date.now();
      const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', file], {
        encoding: 'utf8',
        env: { ...process.env, TEST_REDIS_URL: `redis://127.0.0.1:${await closedPort()}` },
        timeout: 30_000,
      });
      const output = run.stdout + run.stderr;
      assert.notEqual(run.status, 0, output);
      assert.match(
        output,
        /the Clarion plugin test kit needs Redis and cannot reach redis:\/\/127\.0\.0\.1:\d+/,
      );
      assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a new channel with a device address is not routable', () => {
    const plugin = defineChannelPlugin({
      ...base,
      name: 'pager',
      channel: 'pager',
      addressKind: 'device',
      platforms: ['android'],
    });
    const job = makeJob({
      plugin: 'pager',
      channel: 'pager',
      address: { kind: 'device', contactId: 'c', platform: 'android', token: 't' },
    });
    assert.match(routingProblems(plugin, job).join('\n'), /users can store no device address for it/);
  });

  test("a sample address or content the plugin's own schemas refuse is reported", () => {
    const plugin = defineChannelPlugin({
      ...base,
      name: 'slackish',
      channel: 'slackish',
      addressKind: 'url',
      addressSchema: z.url().regex(/^https:\/\/hooks\.slack\.com\//, 'a Slack incoming-webhook URL'),
      contentSchema: z.object({ text: z.string().min(1) }),
    });
    const job = makeJob({
      plugin: 'slackish',
      channel: 'slackish',
      address: { kind: 'url', url: 'https://example.com/x' },
      content: {},
    });
    const problems = routingProblems(plugin, job).join('\n');
    assert.match(
      problems,
      /addressSchema refuses the sample address "https:\/\/example\.com\/x": a Slack incoming-webhook URL/,
    );
    assert.match(problems, /contentSchema refuses the sample content: text:/);
    const good = makeJob({
      plugin: 'slackish',
      channel: 'slackish',
      address: { kind: 'url', url: 'https://hooks.slack.com/services/T/B/x' },
      content: { text: 'hi' },
    });
    assert.deepEqual(routingProblems(plugin, good), []);
  });

  test('the no-op metrics factory gives working metrics that no other test sees', async () => {
    const a = noopMetricsFactory('same').counter('sends_total', 'x');
    const b = noopMetricsFactory('same').counter('sends_total', 'x');
    a.inc();
    assert.equal((await a.get()).values[0]?.value, 1);
    assert.equal((await b.get()).values[0]?.value ?? 0, 0);
  });
});
