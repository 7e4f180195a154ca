import { z } from 'zod';
import { InvalidAddressError, PermanentError, parseRetryAfter, RetryableError } from '../errors';
import type { DeliveryJob } from '../message';
import { defineChannelPlugin } from '../plugin';
import { makeJob, runConformanceSuite } from './conformance';
import { type FakeProvider, startFakeProvider } from './fake-provider';

/**
 * The kit run as a plugin author runs it, on a small HTTP plugin of a new channel (`chat`), with
 * its fake provider's failure helpers: 429 + Retry-After, 5xx, a hang.
 */
const chat = defineChannelPlugin({
  name: 'kit-chat',
  version: '1.0.0',
  sdkVersion: '^0.1.0',
  channel: 'chat',
  addressKind: 'url',
  addressSchema: z.url(),
  contentSchema: z.object({ text: z.string().min(1) }).passthrough(),
  config: z.object({ endpoint: z.url(), timeoutMs: z.number().int().positive().default(5000) }),
  metrics: (m) => ({ posted: m.counter('posted_total', 'Messages the chat provider accepted') }),
  async createSender({ config, metrics }) {
    return {
      async send(job: DeliveryJob) {
        if (job.address.kind !== 'url' || !URL.canParse(job.address.url))
          throw new InvalidAddressError('not a chat URL', { reason: 'invalid' });
        const path = new URL(job.address.url).pathname;
        let res: Response;
        try {
          res = await fetch(`${config.endpoint}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ text: job.content.text }),
            signal: AbortSignal.timeout(config.timeoutMs),
          });
        } catch (error) {
          throw new RetryableError(`chat provider unreachable: ${(error as Error).message}`, {
            cause: error,
          });
        }
        if (res.status === 404) throw new InvalidAddressError('no such channel', { status: 404 });
        if (res.status === 429)
          throw new RetryableError('rate limited', {
            status: 429,
            retryAfterMs: parseRetryAfter(res.headers.get('retry-after')) ?? 1000,
          });
        if (res.status >= 500)
          throw new RetryableError(`chat provider ${res.status}`, { status: res.status });
        if (!res.ok) throw new PermanentError(`chat provider ${res.status}`, { status: res.status });
        metrics.posted.inc();
        return { providerMessageId: ((await res.json()) as { id: string }).id };
      },
      async close() {},
    };
  },
});

let provider: FakeProvider;
runConformanceSuite({
  plugin: chat,
  setup: async () => {
    provider = await startFakeProvider((req) =>
      req.path === '/gone'
        ? { status: 404, body: { error: 'channel_not_found' } }
        : { status: 200, body: { id: 'm1' } },
    );
  },
  teardown: async () => provider.close(),
  config: () => ({ endpoint: provider.url, timeoutMs: 500 }),
  validJob: () =>
    makeJob({
      plugin: 'kit-chat',
      channel: 'chat',
      address: { kind: 'url', url: 'https://chat.example/general' },
      content: { text: 'Hi' },
    }),
  invalidAddressJob: () =>
    makeJob({
      plugin: 'kit-chat',
      channel: 'chat',
      address: { kind: 'url', url: 'https://chat.example/gone' },
      content: { text: 'Hi' },
    }),
  httpFaults: { provider: () => provider, timeoutMs: 500 },
});
