import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ClarionClient, createClarionClient, idempotent } from '@clarion/client';
import { waitFor } from '@clarion/testkit';
import { contractFetch } from '../testing/contract-check';
import { type Harness, startHarness } from '../testing/harness';

describe('@clarion/client against a running server', () => {
  let h: Harness;
  let client: ClarionClient;

  before(async () => {
    h = await startHarness({ label: 'client' });
    const app = await h.createApp();
    client = createClarionClient({
      baseUrl: h.url,
      appKey: app.appKey,
      appSecret: app.appSecret,
      idempotencyKeys: true,
      fetch: contractFetch,
    });
  });
  after(() => h.close());

  test('creates a user, sends a notification and reads it back until its delivery is sent', async () => {
    const user = await client.PUT('/v1/users/{userId}', {
      params: { path: { userId: 'client-alice' } },
      body: { webhookUrl: `${h.sandbox.url}/webhook/client-alice` },
    });
    assert.equal(user.response.status, 201);
    assert.equal(user.data?.userId, 'client-alice');
    assert.equal(user.data?.webhookUrl, `${h.sandbox.url}/webhook/client-alice`);

    const sent = await client.POST('/v1/notifications', {
      body: { to: { userId: 'client-alice' }, content: { webhook: { json: { hello: 'typed' } } } },
    });
    assert.equal(sent.response.status, 202, JSON.stringify(sent.error));
    const accepted = sent.data!;
    assert.equal(accepted.status, 'accepted');
    assert.equal(accepted.deliveries, 1);

    const read = await waitFor('the delivery is sent', async () => {
      const { data } = await client.GET('/v1/notifications/{id}', { params: { path: { id: accepted.id } } });
      return data?.deliveries[0]?.status === 'sent' ? data : undefined;
    });
    assert.equal(read.id, accepted.id);
    assert.equal(read.summary.sent, 1);
    assert.equal(read.deliveries[0]!.plugin, 'webhook');
    assert.equal(read.nextCursor, null);
  });

  test('an Idempotency-Key of your own replays the first answer instead of sending again', async () => {
    const body = { to: { userId: 'client-alice' }, content: { webhook: { json: { once: true } } } };
    // The document declares the header, so it is also a typed parameter.
    const first = await client.POST('/v1/notifications', {
      body,
      params: { header: { 'Idempotency-Key': 'client-retry-1' } },
    });
    const again = await client.POST('/v1/notifications', { body, headers: idempotent('client-retry-1') });
    assert.equal(first.response.status, 202);
    assert.equal(again.response.status, 202);
    assert.equal(again.response.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.data!.id, first.data!.id);
    const other = await client.POST('/v1/notifications', {
      body: { ...body, category: 'other' },
      headers: idempotent('client-retry-1'),
    });
    assert.equal(other.response.status, 409);
    assert.equal(other.error?.error.code, 'idempotency_key_reused');
  });

  test('errors come back typed in the documented shape', async () => {
    const { error, response } = await client.POST('/v1/notifications', {
      body: { to: { userId: 'client-alice' }, content: { webhook: { json: {} } }, sendAt: 'tomorrow' },
    });
    assert.equal(response.status, 400);
    assert.equal(error?.error.code, 'invalid_request');
    assert.match(error?.error.message ?? '', /sendAt/);
    assert.ok(error?.error.details !== undefined);
  });

  test('wrong credentials are a typed 401', async () => {
    const stranger = createClarionClient({
      baseUrl: h.url,
      appKey: 'nobody',
      appSecret: 'wrong',
      fetch: contractFetch,
    });
    const { error, response } = await stranger.GET('/v1/notifications/{id}', {
      params: { path: { id: '00000000-0000-4000-8000-000000000000' } },
    });
    assert.equal(response.status, 401);
    assert.equal(typeof error?.error.code, 'string');
  });
});
