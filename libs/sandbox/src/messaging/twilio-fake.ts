import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { sleep } from '../behaviors';
import type { Fake, FakeContext } from '../fake';
import { SANDBOX_TWILIO } from './credentials';
import { parseBasicAuth, sameSecret } from './http-auth';
import { smsParts } from './sms-parts';
import {
  TWILIO_ALIASES,
  TWILIO_API_ERRORS,
  TWILIO_DELIVERY_ERRORS,
  twilioErrorBody,
  twilioProblemBody,
} from './twilio-errors';
import { twilioSignature } from './twilio-signature';

export interface TwilioFakeOptions {
  /** Account SID → auth token. Default: the sandbox test account. */
  accounts?: Record<string, string>;
  /** API key SID → secret and the account it belongs to. */
  apiKeys?: Record<string, { secret: string; accountSid: string }>;
  /** Pause before each status callback, so a test can watch the order. */
  callbackDelayMs?: number;
}

export interface StatusCallbackRecord {
  url: string;
  params: Record<string, string>;
  signature: string;
  /** HTTP status the callback receiver answered, or 0 when it was unreachable. */
  answered: number;
}

export interface TwilioFake extends Fake {
  /** Status callbacks posted so far, oldest first. */
  readonly callbacks: StatusCallbackRecord[];
}

const sid = (prefix: string) => prefix + randomBytes(16).toString('hex');
const E164 = /^\+[1-9]\d{1,14}$/;
const MAX_BODY = 1600;

type Form = Record<string, string | string[] | undefined>;
const field = (form: Form, key: string): string | undefined => {
  const v = form[key];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Fake Twilio Programmable Messaging: `POST /2010-04-01/Accounts/{sid}/Messages.json`, form body,
 * Basic auth with the account SID and auth token (or an API key SID and secret), Twilio's JSON
 * errors, and signed status callbacks (`sent` then `delivered`, or `undelivered`/`failed` with
 * `ErrorCode`) to the `StatusCallback` URL. Behaviour rules key on the `To` number; `fail` takes
 * a Twilio code (`21211`, `21610`, `20429`, `30003`…), `rfc9457:<code>` for the problem-details
 * error form, or `rate_limit` / `server_error`.
 */
export function twilioFake(options: TwilioFakeOptions = {}): TwilioFake {
  const accounts = options.accounts ?? { [SANDBOX_TWILIO.accountSid]: SANDBOX_TWILIO.authToken };
  const apiKeys = options.apiKeys ?? {
    [SANDBOX_TWILIO.apiKeySid]: {
      secret: SANDBOX_TWILIO.apiKeySecret,
      accountSid: SANDBOX_TWILIO.accountSid,
    },
  };
  const callbacks: StatusCallbackRecord[] = [];
  let base = '';
  let closing = false;

  const authorised = (accountSid: string, header: string | undefined): boolean => {
    const auth = parseBasicAuth(header);
    if (!auth) return false;
    if (auth.user.startsWith('AC'))
      return auth.user === accountSid && sameSecret(auth.pass, accounts[accountSid] ?? '');
    const key = apiKeys[auth.user];
    return key !== undefined && key.accountSid === accountSid && sameSecret(auth.pass, key.secret);
  };

  const sendError = (reply: FastifyReply, code: string, detail?: string, retryAfterSeconds?: number) => {
    const { status, body } = twilioErrorBody(code, detail);
    if (retryAfterSeconds !== undefined) reply.header('retry-after', String(retryAfterSeconds));
    return reply.code(status).send(body);
  };

  async function postCallbacks(
    url: string,
    authToken: string,
    message: Record<string, unknown>,
    failCode?: string,
  ) {
    const statuses: { status: string; error?: string }[] = failCode
      ? [{ status: 'sent' }, { status: TWILIO_DELIVERY_ERRORS[failCode] ?? 'undelivered', error: failCode }]
      : [{ status: 'sent' }, { status: 'delivered' }];
    for (const step of statuses) {
      if (closing) return;
      if (options.callbackDelayMs) await sleep(options.callbackDelayMs);
      const params: Record<string, string> = {
        AccountSid: String(message.account_sid),
        ApiVersion: '2010-04-01',
        From: String(message.from ?? ''),
        MessageSid: String(message.sid),
        MessageStatus: step.status,
        SmsSid: String(message.sid),
        SmsStatus: step.status,
        To: String(message.to),
        ...(message.messaging_service_sid
          ? { MessagingServiceSid: String(message.messaging_service_sid) }
          : {}),
        ...(step.error ? { ErrorCode: step.error } : {}),
      };
      const signature = twilioSignature(authToken, url, params);
      let answered = 0;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': signature,
            'user-agent': 'TwilioProxy/1.1',
          },
          body: new URLSearchParams(params).toString(),
          signal: AbortSignal.timeout(5000),
        });
        answered = res.status;
        await res.arrayBuffer();
      } catch {
        answered = 0; // Twilio gives up on an unreachable callback URL; so does the fake.
      }
      callbacks.push({ url, params, signature, answered });
    }
  }

  return {
    name: 'twilio',
    channel: 'sms',
    callbacks,
    register(ctx: FakeContext) {
      ctx.http.post<{ Params: { sid: string }; Body: Form }>(
        '/2010-04-01/Accounts/:sid/Messages.json',
        async (request, reply) => {
          const accountSid = request.params.sid;
          if (!authorised(accountSid, request.headers.authorization)) return sendError(reply, '20003');
          if (
            !String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
          ) {
            return sendError(reply, '21602', 'expected a form-encoded body');
          }
          const form: Form = request.body ?? {};
          const to = field(form, 'To');
          const from = field(form, 'From');
          const serviceSid = field(form, 'MessagingServiceSid');
          const text = field(form, 'Body') ?? '';
          const mediaUrls = ([] as (string | undefined)[])
            .concat(form.MediaUrl ?? [])
            .filter((u): u is string => !!u);
          const statusCallback = field(form, 'StatusCallback');

          if (!to) return sendError(reply, '21604');
          const rule = ctx.behaviors.take('twilio', to);
          if (rule?.delayMs) await sleep(rule.delayMs);
          if (rule?.drop) {
            request.raw.socket.destroy();
            return reply;
          }
          const record = (outcome: string, providerMessageId?: string) =>
            ctx.recorder.add({
              provider: 'twilio',
              channel: 'sms',
              to,
              payload: {
                text,
                from: from ?? null,
                messagingServiceSid: serviceSid ?? null,
                mediaUrls,
                segments: smsParts(text).parts,
                statusCallback: statusCallback ?? null,
              },
              outcome,
              ...(providerMessageId ? { providerMessageId } : {}),
            });

          // Validation Twilio itself performs, in its order.
          if (!E164.test(to)) {
            record('twilio_21211');
            return sendError(reply, '21211', to);
          }
          if (!from && !serviceSid) {
            record('twilio_21603');
            return sendError(reply, '21603');
          }
          if (!text && mediaUrls.length === 0) {
            record('twilio_21602');
            return sendError(reply, '21602');
          }
          if (text.length > MAX_BODY) {
            record('twilio_21617');
            return sendError(reply, '21617');
          }

          const failName = rule?.fail ? (TWILIO_ALIASES[rule.fail] ?? rule.fail) : undefined;
          if (failName?.startsWith('rfc9457:')) {
            const code = failName.slice('rfc9457:'.length);
            record(`twilio_${code}`);
            const { status, body } = twilioProblemBody(code);
            return reply.code(status).type('application/problem+json').send(body);
          }
          if (failName && TWILIO_API_ERRORS[failName]) {
            record(`twilio_${failName}`);
            return sendError(reply, failName, undefined, rule?.retryAfterSeconds);
          }
          if (failName && /^\d{3}$/.test(failName)) {
            // A bare HTTP status: an outage in front of the API (load balancer), no Twilio JSON.
            record(`http_${failName}`);
            return reply
              .code(Number(failName))
              .type('text/html')
              .send(`<html><body>${failName}</body></html>`);
          }

          const now = new Date().toUTCString();
          const messageSid = sid('SM');
          const message = {
            account_sid: accountSid,
            api_version: '2010-04-01',
            body: text,
            date_created: now,
            date_sent: null,
            date_updated: now,
            direction: 'outbound-api',
            error_code: null,
            error_message: null,
            from: from ?? null,
            messaging_service_sid: serviceSid ?? null,
            num_media: String(mediaUrls.length),
            num_segments: String(smsParts(text).parts),
            price: null,
            price_unit: 'USD',
            sid: messageSid,
            status: from ? 'queued' : 'accepted',
            subresource_uris: {
              media: `/2010-04-01/Accounts/${accountSid}/Messages/${messageSid}/Media.json`,
            },
            to,
            uri: `/2010-04-01/Accounts/${accountSid}/Messages/${messageSid}.json`,
          };
          const deliveryFailure = failName && TWILIO_DELIVERY_ERRORS[failName] ? failName : undefined;
          record(deliveryFailure ? `accepted_then_${failName}` : 'accepted', messageSid);
          if (statusCallback) {
            // After the 201, like Twilio: the initial status is never called back.
            setImmediate(
              () => void postCallbacks(statusCallback, accounts[accountSid] ?? '', message, deliveryFailure),
            );
          }
          return reply.code(201).send(message);
        },
      );
    },
    async start(ctx) {
      base = ctx.baseUrl();
    },
    async stop() {
      closing = true;
    },
    pluginConfig: () => ({
      accountSid: SANDBOX_TWILIO.accountSid,
      authToken: SANDBOX_TWILIO.authToken,
      from: SANDBOX_TWILIO.from,
      baseUrl: base,
    }),
  };
}
