import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface AppView {
  id: string;
  name: string;
  settings: Record<string, unknown>;
}

describe('operators read an app and patch its settings', () => {
  let h: Harness;
  let app: TestApp;
  before(async () => {
    h = await startHarness({ label: 'admin-settings' });
    app = await h.createApp({
      providers: { sms: ['twilio', 'vonage'] },
      criticalCategories: ['security', 'billing'],
      clientSmsPerDay: 3,
    });
  });
  after(() => h.close());

  const read = async () => json<AppView>(await h.admin(`/admin/apps/${app.id}`));
  const patch = (body: unknown, contentType = 'application/merge-patch+json') =>
    h.admin(`/admin/apps/${app.id}/settings`, {
      method: 'PATCH',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': contentType },
    });

  test('GET /admin/apps/:id answers the app with every setting (defaults filled in)', async () => {
    const res = await h.admin(`/admin/apps/${app.id}`);
    assert.equal(res.status, 200);
    const view = await json<AppView>(res);
    assert.equal(view.id, app.id);
    assert.equal(view.name, 'test app');
    assert.deepEqual(view.settings.providers, { sms: ['twilio', 'vonage'] });
    assert.equal(view.settings.clientSmsPerDay, 3);
    assert.equal(view.settings.allowClientSending, false, 'defaults are shown');
    assert.equal((await h.admin('/admin/apps/0190a000-0000-7000-8000-000000000000')).status, 404);
    assert.equal((await h.admin('/admin/apps/not-a-uuid')).status, 404);
    assert.equal((await app.call(`/admin/apps/${app.id}`)).status, 401, 'an app key is no admin token');
  });

  test('a merge patch changes only what it names; null resets a setting to its default', async () => {
    const res = await patch({
      allowClientSending: true,
      providers: { email: ['smtp'] },
      clientSmsPerDay: null,
    });
    assert.equal(res.status, 200, await res.clone().text());
    const after = await read();
    assert.equal(after.settings.allowClientSending, true);
    assert.deepEqual(
      after.settings.providers,
      { sms: ['twilio', 'vonage'], email: ['smtp'] },
      'objects merge',
    );
    assert.deepEqual(after.settings.criticalCategories, ['security', 'billing'], 'untouched');
    assert.equal(after.settings.clientSmsPerDay, 5, 'null: back to the default');
    assert.deepEqual((await json<{ settings: unknown }>(res)).settings, after.settings);
  });

  test('plain JSON is accepted too; arrays replace', async () => {
    const res = await patch({ criticalCategories: ['security'] }, 'application/json');
    assert.equal(res.status, 200);
    assert.deepEqual((await read()).settings.criticalCategories, ['security']);
  });

  test('a patch whose result the settings schema refuses is a 400 and changes nothing', async () => {
    const before = await read();
    // A patch nested 20,000 levels deep is refused before the merge recurses into it (not a 500).
    const deep = `${'{"providers":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    for (const body of [{ clientSmsPerDay: 'many' }, { unknownSetting: 1 }, [1, 2], 'null', deep]) {
      const res = await patch(body);
      assert.equal(res.status, 400, JSON.stringify(body).slice(0, 100));
      const err = await json<{ error: { code: string; details: unknown } }>(res);
      assert.equal(err.error.code, 'invalid_request');
      assert.ok(err.error.details, 'details name the problem');
    }
    assert.deepEqual(await read(), before);
    const missing = await h.admin('/admin/apps/0190a000-0000-7000-8000-000000000000/settings', {
      method: 'PATCH',
      body: '{}',
    });
    assert.equal(missing.status, 404);
  });

  test('concurrent patches of different settings both land', async () => {
    const results = await Promise.all([
      patch({ categoryDefaults: { news: 'opt_in' } }),
      patch({ corsOrigins: ['https://shop.example'] }),
      patch({ webhookUrl: 'https://hooks.example/in' }),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200],
    );
    const s = (await read()).settings;
    assert.deepEqual(s.categoryDefaults, { news: 'opt_in' });
    assert.deepEqual(s.corsOrigins, ['https://shop.example']);
    assert.equal(s.webhookUrl, 'https://hooks.example/in');
  });
});
