import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signUserToken } from '../auth/user-token';
import { sql } from '../testing/db';
import { json, type TestApp } from '../testing/harness';
import {
  type DeliveryView,
  deliveryOf,
  send,
  startTrackingHarness,
  type TrackingHarness,
} from '../testing/tracking-harness';

describe('click and open tracking, client-reported events, a user’s delivery log', () => {
  let t: TrackingHarness;
  let app: TestApp;
  let plain: TestApp;
  before(async () => {
    t = await startTrackingHarness('clicks');
    app = await t.h.createApp({ trackClicks: true, trackOpens: true });
    plain = await t.h.createApp();
    for (const a of [app, plain]) {
      for (const id of ['ann', 'bob']) {
        const res = await a.call(`/v1/users/${id}`, {
          method: 'PUT',
          body: { email: `${id}@example.com`, webhookUrl: `${t.h.sandbox.url}/webhook/${id}` },
        });
        assert.equal(res.status, 201);
      }
    }
  });
  after(() => t.close());

  const mail = {
    subject: 'Your order',
    html: '<html><body><p>Hi</p><a href="https://shop.example/orders/7?ref=mail&amp;x=1">Order</a><a href="https://shop.example/help">Help</a></body></html>',
    text: 'Order: https://shop.example/orders/7?ref=mail&x=1',
  };
  const received = async (to: string, n = 1) =>
    (await t.messaging.recorder.waitFor(n, { provider: 'sendgrid', to, outcome: 'accepted' })).at(-1)!
      .payload as { html: string; text: string };

  test('an app that tracks: the e-mail carries signed /t/ links and a pixel, never the original URLs; pixel → opened, link → 302 and clicked', async () => {
    const id = await send(app, { to: { userId: 'ann' }, content: { email: mail } });
    const payload = await received('ann@example.com');
    assert.doesNotMatch(payload.html, /shop\.example/);
    assert.doesNotMatch(payload.text, /shop\.example/);
    const links = [...payload.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(links.length, 2);
    for (const l of links) assert.ok(l.startsWith(`${t.h.url}/t/`), l);
    const pixel = payload.html.match(/<img src="([^"]+)"/)![1]!;
    assert.ok(pixel.startsWith(`${t.h.url}/t/o/`));
    await deliveryOf(app, id, (d) => d.status === 'delivered', 'delivered');

    const gif = await fetch(pixel);
    assert.equal(gif.status, 200);
    assert.equal(gif.headers.get('content-type'), 'image/gif');
    assert.equal(
      Buffer.from(await gif.arrayBuffer())
        .subarray(0, 6)
        .toString(),
      'GIF89a',
    );
    assert.equal(
      (await deliveryOf(app, id, (d) => d.status === 'opened', 'opened')).events.at(-1)!.source,
      'pixel',
    );

    const click = await fetch(links[0]!, { redirect: 'manual' });
    assert.equal(click.status, 302);
    assert.equal(click.headers.get('location'), 'https://shop.example/orders/7?ref=mail&x=1');
    const d = await deliveryOf(app, id, (x) => x.status === 'clicked', 'clicked');
    assert.deepEqual(d.events.map((e) => e.status).slice(-2), ['opened', 'clicked']);
    // The second link redirects to its own URL; a second click is no new step.
    const again = await fetch(`${links[1]!}?url=https://evil.example`, { redirect: 'manual' });
    assert.equal(again.headers.get('location'), 'https://shop.example/help');
    const after = await deliveryOf(app, id, () => true);
    assert.equal(after.events.length, d.events.length);
    const textLink = payload.text.match(/http\S+/)![0];
    assert.equal(
      (await fetch(textLink, { redirect: 'manual' })).headers.get('location'),
      'https://shop.example/orders/7?ref=mail&x=1',
    );
  });

  test('forged, altered or foreign tokens get 404 and record nothing; the pixel of a forged token records nothing', async () => {
    const id = await send(app, { to: { userId: 'bob' }, content: { email: mail } });
    const payload = await received('bob@example.com');
    const link = payload.html.match(/href="([^"]+)"/)![1]!;
    await deliveryOf(app, id, (d) => d.status === 'delivered', 'delivered');
    const token = link.split('/t/')[1]!;
    const flipped = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    for (const bad of [
      `${t.h.url}/t/${flipped}`,
      `${t.h.url}/t/nonsense`,
      `${t.h.url}/t/${'A'.repeat(39)}`,
    ]) {
      const res = await fetch(bad, { redirect: 'manual' });
      assert.equal(res.status, 404, bad);
      assert.equal(res.headers.get('location'), null);
    }
    const gif = await fetch(`${t.h.url}/t/o/${flipped}.gif`);
    assert.equal(gif.status, 200);
    assert.equal((await deliveryOf(app, id, () => true)).status, 'delivered');
  });

  test('an app that does not track sends its links untouched', async () => {
    await send(plain, { to: { userId: 'ann' }, content: { email: mail } });
    const payload = await received('ann@example.com', 2);
    assert.match(payload.html, /href="https:\/\/shop\.example\/orders\/7\?ref=mail&amp;x=1"/);
    assert.doesNotMatch(payload.html, /<img/);
  });

  test('POST /v1/events: a client key reports its own user’s opens and clicks; another user’s delivery is 404 and records nothing; its log is 403', async () => {
    const annId = await send(plain, { to: { userId: 'ann' }, content: { webhook: { json: { hi: 1 } } } });
    const bobId = await send(plain, { to: { userId: 'bob' }, content: { webhook: { json: { hi: 2 } } } });
    const ann = await deliveryOf(plain, annId, (d) => d.status === 'sent', 'sent');
    const bob = await deliveryOf(plain, bobId, (d) => d.status === 'sent', 'sent');
    const keyRes = await t.h.admin(`/admin/apps/${plain.id}/keys`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'client', name: 'ios' }),
    });
    assert.equal(keyRes.status, 201, await keyRes.clone().text());
    const key = await json<{ appKey: string; appSecret: string }>(keyRes);
    const token = await signUserToken('ann', plain.userTokenSecret);
    const asAnn = (body: unknown) =>
      fetch(`${t.h.url}/v1/events`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`,
          'x-clarion-user-token': token,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
    const foreign = await asAnn({
      events: [
        { deliveryId: ann.id, type: 'opened' },
        { deliveryId: bob.id, type: 'opened' },
      ],
    });
    assert.equal(foreign.status, 404);
    assert.deepEqual((await json<{ error: { details: unknown } }>(foreign)).error.details, {
      deliveryIds: [bob.id],
    });
    assert.equal((await deliveryOf(plain, annId, () => true)).status, 'sent');
    for (const bad of [
      {},
      { events: [] },
      { events: [{ deliveryId: 'x', type: 'opened' }] },
      { events: [{ deliveryId: ann.id, type: 'read' }] },
    ]) {
      assert.equal((await asAnn(bad)).status, 400, JSON.stringify(bad));
    }
    const ok = await asAnn({
      events: [
        { deliveryId: ann.id, type: 'opened' },
        { deliveryId: ann.id, type: 'clicked' },
      ],
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(
      (await json<{ results: { changed: boolean }[] }>(ok)).results.map((r) => r.changed),
      [true, true],
    );
    const d = await deliveryOf(plain, annId, () => true);
    assert.equal(d.status, 'clicked');
    assert.deepEqual(
      d.events.slice(-2).map((e) => [e.status, e.source]),
      [
        ['opened', 'client'],
        ['clicked', 'client'],
      ],
    );
    // The same client key reads its own user's log, not another's.
    const read = (user: string) =>
      fetch(`${t.h.url}/v1/users/${user}/deliveries`, {
        headers: {
          authorization: `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`,
          'x-clarion-user-token': token,
        },
      });
    assert.equal((await read('ann')).status, 200);
    assert.equal((await read('bob')).status, 403);
    // A server key may report any delivery of its app; never another app's.
    assert.equal(
      (await plain.call('/v1/events', { body: { events: [{ deliveryId: bob.id, type: 'opened' }] } })).status,
      200,
    );
    assert.equal(
      (await app.call('/v1/events', { body: { events: [{ deliveryId: bob.id, type: 'opened' }] } })).status,
      404,
    );
  });

  test('GET /v1/users/:id/deliveries: newest first, keyset pages with no gaps or repeats, full history, filters; 404 and 400 on bad calls', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(await send(plain, { to: { userId: 'bob' }, content: { webhook: { json: { n: i } } } }));
    await deliveryOf(plain, ids.at(-1)!, (d) => d.status === 'sent', 'last sent');
    const all: (DeliveryView & { notificationId: string })[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await plain.call(
        `/v1/users/bob/deliveries?limit=2&channel=webhook${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(res.status, 200);
      const page = await json<{
        deliveries: (DeliveryView & { notificationId: string })[];
        nextCursor: string | null;
      }>(res);
      all.push(...page.deliveries);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    const { n } = (
      await sql<{ n: string }>(
        t.h.db.url,
        `SELECT count(*) AS n FROM deliveries d JOIN users u ON u.id = d.user_id WHERE u.app_id = $1 AND u.external_id = 'bob' AND d.channel = 'webhook'`,
        [plain.id],
      )
    )[0]!;
    assert.equal(all.length, Number(n));
    assert.equal(new Set(all.map((d) => d.id)).size, all.length);
    assert.deepEqual(
      all.map((d) => d.id),
      [...all.map((d) => d.id)].sort().reverse(),
    );
    assert.deepEqual(
      all.slice(0, 5).map((d) => d.notificationId),
      [...ids].reverse(),
    );
    assert.deepEqual(all[0]!.events.map((e) => e.status).slice(0, 2), ['pending', 'queued']);
    const sent = (await plain.call('/v1/users/bob/deliveries?status=sent')).status;
    assert.equal(sent, 200);
    assert.equal((await plain.call('/v1/users/nobody/deliveries')).status, 404);
    assert.equal((await plain.call('/v1/users/bob/deliveries?limit=0')).status, 400);
    assert.equal((await plain.call('/v1/users/bob/deliveries?cursor=zzz')).status, 400);
    assert.equal((await plain.call('/v1/users/bob/deliveries?status=lost')).status, 400);
    assert.equal((await plain.call('/v1/users/bob/deliveries?extra=1')).status, 400);
    assert.equal((await app.call('/v1/users/bob/deliveries')).status, 200, 'another app has its own bob');
  });

  test('a link with CR/LF is stored normalised and redirects (302), never a 500; so does one stored raw', async () => {
    assert.equal(
      (await app.call('/v1/users/cora', { method: 'PUT', body: { email: 'cora@example.com' } })).status,
      201,
    );
    const id = await send(app, {
      to: { userId: 'cora' },
      content: { email: { subject: 's', html: '<a href="https://shop.example/x\r\nSet-Cookie: a=1">X</a>' } },
    });
    const payload = await received('cora@example.com');
    const link = payload.html.match(/href="([^"]+)"/)![1]!;
    assert.ok(link.startsWith(`${t.h.url}/t/`), link);
    const res = await fetch(link, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), 'https://shop.example/xSet-Cookie:%20a=1');
    assert.equal(res.headers.get('set-cookie'), null);

    // A link stored before links were normalised is normalised on the way out.
    await sql(t.h.db.url, `UPDATE deliveries SET links = $2::jsonb WHERE notification_id = $1`, [
      id,
      JSON.stringify(['https://shop.example/y\r\nX-Evil: 1']),
    ]);
    const raw = await fetch(link, { redirect: 'manual' });
    assert.equal(raw.status, 302);
    assert.equal(raw.headers.get('location'), 'https://shop.example/yX-Evil:%201');
  });
});
