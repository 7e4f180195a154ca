import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import type { Browser, Page } from 'playwright-core';
import { signUserToken } from '../auth/user-token';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { chromiumMissing, launchChromium } from '../testing/headless-chromium';

/** Kept for people to look at (not committed): apps/server/.test-results/. */
const RESULTS = join(__dirname, '..', '..', '.test-results');
const IIFE = require.resolve('@clarion/inbox/iife');
const ESM = require.resolve('@clarion/inbox');

/** The product's page on its own origin: the bell mounted by one script tag (or one import). */
function pageHtml(config: object, esm: boolean): string {
  const mount = `ClarionInbox.mountInbox(document.getElementById('bell'), ${JSON.stringify(config)});`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body style="font-family:sans-serif;padding:20px 20px 460px">
<header style="display:flex;justify-content:space-between;width:420px"><h1 style="margin:0">Shop</h1><div id="bell"></div></header>
${
  esm
    ? `<script type="module">import * as ClarionInbox from '/inbox.js'; window.esmLoaded = typeof ClarionInbox.mountInbox; ${mount}</script>`
    : `<script src="/inbox.iife.js"></script><script>${mount}</script>`
}
</body></html>`;
}

describe('@clarion/inbox in a real browser (Chromium)', {
  skip: chromiumMissing,
}, () => {
  let h: Harness;
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  let site: Server;
  let origin = '';
  let html = { iife: '', esm: '' };

  before(async () => {
    // The product's own site on another origin: the inbox calls Clarion through CORS.
    site = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const send = (type: string, body: string) => res.writeHead(200, { 'content-type': type }).end(body);
      if (path === '/inbox.iife.js') return send('text/javascript', readFileSync(IIFE, 'utf8'));
      if (path === '/inbox.js') return send('text/javascript', readFileSync(ESM, 'utf8'));
      if (path === '/esm') return send('text/html', html.esm);
      return send('text/html', html.iife);
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    h = await startHarness({ label: 'inboxbrowser' });
    app = await h.createApp({ corsOrigins: [origin] });
    const key = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    for (const id of ['kim', 'lou'])
      assert.equal((await app.call(`/v1/users/${id}`, { method: 'PUT', body: {} })).status, 201);
    const config = async (user: string) => ({
      baseUrl: h.url,
      appKey: key.appKey,
      appSecret: key.appSecret,
      userToken: await signUserToken(user, app.userTokenSecret),
    });
    html = { iife: pageHtml(await config('kim'), false), esm: pageHtml(await config('lou'), true) };
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    page.setDefaultTimeout(60_000);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
    await new Promise((r) => site?.close(r));
  });

  const send = async (user: string, title: string) => {
    const res = await app.call('/v1/notifications', {
      body: { to: { userId: user }, content: { inbox: { title, body: `For {{ user.id }}: ${title}` } } },
    });
    assert.equal(res.status, 202);
    return (await json<{ id: string }>(res)).id;
  };
  const badge = () => page.locator('.ci-root').getAttribute('data-unread');

  test('a notification sent through the API appears without reload; the unread count drops on read', async () => {
    await page.goto(`${origin}/`);
    await page.locator('.ci-root[data-unread="0"]').waitFor();
    await page.getByRole('button', { name: 'Notifications, 0 unread' }).click();
    await page.getByText('No notifications').waitFor();
    // Marks this page load: a reload would lose it.
    await page.evaluate('window.sameLoad = true');

    const first = await send('kim', 'Your order shipped');
    await page.locator('.ci-item', { hasText: 'Your order shipped' }).waitFor();
    await send('kim', 'Price drop');
    await page.locator('.ci-item', { hasText: 'Price drop' }).waitFor();
    assert.equal(await badge(), '2');
    assert.equal(await page.locator('.ci-count').textContent(), '2');
    assert.equal(await page.evaluate('window.sameLoad'), true, 'no reload happened');
    assert.deepEqual(await page.locator('.ci-title').allTextContents(), ['Price drop', 'Your order shipped']);
    assert.equal(
      await page.locator('.ci-item', { hasText: 'Price drop' }).locator('.ci-body').textContent(),
      'For kim: Price drop',
    );

    await page
      .locator('.ci-item', { hasText: 'Your order shipped' })
      .getByRole('button', { name: 'Mark read' })
      .click();
    await page.locator('.ci-root[data-unread="1"]').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Notifications, 1 unread' }).count(), 1);
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'inbox.png') });

    // The server agrees, and the read counted as `opened`.
    const count = await json<{ unread: number }>(await app.call('/v1/inbox/unread-count?userId=kim'));
    assert.equal(count.unread, 1);
    await waitFor('opened', async () => {
      const n = await json<{ deliveries: { channel: string; status: string }[] }>(
        await app.call(`/v1/notifications/${first}`),
      );
      return n.deliveries.find((d) => d.channel === 'inbox')?.status === 'opened';
    });

    await page
      .locator('.ci-item', { hasText: 'Price drop' })
      .getByRole('button', { name: 'Archive' })
      .click();
    await page.locator('.ci-root[data-unread="0"]').waitFor();
    assert.deepEqual(await page.locator('.ci-title').allTextContents(), ['Your order shipped']);
    // A read elsewhere (another tab, the server key) reaches the open page's count too.
    await send('kim', 'Back in stock');
    await page.locator('.ci-root[data-unread="1"]').waitFor();
    assert.equal(
      (await app.call('/v1/inbox/messages/mark-all?userId=kim', { body: { read: true } })).status,
      200,
    );
    await page.locator('.ci-root[data-unread="0"]').waitFor();
  });

  test('the ES module build mounts the same bell by one import', async () => {
    await page.goto(`${origin}/esm`);
    await page.locator('.ci-root[data-unread="0"]').waitFor();
    assert.equal(await page.evaluate('window.esmLoaded'), 'function');
    await send('lou', 'Hello Lou');
    await page.locator('.ci-root[data-unread="1"]').waitFor();
  });
});
