import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

/**
 * The writes a product team retries after a timeout, each sent twice with one Idempotency-Key:
 * the second answer is the first one replayed, and the write happened once.
 */
describe('a retried write with the same Idempotency-Key acts once', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'idemwrites', role: 'api' });
    app = await h.createApp();
  });
  after(() => h.close());

  const twice = async (send: () => Promise<Response>) => {
    const first = await send();
    const again = await send();
    assert.equal(again.status, first.status);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const [a, b] = [await json(first), await json(again)];
    assert.deepEqual(b, a, 'the first answer, replayed');
    return { status: first.status, body: a };
  };

  test('POST /v1/webhooks registers one webhook', async () => {
    const headers = { 'idempotency-key': 'hook-1' };
    const { status } = await twice(() =>
      app.call('/v1/webhooks', {
        body: { url: 'https://example.com/status', events: ['delivered'] },
        headers,
      }),
    );
    assert.equal(status, 201);
    const list = await json<{ webhooks: unknown[] }>(await app.call('/v1/webhooks'));
    assert.equal(list.webhooks.length, 1);
  });

  test('POST /admin/apps/:id/keys creates one key', async () => {
    const keys = async () =>
      (await json<{ keys: unknown[] }>(await h.admin(`/admin/apps/${app.id}/keys`))).keys.length;
    const before = await keys();
    const { status } = await twice(() =>
      h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
        headers: { 'idempotency-key': 'key-1' },
      }),
    );
    assert.equal(status, 201);
    assert.equal(await keys(), before + 1);
  });

  test('PUT /v1/templates/:key publishes one version', async () => {
    const { status, body } = await twice(() =>
      app.call('/v1/templates/welcome', {
        method: 'PUT',
        body: { content: { webhook: { json: { hello: '{{ user.id }}' } } } },
        headers: { 'idempotency-key': 'tpl-1' },
      }),
    );
    assert.equal(status, 201);
    assert.equal(body.version, 1);
    const latest = await json<{ version: number }>(await app.call('/v1/templates/welcome'));
    assert.equal(latest.version, 1, 'no second version');
  });
});
