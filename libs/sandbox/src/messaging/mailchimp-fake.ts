import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sleep } from '../behaviors';
import type { Fake, FakeContext } from '../fake';
import { SANDBOX_MAILCHIMP } from './credentials';
import { isEmailAddress } from './email-address';

export interface MailchimpFakeOptions {
  apiKeys?: string[];
}

interface MandrillRecipient {
  email?: string;
  name?: string;
  type?: 'to' | 'cc' | 'bcc';
}
interface MandrillMessage {
  html?: string;
  text?: string;
  subject?: string;
  from_email?: string;
  from_name?: string;
  to?: MandrillRecipient[];
  headers?: Record<string, string>;
  tags?: string[];
  metadata?: Record<string, string>;
}
interface SendBody {
  key?: string;
  message?: MandrillMessage;
}

/** Mandrill's named API errors (mailchimp.com/developer/transactional/api/messages/send-new-message). */
const NAMED_ERRORS: Record<string, { code: number; message: string }> = {
  Invalid_Key: { code: -1, message: 'Invalid API key' },
  ValidationError: { code: -2, message: 'Validation error' },
  GeneralError: {
    code: -1,
    message: 'An unexpected error occurred processing the request. Mandrill developers will be notified.',
  },
  PaymentRequired: { code: -1, message: 'The requested feature requires payment.' },
  Unknown_Subaccount: { code: 12, message: 'The provided subaccount id does not exist.' },
  ServiceUnavailable: { code: -1, message: 'Service temporarily unavailable' },
};
/** `reject_reason` values Mandrill reports for a rejected recipient. */
const REJECT_REASONS = new Set([
  'hard-bounce',
  'soft-bounce',
  'spam',
  'unsub',
  'custom',
  'invalid-sender',
  'invalid',
  'test-mode-limit',
  'unsigned',
  'rule',
]);

/**
 * Fake Mailchimp Transactional (Mandrill) `POST /api/1.3/messages/send` (also with the `.json`
 * suffix the client adds when an output format is set): the API key travels in the body as
 * `key`. Errors are Mandrill's `{status:"error", code, name, message}` with HTTP 500 (its
 * documented convention for every API error); success is an array with one
 * `{email, status, reject_reason, _id}` per recipient. Rules key on the recipient; `fail` takes
 * a reject reason (`hard-bounce`, `unsub`, `soft-bounce`…) or `invalid` for that recipient's
 * status, `queued`, an error name (`Invalid_Key`, `GeneralError`, `PaymentRequired`…), or
 * `rate_limit` (HTTP 429).
 */
export function mailchimpFake(options: MailchimpFakeOptions = {}): Fake {
  const apiKeys = new Set(options.apiKeys ?? [SANDBOX_MAILCHIMP.apiKey]);
  let base = '';

  const named = (reply: FastifyReply, name: string, detail?: string) => {
    const e = NAMED_ERRORS[name] ?? { code: -1, message: name };
    return reply.code(500).send({ status: 'error', code: e.code, name, message: detail ?? e.message });
  };

  const handle =
    (ctx: FakeContext) =>
    async (request: FastifyRequest<{ Body: SendBody | undefined }>, reply: FastifyReply) => {
      const body = request.body ?? {};
      if (typeof body.key !== 'string' || !apiKeys.has(body.key)) return named(reply, 'Invalid_Key');
      const message = body.message;
      if (!message || typeof message !== 'object')
        return named(reply, 'ValidationError', 'Validation error: {"message":"Please enter an array"}');
      const to = Array.isArray(message.to) ? message.to : [];
      if (to.length === 0)
        return named(
          reply,
          'ValidationError',
          'Validation error: {"message":{"to":"Please enter an array"}}',
        );
      if (message.from_email !== undefined && !isEmailAddress(message.from_email)) {
        return named(
          reply,
          'ValidationError',
          'Validation error: {"message":{"from_email":"An email address must contain a single @"}}',
        );
      }
      if (!message.html && !message.text)
        return named(
          reply,
          'ValidationError',
          'Validation error: {"message":{"html":"html or text is required"}}',
        );

      const rules = to.map((r) => (r.email ? ctx.behaviors.take('mailchimp', r.email) : undefined));
      const delay = Math.max(0, ...rules.map((r) => r?.delayMs ?? 0));
      if (delay) await sleep(delay);
      if (rules.some((r) => r?.drop)) {
        request.raw.socket.destroy();
        return reply;
      }
      const requestFailure = rules.find(
        (r) => r?.fail && (NAMED_ERRORS[r.fail] || r.fail === 'rate_limit' || /^\d{3}$/.test(r.fail)),
      );
      if (requestFailure?.fail === 'rate_limit' || requestFailure?.fail === '429') {
        if (requestFailure.retryAfterSeconds !== undefined)
          reply.header('retry-after', String(requestFailure.retryAfterSeconds));
        return reply
          .code(429)
          .send({ status: 'error', code: -1, name: 'Too_Many_Requests', message: 'Too many requests' });
      }
      if (requestFailure?.fail && /^\d{3}$/.test(requestFailure.fail)) {
        return reply
          .code(Number(requestFailure.fail))
          .type('text/html')
          .send(`<html><body>${requestFailure.fail}</body></html>`);
      }
      if (requestFailure?.fail) return named(reply, requestFailure.fail);

      const results = to.map((recipient, i) => {
        const id = randomBytes(16).toString('hex');
        const email = recipient.email ?? '';
        const fail = rules[i]?.fail;
        let status: string = 'sent';
        let rejectReason: string | null = null;
        if (!isEmailAddress(email) || fail === 'invalid') status = 'invalid';
        else if (fail === 'queued') status = 'queued';
        else if (fail && REJECT_REASONS.has(fail)) {
          status = 'rejected';
          rejectReason = fail;
        }
        ctx.recorder.add({
          provider: 'mailchimp',
          channel: 'email',
          to: email,
          payload: {
            subject: message.subject ?? null,
            text: message.text ?? null,
            html: message.html ?? null,
            from: message.from_email ?? null,
            headers: message.headers ?? {},
            tags: message.tags ?? [],
            metadata: message.metadata ?? {},
          },
          outcome:
            status === 'sent' || status === 'queued'
              ? 'accepted'
              : rejectReason
                ? `rejected_${rejectReason}`
                : status,
          providerMessageId: id,
        });
        return {
          email,
          status,
          reject_reason: rejectReason,
          queued_reason: status === 'queued' ? 'attachments' : null,
          _id: id,
        };
      });
      return reply.code(200).send(results);
    };

  return {
    name: 'mailchimp',
    channel: 'email',
    register(ctx: FakeContext) {
      ctx.http.post('/api/1.3/messages/send', handle(ctx));
      ctx.http.post('/api/1.3/messages/send.json', handle(ctx));
    },
    async start(ctx) {
      base = ctx.baseUrl();
    },
    pluginConfig: () => ({
      apiKey: SANDBOX_MAILCHIMP.apiKey,
      from: 'clarion@sandbox.test',
      baseUrl: `${base}/api/1.3`,
    }),
  };
}
