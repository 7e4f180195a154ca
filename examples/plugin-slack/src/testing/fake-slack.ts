import { type FakeAnswer, type FakeProvider, startFakeProvider } from '@clarion/plugin-sdk/testing';

/**
 * A fake of Slack's incoming webhooks, with Slack's real answers: `ok` (text/plain) for a message
 * with text or blocks, 400 `no_text` / `invalid_payload`, and by the webhook's last path segment:
 * `gone` → 404 `no_service`, `archived` → 410 `channel_is_archived`, `limited` → 429 with
 * `Retry-After: 1` on its first request, `ok` after.
 */
export async function startFakeSlack(): Promise<FakeProvider> {
  const limited = new Set<string>();
  return startFakeProvider((req): FakeAnswer => {
    if (req.method !== 'POST' || !/^\/services\/[^/]+\/[^/]+\/[^/]+$/.test(req.path))
      return { status: 404, body: 'no_service' };
    if (req.headers['content-type'] !== 'application/json') return { status: 400, body: 'invalid_payload' };
    const secret = req.path.split('/').at(-1);
    if (secret === 'gone') return { status: 404, body: 'no_service' };
    if (secret === 'archived') return { status: 410, body: 'channel_is_archived' };
    if (secret === 'limited' && !limited.has(req.path)) {
      limited.add(req.path);
      return { status: 429, headers: { 'retry-after': '1' }, body: 'rate_limited' };
    }
    const message = req.json as { text?: unknown; blocks?: unknown } | undefined;
    if (!message || typeof message !== 'object') return { status: 400, body: 'invalid_payload' };
    if (typeof message.text !== 'string' && !Array.isArray(message.blocks))
      return { status: 400, body: 'no_text' };
    return {
      status: 200,
      headers: { 'content-type': 'text/plain', 'x-slack-req-id': `req-${req.at}` },
      body: 'ok',
    };
  });
}
