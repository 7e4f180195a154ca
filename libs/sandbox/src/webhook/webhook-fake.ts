import { createHmac, timingSafeEqual } from 'node:crypto';
import { sleep } from '../behaviors';
import type { Fake, FakeContext } from '../fake';

/** Header Clarion's webhook plugin signs with: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'clarion-signature';

export function verifyWebhookSignature(
  header: string | undefined,
  body: string,
  secret: string,
  toleranceSeconds = 300,
  now = Date.now(),
): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((kv) => kv.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isFinite(t) || Math.abs(now / 1000 - t) > toleranceSeconds || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A webhook receiver at `POST /webhook/<name>`: checks the signature like a careful product
 * would (401 when it is wrong or stale), records the JSON, and obeys behaviour rules
 * (`fail: "500"`, `"404"`, delays, dropped connections) keyed by `<name>`.
 */
export function webhookFake(options: { secret: string }): Fake {
  return {
    name: 'webhook',
    channel: 'webhook',
    register(ctx: FakeContext) {
      ctx.http.post<{ Params: { name: string } }>('/webhook/:name', async (request, reply) => {
        const name = request.params.name;
        const raw = request.rawBody ?? '';
        const rule = ctx.behaviors.take('webhook', name);
        if (rule?.delayMs) await sleep(rule.delayMs);
        if (request.raw.socket.destroyed) {
          // The sender went away before we answered (killed worker): like a provider that never
          // finished the request, this is not a delivery.
          ctx.recorder.add({
            provider: 'webhook',
            channel: 'webhook',
            to: name,
            payload: request.body ?? raw,
            outcome: 'aborted',
          });
          return reply;
        }
        if (rule?.drop) {
          request.raw.socket.destroy();
          return reply;
        }
        const signature = request.headers[WEBHOOK_SIGNATURE_HEADER];
        const signed = verifyWebhookSignature(
          typeof signature === 'string' ? signature : undefined,
          raw,
          options.secret,
        );
        const payload = request.body ?? raw;
        const outcome = !signed ? 'bad_signature' : rule?.fail ? `http_${rule.fail}` : 'accepted';
        ctx.recorder.add({
          provider: 'webhook',
          channel: 'webhook',
          to: name,
          payload,
          outcome,
          headers: { 'content-type': String(request.headers['content-type'] ?? '') },
        });
        if (!signed) return reply.code(401).send({ error: 'bad signature' });
        if (rule?.fail) {
          const status = Number(rule.fail) || 500;
          if (rule.retryAfterSeconds !== undefined)
            reply.header('retry-after', String(rule.retryAfterSeconds));
          return reply.code(status).send({ error: `sandbox told to answer ${status}` });
        }
        return reply.code(200).send({ ok: true });
      });
    },
    pluginConfig: () => ({ secret: options.secret }),
  };
}
