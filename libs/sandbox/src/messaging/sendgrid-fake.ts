import { randomBytes } from 'node:crypto';
import { sleep } from '../behaviors';
import type { Fake, FakeContext } from '../fake';
import { SANDBOX_SENDGRID } from './credentials';
import {
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  type SendgridEvent,
  SendgridEventSigner,
  sendgridEvent,
} from './sendgrid-events';
import { type SendgridMailBody, validateSendgridMail } from './sendgrid-validation';

export interface SendgridFakeOptions {
  /** API keys accepted; default the sandbox key. */
  apiKeys?: string[];
  /** Where to post signed event webhooks (processed, delivered, bounce…); none when unset. */
  eventWebhookUrl?: string;
}

export interface SendgridFake extends Fake {
  /** Base64 DER public key of the event webhook signature (as SendGrid's settings page shows it). */
  readonly eventPublicKey: string;
  setEventWebhookUrl(url: string | undefined): void;
  /** Signs a body with this account's event key at any timestamp (Unix seconds): replayed or forged batches in tests. */
  signEvents(timestamp: string, body: string): string;
  /** Event batches posted so far, with the receiver's HTTP status (0 = unreachable). */
  readonly eventPosts: { events: SendgridEvent[]; answered: number }[];
}

const errorBody = (message: string, field: string | null = null) => ({
  errors: [{ message, field, help: null }],
});
const stringMap = (v: Record<string, unknown> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(v ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));

/**
 * Fake SendGrid v3 Mail Send: `POST /v3/mail/send` with `Authorization: Bearer <key>`, the body
 * checks SendGrid makes (personalizations, ≤ 1,000 recipients, from, subject, content order,
 * reserved headers, custom_args size) answered with its `{errors:[…]}` 400 shape, `202` with an
 * empty body and `X-Message-Id`, and `429` with `X-RateLimit-*` headers. Accepted mail is
 * recorded once per recipient; events are posted signed with ECDSA to the event webhook URL.
 * Rules key on any recipient's address; `fail` takes `rate_limit`/`429`, an HTTP status
 * (`400`, `401`, `403`, `500`, `503`), or `bounce`/`dropped` (accepted, then that event).
 */
export function sendgridFake(options: SendgridFakeOptions = {}): SendgridFake {
  const apiKeys = new Set(options.apiKeys ?? [SANDBOX_SENDGRID.apiKey]);
  const signer = new SendgridEventSigner();
  let eventWebhookUrl = options.eventWebhookUrl;
  const eventPosts: { events: SendgridEvent[]; answered: number }[] = [];
  let base = '';

  async function postEvents(events: SendgridEvent[]): Promise<void> {
    const url = eventWebhookUrl;
    if (!url || events.length === 0) return;
    const body = JSON.stringify(events);
    const timestamp = String(Math.floor(Date.now() / 1000));
    let answered = 0;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SENDGRID_SIGNATURE_HEADER]: signer.sign(timestamp, body),
          [SENDGRID_TIMESTAMP_HEADER]: timestamp,
        },
        body,
        signal: AbortSignal.timeout(5000),
      });
      answered = res.status;
      await res.arrayBuffer();
    } catch {
      answered = 0;
    }
    eventPosts.push({ events, answered });
  }

  return {
    name: 'sendgrid',
    channel: 'email',
    eventPublicKey: signer.publicKeyBase64,
    eventPosts,
    setEventWebhookUrl(url) {
      eventWebhookUrl = url;
    },
    signEvents: (timestamp, body) => signer.sign(timestamp, body),
    register(ctx: FakeContext) {
      ctx.http.get('/v3/user/webhooks/event/settings/signed', async (request, reply) => {
        const auth = request.headers.authorization;
        if (!auth?.startsWith('Bearer ') || !apiKeys.has(auth.slice(7)))
          return reply.code(401).send(errorBody('authorization required'));
        return { enabled: true, public_key: signer.publicKeyBase64 };
      });

      ctx.http.post<{ Body: SendgridMailBody | undefined }>('/v3/mail/send', async (request, reply) => {
        const auth = request.headers.authorization;
        if (!auth?.startsWith('Bearer ') || !apiKeys.has(auth.slice(7))) {
          return reply
            .code(401)
            .send(errorBody('The provided authorization grant is invalid, expired, or revoked'));
        }
        const body = request.body;
        const problems = validateSendgridMail(body);
        if (problems.length > 0 || !body) return reply.code(400).send({ errors: problems });

        const personalizations = body.personalizations ?? [];
        const recipients = personalizations.flatMap((p, index) =>
          [...(p.to ?? []), ...(p.cc ?? []), ...(p.bcc ?? [])].map((a) => ({
            email: a.email,
            personalization: p,
            index,
          })),
        );
        // The first recipient with a rule decides the request's fate (a request succeeds or fails as a whole).
        let rule: ReturnType<typeof ctx.behaviors.take>;
        for (const r of recipients) {
          rule = ctx.behaviors.take('sendgrid', r.email);
          if (rule) break;
        }
        if (rule?.delayMs) await sleep(rule.delayMs);
        if (rule?.drop) {
          request.raw.socket.destroy();
          return reply;
        }
        const fail = rule?.fail === 'rate_limit' ? '429' : rule?.fail === 'server_error' ? '500' : rule?.fail;
        const text = body.content?.find((c) => c.type === 'text/plain')?.value ?? null;
        const html = body.content?.find((c) => c.type === 'text/html')?.value ?? null;
        const categories = (body.categories ?? []).filter((c): c is string => typeof c === 'string');
        const record = (outcome: string, messageId?: string) => {
          for (const r of recipients) {
            ctx.recorder.add({
              provider: 'sendgrid',
              channel: 'email',
              to: r.email,
              payload: {
                subject: r.personalization.subject ?? body.subject ?? null,
                text,
                html,
                from: body.from?.email ?? null,
                replyTo: body.reply_to?.email ?? null,
                headers: { ...stringMap(body.headers), ...stringMap(r.personalization.headers) },
                customArgs: { ...stringMap(body.custom_args), ...stringMap(r.personalization.custom_args) },
                categories,
              },
              outcome,
              ...(messageId ? { providerMessageId: messageId } : {}),
            });
          }
        };

        if (fail === '429') {
          record('http_429');
          const reset = Math.floor(Date.now() / 1000) + (rule?.retryAfterSeconds ?? 1);
          return reply
            .code(429)
            .header('x-ratelimit-limit', '600')
            .header('x-ratelimit-remaining', '0')
            .header('x-ratelimit-reset', String(reset))
            .send(errorBody('too many requests'));
        }
        if (fail && /^\d{3}$/.test(fail)) {
          record(`http_${fail}`);
          const status = Number(fail);
          const message =
            status === 401
              ? 'The provided authorization grant is invalid, expired, or revoked'
              : status === 403
                ? 'access forbidden'
                : status === 400
                  ? 'Bad Request'
                  : 'Internal server error';
          if (rule?.retryAfterSeconds !== undefined)
            reply.header('retry-after', String(rule.retryAfterSeconds));
          return reply.code(status).send(errorBody(message));
        }

        const messageId = randomBytes(16).toString('base64url').slice(0, 22);
        record(fail === 'bounce' || fail === 'dropped' ? `accepted_then_${fail}` : 'accepted', messageId);
        // Events only where a webhook will receive them: a campaign bench sends 100,000 mails with
        // none set, and building theirs (two random ids each) was a tenth of the fakes' CPU.
        if (eventWebhookUrl) {
          const events = recipients.flatMap((r) => {
            const args = { ...stringMap(body.custom_args), ...stringMap(r.personalization.custom_args) };
            const processed = sendgridEvent('processed', r.email, messageId, args, categories);
            if (fail === 'dropped')
              return [
                sendgridEvent('dropped', r.email, messageId, args, categories, { reason: 'Bounced Address' }),
              ];
            if (fail === 'bounce') {
              return [
                processed,
                sendgridEvent('bounce', r.email, messageId, args, categories, {
                  reason: '550 5.1.1 The email account that you tried to reach does not exist',
                  status: '5.1.1',
                  type: 'bounce',
                }),
              ];
            }
            return [
              processed,
              sendgridEvent('delivered', r.email, messageId, args, categories, { response: '250 OK' }),
            ];
          });
          setImmediate(() => void postEvents(events));
        }
        return reply.code(202).header('x-message-id', messageId).send();
      });
    },
    async start(ctx) {
      base = ctx.baseUrl();
    },
    pluginConfig: () => ({
      apiKey: SANDBOX_SENDGRID.apiKey,
      from: 'clarion@sandbox.test',
      baseUrl: `${base}/`,
    }),
  };
}
