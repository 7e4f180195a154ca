import {
  type DeliveryJob,
  defineChannelPlugin,
  InvalidAddressError,
  PermanentError,
  parseRetryAfter,
  RetryableError,
  readPluginPackage,
  ThrottledAddressError,
} from '@clarion/plugin-sdk';
import { z } from 'zod';

const pkg = readPluginPackage(__dirname);

/** Settings, from CLARION_SLACK_ENDPOINT and CLARION_SLACK_TIMEOUT_MS. */
const config = z.object({
  /** Where webhook requests go: Slack, or a fake in tests (the address's path is kept). */
  endpoint: z.url().default('https://hooks.slack.com'),
  timeoutMs: z.coerce.number().int().positive().default(5000),
});

/** A user's Slack address: the incoming-webhook URL Slack gave them. */
const webhookUrl = z
  .url()
  .regex(/^https:\/\/hooks\.slack\.com\/services\/\S+$/, 'a Slack incoming-webhook URL');

/** `content.slack` of a notification: text (mrkdwn) and optional Block Kit blocks. */
const content = z
  .object({
    text: z.string().min(1).max(40_000),
    blocks: z.array(z.record(z.string(), z.unknown())).max(50).optional(),
  })
  .strict();

/** The text to post: the channel's own content, or (where the plugin serves the webhook channel) its JSON. */
function payload(job: DeliveryJob): { text: string; blocks?: unknown } {
  const { text, json } = job.content;
  const blocks = (job.content as Record<string, unknown>).blocks;
  const body = text ?? (json === undefined ? undefined : JSON.stringify(json));
  if (!body) throw new PermanentError('nothing to post: content has no text', { code: 'no_text' });
  return blocks === undefined ? { text: body } : { text: body, blocks };
}

/** Slack's answers (https://api.slack.com/messaging/webhooks#handling_errors) as the runtime's error classes. */
function classify(status: number, body: string, retryAfter: string | null): Error | undefined {
  if (status === 200) return undefined;
  const code = body.trim().slice(0, 100) || String(status);
  if (status === 429)
    // Slack limits each webhook (about one message a second): only this address waits.
    return new ThrottledAddressError(
      `Slack rate-limited this webhook (${code})`,
      parseRetryAfter(retryAfter) ?? 1000,
      {
        status,
        code,
      },
    );
  if (status === 404 || status === 410 || (status === 403 && code === 'invalid_token'))
    // no_service, channel_not_found, channel_is_archived, a revoked webhook: this address is dead.
    return new InvalidAddressError(`Slack refused the webhook: ${code}`, {
      status,
      code,
      reason: 'unregistered',
    });
  if (status >= 500) return new RetryableError(`Slack answered ${status} (${code})`, { status, code });
  return new PermanentError(`Slack refused the message: ${code}`, { status, code });
}

export const slackPlugin = defineChannelPlugin({
  name: 'slack',
  version: pkg.version,
  sdkVersion: pkg.sdkRange,
  channel: 'slack',
  addressKind: 'url',
  addressSchema: webhookUrl,
  contentSchema: content,
  config,
  // Slack allows about one message a second per webhook; many webhooks go out in parallel.
  processor: { concurrency: 50, attempts: 5, backoff: { baseMs: 1000, maxMs: 60_000 } },
  metrics: (m) => ({
    deadWebhooks: m.counter(
      'dead_webhooks_total',
      'Webhooks Slack reported gone (no_service, archived, revoked)',
    ),
  }),
  async createSender({ config, metrics }) {
    return {
      async send(job) {
        if (job.address.kind !== 'url' || !URL.canParse(job.address.url))
          throw new InvalidAddressError('not a webhook URL', { code: 'invalid_url', reason: 'invalid' });
        const target = new URL(job.address.url);
        const body = JSON.stringify(payload(job));
        let res: Response;
        try {
          res = await fetch(`${config.endpoint.replace(/\/$/, '')}${target.pathname}${target.search}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
            signal: AbortSignal.timeout(config.timeoutMs),
          });
        } catch (error) {
          throw new RetryableError(`Slack unreachable: ${(error as Error).message}`, { cause: error });
        }
        const answer = await res.text().catch(() => '');
        const failure = classify(res.status, answer, res.headers.get('retry-after'));
        if (failure instanceof InvalidAddressError) metrics.deadWebhooks.inc();
        if (failure) throw failure;
        const id = res.headers.get('x-slack-req-id');
        return id ? { providerMessageId: id } : {};
      },
      async close() {},
    };
  },
});

export default slackPlugin;
