import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { countRows } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { RENDERED_LIMITS } from './rendered-limits';

const TABLES = ['notifications', 'deliveries', 'event_ids'];

/**
 * Rendered output is capped per channel and per delivery. Before, `{{ data.x }}` 50 times over a
 * 1 MB value made a 50 MB webhook POST (stored in PostgreSQL and Redis too), and an SMS rendered
 * to 200,000 characters reached the provider.
 */
describe('rendered content over its channel’s limit is refused at accept, or suppressed in a fan-out', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'renderedlimits' });
    app = await h.createApp({ webhookUrl: `${h.sandbox.url}/webhook/rendered` });
    assert.equal(
      (
        await app.call('/v1/users/u', {
          method: 'PUT',
          body: { email: 'u@example.com', phone: '+14155550100' },
        })
      ).status,
      201,
    );
  });
  after(() => h.close());

  const refused = async (body: unknown, field: string) => {
    const before = await countRows(h.db.url, TABLES);
    const res = await app.call('/v1/notifications', { body });
    assert.equal(res.status, 422, await res.clone().text());
    const answer = await json<{ error: { code: string; message: string; details: { field: string } } }>(res);
    assert.equal(answer.error.code, 'content_too_large');
    assert.equal(answer.error.details.field, field);
    assert.deepEqual(await countRows(h.db.url, TABLES), before, 'nothing stored');
    return answer.error.message;
  };

  test('an SMS rendered past 1,600 characters', async () => {
    const message = await refused(
      {
        to: { userId: 'u' },
        data: { x: 'y'.repeat(200) },
        content: { sms: { text: '{{ data.x }}'.repeat(10) } },
      },
      'content.sms.text',
    );
    assert.ok(
      message.endsWith(`2000 characters, over the ${RENDERED_LIMITS.smsChars}-character limit`),
      message,
    );
  });

  test('a webhook body rendered past its limit', async () => {
    const x = 'y'.repeat(60_000);
    const json = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, '{{ data.x }}']));
    await refused(
      { to: { userId: 'u' }, data: { x }, content: { webhook: { json } } },
      'content.webhook.json',
    );
  });

  test('an e-mail body that would render to 50 × 60 KB stops at the output cap', async () => {
    await refused(
      {
        to: { userId: 'u' },
        data: { x: 'y'.repeat(60_000) },
        content: { email: { subject: 's', html: '{{ data.x }}'.repeat(50) } },
      },
      'content.email.html',
    );
  });

  test('a fan-out whose own content is too large is refused at accept', async () => {
    assert.equal((await app.call('/v1/users/u/topics/big', { method: 'PUT' })).status, 204);
    await refused(
      {
        to: { topic: 'big' },
        data: { x: 'y'.repeat(200) },
        content: { sms: { text: '{{ data.x }}'.repeat(10) } },
      },
      'content.sms.text',
    );
  });

  test('in a fan-out, a user whose attributes make it too large is suppressed with the reason; the others get theirs', async () => {
    const bio = 'b'.repeat(60_000);
    assert.equal(
      (await app.call('/v1/users/wordy', { method: 'PUT', body: { attributes: { bio } } })).status,
      201,
    );
    assert.equal(
      (await app.call('/v1/users/u', { method: 'PUT', body: { attributes: { bio: 'short' } } })).status,
      200,
    );
    for (const id of ['u', 'wordy'])
      assert.equal((await app.call(`/v1/users/${id}/topics/bios`, { method: 'PUT' })).status, 204);
    const json5 = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, '{{ user.bio }}']));
    const res = await app.call('/v1/notifications', {
      body: { to: { topic: 'bios' }, content: { webhook: { json: json5 } } },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const { id } = await json<{ id: string }>(res);
    const view = await waitFor('fan-out planned', async () => {
      const n = await json<{
        status: string;
        deliveries: { userId: string; status: string; reason: string | null }[];
      }>(await app.call(`/v1/notifications/${id}`));
      return n.status !== 'fanout' && n.deliveries.length === 2 ? n : undefined;
    });
    const wordy = view.deliveries.find((d) => d.userId === 'wordy');
    assert.equal(wordy?.status, 'suppressed');
    assert.equal(wordy?.reason, 'content_too_large');
    assert.notEqual(view.deliveries.find((d) => d.userId === 'u')?.status, 'suppressed');
  });
});
