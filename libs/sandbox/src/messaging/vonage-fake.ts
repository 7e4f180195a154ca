import { randomBytes } from 'node:crypto';
import { sleep } from '../behaviors';
import type { Fake, FakeContext } from '../fake';
import { SANDBOX_VONAGE } from './credentials';
import { parseBasicAuth, sameSecret } from './http-auth';
import { asGsmOnHandset, isGsmText, smsParts } from './sms-parts';

export interface VonageFakeOptions {
  /** API key → secret. Default: the sandbox key. */
  keys?: Record<string, string>;
}

/** Vonage SMS API status codes and their `error-text` (developer.vonage.com/messaging/sms/guides/troubleshooting-sms). */
export const VONAGE_STATUS: Record<string, string> = {
  '1': 'Throttled',
  '2': 'Missing Parameters',
  '3': 'Invalid Parameters',
  '4': 'Invalid Credentials',
  '5': 'Internal Error',
  '6': 'Invalid Message',
  '7': 'Number Barred',
  '8': 'Partner Account Barred',
  '9': 'Partner Quota Violation',
  '11': 'Account Not Enabled For HTTP',
  '12': 'Message Too Long',
  '15': 'Invalid Sender Address',
  '22': 'Invalid Network Code',
  '29': 'Non-Whitelisted Destination',
  '33': 'Number De-activated',
};
const ALIASES: Record<string, string> = { rate_limit: '1', server_error: '5', unavailable: '5' };
const MAX_TEXT = 3200;

type Params = Record<string, unknown>;
const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;

/**
 * Fake Vonage SMS API: `POST /sms/json` (JSON or form body, kebab-case keys), Basic auth or
 * `api_key`/`api_secret` in the body. Like Vonage, every answer about the message itself is an
 * HTTP 200 whose `messages[].status` is not "0" on failure; a long text is split into one
 * message per part. Text with characters outside GSM-7 sent without `type=unicode` is recorded
 * as the handset would show it (`?` in place of those characters). Rules key on `to` (digits,
 * no `+`); `fail` takes a status code (`1`, `7`, `29`…), `rate_limit`, `server_error`, or a
 * 3-digit HTTP status for an outage in front of the API.
 */
export function vonageFake(options: VonageFakeOptions = {}): Fake {
  const keys = options.keys ?? { [SANDBOX_VONAGE.apiKey]: SANDBOX_VONAGE.apiSecret };
  let base = '';
  const failure = (status: string, to?: string, text?: string) => ({
    'message-count': '1',
    messages: [{ ...(to ? { to } : {}), status, 'error-text': text ?? VONAGE_STATUS[status] ?? 'Error' }],
  });

  return {
    name: 'vonage',
    channel: 'sms',
    register(ctx: FakeContext) {
      ctx.http.post<{ Body: Params | undefined }>('/sms/json', async (request, reply) => {
        const body: Params = request.body ?? {};
        const basic = parseBasicAuth(request.headers.authorization);
        const apiKey = basic?.user ?? str(body.api_key);
        const apiSecret = basic?.pass ?? str(body.api_secret);
        if (!apiKey || !apiSecret) return reply.send(failure('2', undefined, 'Missing api_key'));
        if (!sameSecret(apiSecret, keys[apiKey] ?? ''))
          return reply.send(failure('4', undefined, 'Bad Credentials'));

        const to = str(body.to);
        const from = str(body.from);
        const type = str(body.type) ?? 'text';
        const text = str(body.text) ?? '';
        const clientRef = str(body['client-ref']);
        if (!to) return reply.send(failure('2', undefined, 'Missing to param'));
        const rule = ctx.behaviors.take('vonage', to);
        if (rule?.delayMs) await sleep(rule.delayMs);
        if (rule?.drop) {
          request.raw.socket.destroy();
          return reply;
        }
        const unicode = type === 'unicode';
        const shown = unicode || isGsmText(text) ? text : asGsmOnHandset(text);
        const parts = unicode ? smsParts(text).parts : smsParts(shown).parts;
        const record = (outcome: string, providerMessageId?: string) =>
          ctx.recorder.add({
            provider: 'vonage',
            channel: 'sms',
            to,
            payload: { text: shown, from: from ?? null, type, parts, clientRef: clientRef ?? null },
            outcome,
            ...(providerMessageId ? { providerMessageId } : {}),
          });

        if (!from) {
          record('vonage_2');
          return reply.send(failure('2', to, 'Missing from param'));
        }
        if (!text) {
          record('vonage_2');
          return reply.send(failure('2', to, 'Missing text param'));
        }
        // Vonage wants international format without `+` or leading zeros.
        if (!/^[1-9]\d{6,14}$/.test(to)) {
          record('vonage_3');
          return reply.send(failure('3', to, 'Invalid to number'));
        }
        if (text.length > MAX_TEXT) {
          record('vonage_12');
          return reply.send(failure('12', to));
        }
        const fail = rule?.fail ? (ALIASES[rule.fail] ?? rule.fail) : undefined;
        if (fail && /^\d{3}$/.test(fail)) {
          record(`http_${fail}`);
          if (rule?.retryAfterSeconds !== undefined)
            reply.header('retry-after', String(rule.retryAfterSeconds));
          return reply.code(Number(fail)).type('text/plain').send(`sandbox told to answer ${fail}`);
        }
        if (fail) {
          record(`vonage_${fail}`);
          return reply.send(failure(fail, to));
        }
        const messages = Array.from({ length: Math.max(1, parts) }, () => ({
          to,
          'message-id': randomBytes(8).toString('hex').toUpperCase(),
          status: '0',
          'remaining-balance': '10.00000000',
          'message-price': '0.03330000',
          network: '23410',
          ...(clientRef ? { 'client-ref': clientRef } : {}),
        }));
        record('accepted', messages[0]!['message-id']);
        return reply.send({ 'message-count': String(messages.length), messages });
      });
    },
    async start(ctx) {
      base = ctx.baseUrl();
    },
    pluginConfig: () => ({
      apiKey: SANDBOX_VONAGE.apiKey,
      apiSecret: SANDBOX_VONAGE.apiSecret,
      from: 'Clarion',
      restHost: base,
    }),
  };
}
