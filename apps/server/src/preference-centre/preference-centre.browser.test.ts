import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { smtpFake } from '@clarion/sandbox';
import type { Browser, Page } from 'playwright-core';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { chromiumMissing, launchChromium } from '../testing/headless-chromium';
import { PreferenceCentreTokens } from '../unsubscribe/preference-centre-token';

/** Kept for people to look at (not committed): apps/server/.test-results/. */
const RESULTS = join(__dirname, '..', '..', '.test-results');

interface Prefs {
  rules: { channel: string; category: string; enabled: boolean; source: string }[];
  quietHours: { start: string; end: string; categories: string[] | null } | null;
}

describe('hosted preference centre in a real browser (Chromium, keyboard only)', {
  skip: chromiumMissing,
}, () => {
  let h: Harness;
  let app: TestApp;
  let browser: Browser;
  let page: Page;
  const local = (url: string) => url.replace(h.env.CLARION_PUBLIC_URL.replace(/\/+$/, ''), h.url);
  const prefs = async (user: string) =>
    json<Prefs>(await app.call(`/v1/users/${user}/preferences`, { method: 'GET' }));
  const link = async (user: string) => {
    const res = await app.call(`/v1/users/${user}/preferences/link`, { body: {} });
    assert.equal(res.status, 200);
    return local((await json<{ url: string }>(res)).url);
  };
  /** What has the keyboard focus: its id and whether it draws a visible outline. */
  const focused = () =>
    // Runs in the page (a string: this package compiles without DOM types).
    page.evaluate<{ id: string; tag: string; outline: boolean }>(`(() => {
      const el = document.activeElement;
      const style = el ? getComputedStyle(el) : null;
      return {
        id: (el && el.id) || '',
        tag: (el && el.tagName) || '',
        outline: style ? style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 : false,
      };
    })()`);

  before(async () => {
    h = await startHarness({
      label: 'prefbrowser',
      fakes: [smtpFake()],
      env: { CLARION_PLUGINS: '@clarion/plugin-webhook,@clarion/plugin-smtp' },
    });
    app = await h.createApp({ categoryDefaults: { marketing: 'opt_out' }, criticalCategories: ['security'] });
    const put = await app.call('/v1/users/kim', {
      method: 'PUT',
      body: { email: 'kim@example.com', timezone: 'America/New_York' },
    });
    assert.equal(put.status, 201);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
    page.setDefaultTimeout(60_000);
  });
  after(async () => {
    await browser?.close();
    await h?.close();
  });

  test('open the link, turn marketing e-mail off and quiet hours on with Tab/Space, save; the API shows it', async () => {
    await page.goto(await link('kim'));
    assert.equal(await page.locator('h1').textContent(), 'Notification preferences');
    assert.match((await page.locator('body').textContent()) ?? '', /America\/New_York/);
    // The first Tab lands on the first toggle: marketing, E-mail (checked: opt-out default).
    await page.keyboard.press('Tab');
    const first = await focused();
    assert.equal(first.id, 'c-0-0');
    assert.ok(first.outline, 'the focused toggle shows a focus outline');
    assert.equal(await page.getByRole('group', { name: 'marketing' }).getByLabel('E-mail').isChecked(), true);
    await page.keyboard.press('Space');
    assert.equal(
      await page.getByRole('group', { name: 'marketing' }).getByLabel('E-mail').isChecked(),
      false,
    );
    const disabled = await Promise.all(
      (await page.locator('input:disabled').all()).map(async (l) => (await l.getAttribute('id')) ?? ''),
    );
    assert.equal(disabled.length, 3, 'security: e-mail, webhook and the in-app inbox');
    // On through the form; the critical toggles are skipped (disabled), quiet hours switched on.
    const visited: string[] = [];
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press('Tab');
      const f = await focused();
      visited.push(f.id || f.tag);
      if (f.id === 'qh-on') await page.keyboard.press('Space');
      if (f.tag === 'BUTTON') break;
    }
    assert.equal(visited.at(-1), 'BUTTON', `reached the save button: ${visited.join(' ')}`);
    assert.ok(
      !visited.some((id) => disabled.includes(id)),
      `disabled critical toggles take no focus: ${visited.join(' ')}`,
    );
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(await page.getByRole('status').textContent(), 'Your preferences are saved.');
    mkdirSync(RESULTS, { recursive: true });
    await page.screenshot({ path: join(RESULTS, 'preference-centre.png'), fullPage: true });

    const p = await prefs('kim');
    assert.deepEqual(
      p.rules.map(({ channel, category, enabled, source }) => ({ channel, category, enabled, source })),
      [{ channel: 'email', category: 'marketing', enabled: false, source: 'preference_centre' }],
    );
    assert.deepEqual(p.quietHours, { start: '22:00', end: '07:00', categories: null });
  });

  test('a critical category is shown fixed: disabled, checked, explained, and stays on', async () => {
    await page.goto(await link('kim'));
    const security = page.getByRole('group', { name: 'security (always on)' });
    const email = security.getByLabel('E-mail');
    assert.equal(await email.isDisabled(), true);
    assert.equal(await email.isChecked(), true);
    assert.match((await security.textContent()) ?? '', /cannot be turned off/);
    await email.click({ force: true });
    assert.equal(await email.isChecked(), true, 'a click does not change it');
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Save preferences' }).press('Enter'),
    ]);
    assert.ok(!(await prefs('kim')).rules.some((r) => r.category === 'security'));
  });

  test('a forged or expired link shows a 4xx page', async () => {
    const good = new URL(await link('kim')).searchParams.get('token')!;
    const forged = `${good.split('.')[0]}.${'A'.repeat(43)}`;
    const res = await page.goto(`${h.url}/v1/preferences/page?token=${forged}`);
    assert.equal(res?.status(), 401);
    assert.equal(await page.locator('h1').textContent(), 'This link cannot be used');
    const [kim] = await sql<{ id: string; app_id: string }>(
      h.db.url,
      "SELECT id, app_id FROM users WHERE external_id = 'kim'",
    );
    const expired = new PreferenceCentreTokens(h.env.CLARION_ENCRYPTION_KEY).sign({
      appId: kim!.app_id,
      userId: kim!.id,
      expiresAt: new Date(Date.now() - 60_000),
    });
    const old = await page.goto(`${h.url}/v1/preferences/page?token=${expired}`);
    assert.equal(old?.status(), 410);
    assert.match((await page.locator('body').textContent()) ?? '', /expired/);
  });
});
