import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type DeliveryJob,
  isInvalidAddressError,
  isPermanentError,
  isThrottledAddressError,
  silentLogger,
} from '@clarion/plugin-sdk';
import {
  type FakeProvider,
  makeJob,
  noopMetricsFactory,
  runConformanceSuite,
} from '@clarion/plugin-sdk/testing';
import { slackPlugin } from './plugin';
import { startFakeSlack } from './testing';

const hook = (secret: string) => `https://hooks.slack.com/services/T0001/B0001/${secret}`;
const job = (secret: string, content: DeliveryJob['content'] = { text: 'Deploy finished :rocket:' }) =>
  makeJob({ plugin: 'slack', channel: 'slack', address: { kind: 'url', url: hook(secret) }, content });

let slack: FakeProvider;
runConformanceSuite({
  plugin: slackPlugin,
  setup: async () => {
    slack = await startFakeSlack();
  },
  teardown: async () => slack.close(),
  config: () => ({ endpoint: slack.url, timeoutMs: 500 }),
  validJob: () => job('ok'),
  invalidAddressJob: () => job('gone'),
  httpFaults: { provider: () => slack, timeoutMs: 500 },
});

describe('slack plugin: what Slack answers', () => {
  let fake: FakeProvider;
  let sender: Awaited<ReturnType<typeof slackPlugin.createSender>>;
  const send = (j: DeliveryJob) => sender.send(j, { appConfig: undefined, attempt: 1, log: silentLogger });
  before(async () => {
    fake = await startFakeSlack();
    sender = await slackPlugin.createSender({
      config: slackPlugin.config.parse({ endpoint: fake.url, timeoutMs: 1000 }),
      log: silentLogger,
      metrics: slackPlugin.metrics!(noopMetricsFactory('slack')),
    });
  });
  after(async () => {
    await sender.close();
    await fake.close();
  });

  test('posts the text (and blocks) as JSON to the webhook’s path', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Deployed*' } }];
    await send(job('ok', { text: 'Deployed', ...({ blocks } as object) }));
    const last = fake.requests.at(-1)!;
    assert.equal(last.path, '/services/T0001/B0001/ok');
    assert.deepEqual(last.json, { text: 'Deployed', blocks });
  });

  test('a 429 delays only this webhook, for its Retry-After', async () => {
    await assert.rejects(send(job('limited')), (e: unknown) => {
      assert.ok(isThrottledAddressError(e));
      assert.equal(e.retryAfterMs, 1000);
      return true;
    });
  });

  test('an archived channel disables the address', async () => {
    await assert.rejects(
      send(job('archived')),
      (e: unknown) => isInvalidAddressError(e) && e.code === 'channel_is_archived',
    );
  });

  test('a message without text is refused for good, without calling Slack', async () => {
    const before = fake.requests.length;
    await assert.rejects(send(job('ok', {})), (e: unknown) => isPermanentError(e));
    assert.equal(fake.requests.length, before);
  });

  test('a user can store only a Slack webhook URL', () => {
    assert.ok(slackPlugin.addressSchema!.safeParse(hook('x')).success);
    assert.equal(slackPlugin.addressSchema!.safeParse('https://example.com/hook').success, false);
  });
});
