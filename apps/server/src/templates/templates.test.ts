import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, waitFor } from '@clarion/testkit';
import { signUserToken } from '../auth/user-token';
import { checkAnswersFrom } from '../testing/checked-fetch';
import { countRows, sql } from '../testing/db';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';

interface ApiErrorBody {
  error: { code: string; message: string; details?: unknown };
}
interface TemplateView {
  key: string;
  version: number;
  latestVersion: number;
  defaultLocale: string | null;
  content: Record<string, unknown>;
  locales: Record<string, unknown>;
  checks: {
    basis: string;
    locales: Record<string, { push?: { apns: Size; fcm: Size }; web?: { webpush: Size }; sms?: Sms }>;
  };
  archivedAt: string | null;
}
interface Size {
  bytes: number;
  limit: number;
  ok: boolean;
}
interface Sms {
  encoding: string;
  segments: number;
  units: number;
}
interface PreviewView {
  key: string;
  version: number;
  locales: Record<string, string | null>;
  content: Record<string, Record<string, unknown>>;
  checks: { push?: { apns: Size; fcm: Size }; web?: { webpush: Size }; sms?: Sms };
}

const TABLES = ['templates', 'template_versions', 'notifications', 'deliveries'];

describe('templates, through the public API to the webhook receiver', () => {
  let h: Harness;
  let app: TestApp;
  let other: TestApp;

  const users: Record<string, string | null> = {
    alice: 'en',
    ana: 'pt-BR',
    joao: 'pt-PT',
    hans: 'de',
    nolocale: null,
  };
  before(async () => {
    h = await startHarness({ label: 'templates' });
    app = await h.createApp();
    other = await h.createApp();
    for (const [id, locale] of Object.entries(users)) {
      const res = await app.call(`/v1/users/${id}`, {
        method: 'PUT',
        body: {
          locale,
          webhookUrl: `${h.sandbox.url}/webhook/${id}`,
          attributes: { name: id[0]!.toUpperCase() + id.slice(1) },
        },
      });
      assert.equal(res.status, 201);
    }
  });
  after(() => h.close());

  const put = (key: string, body: unknown, as: TestApp = app) =>
    as.call(`/v1/templates/${key}`, { method: 'PUT', body });
  const send = (body: unknown, as: TestApp = app) => as.call('/v1/notifications', { body });
  /** Waits for the webhook receiver to get this notification's message for `to`; returns the rendered content. */
  const received = async (notificationId: string, to: string) => {
    const record = await waitFor(`webhook for ${to}`, () =>
      h.sandbox.recorder
        .list({ to, outcome: 'accepted' })
        .find((r) => (r.payload as { notificationId?: string }).notificationId === notificationId),
    );
    return (record.payload as { content: unknown }).content;
  };
  const errorOf = async (res: Response, status: number): Promise<ApiErrorBody['error']> => {
    assert.equal(res.status, status, `expected ${status}`);
    const body = await json<ApiErrorBody>(res);
    assert.equal(typeof body.error.code, 'string');
    assert.equal(typeof body.error.message, 'string');
    return body.error;
  };

  test('publishing creates versions; a notification uses the latest and records the version; old versions stay readable', async () => {
    const v1 = await put('welcome', { content: { webhook: { json: { text: 'v1 hello {{ user.name }}' } } } });
    assert.equal(v1.status, 201);
    assert.equal((await json<TemplateView>(v1)).version, 1);

    const first = await send({ to: { userId: 'alice' }, template: 'welcome' });
    assert.equal(first.status, 202);
    const firstId = (await json<{ id: string }>(first)).id;
    assert.deepEqual(await received(firstId, 'alice'), { text: 'v1 hello Alice' });

    const v2 = await put('welcome', {
      description: 'second',
      content: { webhook: { json: { text: 'v2 hi {{ user.name }}, {{ data.n }}' } } },
    });
    assert.equal(v2.status, 201);
    const v2body = await json<TemplateView>(v2);
    assert.equal(v2body.version, 2);
    assert.equal(v2body.latestVersion, 2);

    // The publish is seen by the very next notification of this process (its cache entry is dropped).
    const second = await send({ to: { userId: 'alice' }, template: 'welcome', data: { n: 7 } });
    assert.equal(second.status, 202);
    const secondId = (await json<{ id: string }>(second)).id;
    assert.deepEqual(await received(secondId, 'alice'), { text: 'v2 hi Alice, 7' });

    const pinned = await send({ to: { userId: 'alice' }, template: 'welcome', templateVersion: 1 });
    const pinnedId = (await json<{ id: string }>(pinned)).id;
    assert.deepEqual(await received(pinnedId, 'alice'), { text: 'v1 hello Alice' });

    const view = async (id: string) =>
      json<{ template: { key: string; version: number } | null }>(await app.call(`/v1/notifications/${id}`));
    assert.deepEqual((await view(firstId)).template, { key: 'welcome', version: 1 });
    assert.deepEqual((await view(secondId)).template, { key: 'welcome', version: 2 });
    assert.deepEqual((await view(pinnedId)).template, { key: 'welcome', version: 1 });
    const inline = await send({ to: { userId: 'alice' }, content: { webhook: { json: {} } } });
    assert.equal((await view((await json<{ id: string }>(inline)).id)).template, null);

    const latest = await json<TemplateView>(await app.call('/v1/templates/welcome'));
    assert.equal(latest.version, 2);
    assert.deepEqual(latest.content, { webhook: { json: { text: 'v2 hi {{ user.name }}, {{ data.n }}' } } });
    const old = await json<TemplateView>(await app.call('/v1/templates/welcome/versions/1'));
    assert.equal(old.version, 1);
    assert.equal(old.latestVersion, 2);
    assert.deepEqual(old.content, { webhook: { json: { text: 'v1 hello {{ user.name }}' } } });

    const list = await json<{ templates: TemplateView[] }>(await app.call('/v1/templates'));
    assert.deepEqual(
      list.templates.filter((t) => t.key === 'welcome').map((t) => t.version),
      [2],
    );
  });

  test('a version that does not exist is 422 unknown_template, nothing stored', async () => {
    const before = await countRows(h.db.url, TABLES);
    const error = await errorOf(
      await send({ to: { userId: 'alice' }, template: 'welcome', templateVersion: 99 }),
      422,
    );
    assert.equal(error.code, 'unknown_template');
    const unknown = await errorOf(await send({ to: { userId: 'alice' }, template: 'no-such-template' }), 422);
    assert.equal(unknown.code, 'unknown_template');
    assert.match(unknown.message, /no-such-template/);
    assert.deepEqual(await countRows(h.db.url, TABLES), before);
  });

  test('locale variants: pt-BR → pt → the default, rendered at the receiver', async () => {
    const res = await put('greeting', {
      defaultLocale: 'en',
      content: { webhook: { json: { text: 'Hello {{ user.name }}' } } },
      locales: {
        'pt-BR': { webhook: { json: { text: 'Olá {{ user.name }} (BR)' } } },
        pt: { webhook: { json: { text: 'Olá {{ user.name }} (PT)' } } },
      },
    });
    assert.equal(res.status, 201);
    const sent = await send({ to: { userIds: Object.keys(users) }, template: 'greeting' });
    assert.equal(sent.status, 202);
    const { id } = await json<{ id: string }>(sent);
    assert.deepEqual(await received(id, 'ana'), { text: 'Olá Ana (BR)' }, 'pt-BR has its own variant');
    assert.deepEqual(await received(id, 'joao'), { text: 'Olá Joao (PT)' }, 'pt-PT falls back to pt');
    assert.deepEqual(await received(id, 'hans'), { text: 'Hello Hans' }, 'de falls back to the default');
    assert.deepEqual(await received(id, 'alice'), { text: 'Hello Alice' });
    assert.deepEqual(await received(id, 'nolocale'), { text: 'Hello Nolocale' }, 'no locale: the default');
  });

  test('a topic fan-out renders per recipient locale with the version recorded at ingest', async () => {
    for (const id of ['ana', 'hans'])
      assert.equal((await app.call(`/v1/users/${id}/topics/news`, { method: 'PUT' })).status, 204);
    const sent = await send({ to: { topic: 'news' }, template: 'greeting' });
    assert.equal(sent.status, 202);
    const { id } = await json<{ id: string }>(sent);
    assert.deepEqual(await received(id, 'ana'), { text: 'Olá Ana (BR)' });
    assert.deepEqual(await received(id, 'hans'), { text: 'Hello Hans' });
    const view = await json<{ template: unknown }>(await app.call(`/v1/notifications/${id}`));
    assert.deepEqual(view.template, { key: 'greeting', version: 1 });
  });

  test('a scheduled fan-out goes out with the version recorded at ingest, even if the template was republished and archived since', async () => {
    assert.equal(
      (await put('pinned', { content: { webhook: { json: { text: 'first {{ user.name }}' } } } })).status,
      201,
    );
    assert.equal((await app.call('/v1/users/alice/topics/pinned-topic', { method: 'PUT' })).status, 204);
    // Planned 3 s from now: long after the republish and archive below.
    const sendAt = new Date(Date.now() + 3000).toISOString();
    const sent = await send({ to: { topic: 'pinned-topic' }, template: 'pinned', sendAt });
    assert.equal(sent.status, 202);
    const { id } = await json<{ id: string }>(sent);
    assert.equal((await put('pinned', { content: { webhook: { json: { text: 'second' } } } })).status, 201);
    assert.equal((await app.call('/v1/templates/pinned', { method: 'DELETE' })).status, 204);
    assert.deepEqual(await received(id, 'alice'), { text: 'first Alice' });
    const view = await json<{ template: unknown }>(await app.call(`/v1/notifications/${id}`));
    assert.deepEqual(view.template, { key: 'pinned', version: 1 });
    const [order] = await sql<{ planned_after_archive: boolean }>(
      h.db.url,
      `SELECT min(d.created_at) > (SELECT archived_at FROM templates WHERE key = 'pinned') AS planned_after_archive
         FROM deliveries d WHERE d.notification_id = $1`,
      [id],
    );
    assert.equal(order?.planned_after_archive, true, 'the fan-out planned its deliveries after the archive');
  });

  test('a fan-out refuses a missing data variable at ingest (422, nothing stored); a user lacking an attribute is suppressed, not the audience', async () => {
    assert.equal(
      (
        await put('digest', {
          content: {
            webhook: {
              json: {
                text: '{{ data.count }} new for {{ user.name }}{% if user.vip %} (VIP {{ user.tier }}){% endif %}',
              },
            },
          },
        })
      ).status,
      201,
    );
    for (const id of ['alice', 'hans'])
      assert.equal((await app.call(`/v1/users/${id}/topics/digest`, { method: 'PUT' })).status, 204);
    const before = await countRows(h.db.url, TABLES);
    const error = await errorOf(await send({ to: { topic: 'digest' }, template: 'digest' }), 422);
    assert.equal((error.details as { variable: string }).variable, 'data.count');
    assert.deepEqual(await countRows(h.db.url, TABLES), before);

    // hans is a VIP without a tier: his message cannot be rendered, alice's can.
    assert.equal(
      (await app.call('/v1/users/hans', { method: 'PUT', body: { attributes: { name: 'Hans', vip: true } } }))
        .status,
      200,
    );
    const sent = await send({ to: { topic: 'digest' }, template: 'digest', data: { count: 3 } });
    assert.equal(sent.status, 202);
    const { id } = await json<{ id: string }>(sent);
    assert.deepEqual(await received(id, 'alice'), { text: '3 new for Alice' });
    const view = await waitFor('fan-out done', async () => {
      const n = await json<{
        status: string;
        deliveries: { userId: string; status: string; reason: string | null }[];
      }>(await app.call(`/v1/notifications/${id}`));
      return n.status === 'accepted' && n.deliveries.length === 2 ? n : undefined;
    });
    const hans = view.deliveries.find((d) => d.userId === 'hans');
    assert.equal(hans?.status, 'suppressed');
    assert.equal(hans?.reason, 'template_error');
    assert.equal(
      (await app.call('/v1/users/hans', { method: 'PUT', body: { attributes: { name: 'Hans' } } })).status,
      200,
    );
  });

  test('a missing variable is a 422 naming it, and nothing is stored', async () => {
    assert.equal(
      (
        await put('needs-order', {
          content: { webhook: { json: { text: 'Order {{ data.order.id }} for {{ user.name }}' } } },
        })
      ).status,
      201,
    );
    const before = await countRows(h.db.url, TABLES);
    const error = await errorOf(
      await send({ to: { userId: 'alice' }, template: 'needs-order', data: {} }),
      422,
    );
    assert.equal(error.code, 'template_error');
    assert.match(error.message, /data\.order/);
    assert.equal((error.details as { variable: string }).variable, 'data.order');
    assert.equal((error.details as { field: string }).field, 'content.webhook.json.text');
    // A user attribute missing in one recipient's profile fails the same way.
    assert.equal(
      (await put('needs-plan', { content: { webhook: { json: { text: '{{ user.plan }}' } } } })).status,
      201,
    );
    const attr = await errorOf(await send({ to: { userId: 'alice' }, template: 'needs-plan' }), 422);
    assert.equal((attr.details as { variable: string }).variable, 'user.plan');
    assert.deepEqual(await countRows(h.db.url, ['notifications', 'deliveries']), {
      notifications: before.notifications,
      deliveries: before.deliveries,
    });
  });

  test('a template that would render without bound is a 422 (render time and memory are limited), nothing stored', async () => {
    const loop = '{% for i in (1..3000) %}{% for j in (1..3000) %}{% endfor %}{% endfor %}done';
    const huge = '{% for i in (1..100000000) %}x{% endfor %}';
    assert.equal(
      (await put('runaway', { content: { webhook: { json: { a: loop, b: huge } } } })).status,
      201,
    );
    const before = await countRows(h.db.url, TABLES);
    const sent = await errorOf(await send({ to: { userId: 'alice' }, template: 'runaway' }), 422);
    assert.equal(sent.code, 'template_error');
    assert.match(sent.message, /limit exceeded/);
    const preview = await errorOf(await app.call('/v1/templates/runaway/preview', { body: {} }), 422);
    assert.match(preview.message, /limit exceeded/);
    assert.deepEqual(await countRows(h.db.url, TABLES), before);
    // The app and user scopes are there, and the server still answers.
    assert.equal(
      (await put('scopes', { content: { sms: { text: '{{ app.name }} for {{ user.id }}' } } })).status,
      201,
    );
    const scopes = await json<PreviewView>(
      await app.call('/v1/templates/scopes/preview', { body: { userId: 'alice' } }),
    );
    assert.equal(scopes.content.sms?.text, 'test app for alice');
  });

  test('a Liquid syntax error is a 422 with line and column, and nothing is stored', async () => {
    const before = await countRows(h.db.url, TABLES);
    const error = await errorOf(
      await put('broken', {
        content: {
          sms: { text: 'fine' },
          email: { subject: 'Hi', html: '<p>line one</p>\n<p>{% if data.x %} never closed</p>' },
        },
      }),
      422,
    );
    assert.equal(error.code, 'template_syntax_error');
    const [problem] = error.details as { path: string; line: number; column: number; message: string }[];
    assert.equal(problem!.path, 'content.email.html');
    assert.equal(problem!.line, 2);
    assert.equal(problem!.column, 4);
    assert.match(error.message, /line 2, column 4/);
    // In a locale variant too, named by its path.
    const variant = await errorOf(
      await put('broken', {
        content: { sms: { text: 'ok' } },
        locales: { fr: { sms: { text: 'Salut {{ user.name ' } } },
      }),
      422,
    );
    assert.equal((variant.details as { path: string }[])[0]!.path, 'locales.fr.sms.text');
    // An unknown filter is caught at save time as well (strict filters).
    const filter = await errorOf(
      await put('broken', { content: { sms: { text: '{{ user.name | nosuchfilter }}' } } }),
      422,
    );
    assert.equal(filter.code, 'template_syntax_error');
    assert.deepEqual(await countRows(h.db.url, TABLES), before);
    assert.equal((await app.call('/v1/templates/broken')).status, 404);
  });

  test('a template cannot read files: include, render and layout are a 422 when saved or sent inline, nothing stored', async () => {
    // liquidjs resolves these against the working directory by default: package.json sits there.
    const before = await countRows(h.db.url, TABLES);
    for (const tag of [
      '{% include "package.json" %}',
      '{% render "package.json" %}',
      '{% layout "package.json" %}',
    ]) {
      const saved = await errorOf(await put('files', { content: { sms: { text: `x ${tag}` } } }), 422);
      assert.equal(saved.code, 'template_syntax_error');
      assert.match(saved.message, /is not available: a template cannot load other templates or files/);
      const inline = await errorOf(
        await send({ to: { userId: 'alice' }, content: { webhook: { json: { leak: tag } } } }),
        422,
      );
      assert.doesNotMatch(JSON.stringify(inline), /packageManager/);
    }
    assert.deepEqual(await countRows(h.db.url, TABLES), before);
    assert.equal((await app.call('/v1/templates/files')).status, 404);
  });

  test('a 200 KB e-mail HTML publishes and renders (within the parse limit)', async () => {
    const html = `<p>Hi {{ user.name }}</p>${'<p>lorem ipsum dolor sit amet</p>'.repeat(7000)}`;
    assert.ok(html.length > 200_000);
    assert.equal((await put('newsletter', { content: { email: { subject: 'News', html } } })).status, 201);
    const preview = await json<PreviewView>(
      await app.call('/v1/templates/newsletter/preview', { body: { userId: 'alice' } }),
    );
    assert.ok(String(preview.content.email?.html).startsWith('<p>Hi Alice</p>'));
  });

  test('push payloads over 4 KB are refused at save time: static text alone, or rendered with the sample', async () => {
    const before = await countRows(h.db.url, TABLES);
    const big = await errorOf(
      await put('too-big', { content: { push: { title: 'T'.repeat(900), body: 'B'.repeat(3500) } } }),
      422,
    );
    assert.equal(big.code, 'payload_too_large');
    const problems = big.details as {
      locale: string;
      channel: string;
      provider: string;
      bytes: number;
      limit: number;
    }[];
    assert.deepEqual(problems.map((p) => p.provider).sort(), ['apns', 'fcm']);
    assert.ok(problems.every((p) => p.bytes > 4096 && p.limit === 4096 && p.locale === 'default'));

    const web = await errorOf(
      await put('too-big', { content: { web: { title: 'Hi', body: 'x'.repeat(3990) } } }),
      422,
    );
    assert.deepEqual(
      (web.details as { provider: string }[]).map((p) => p.provider),
      ['webpush'],
    );

    const inVariant = await errorOf(
      await put('too-big', {
        content: { push: { body: 'short' } },
        locales: { de: { push: { body: 'ü'.repeat(2100) } } },
      }),
      422,
    );
    assert.ok(
      (inVariant.details as { locale: string }[]).every((p) => p.locale === 'de'),
      'two-byte characters counted as bytes',
    );

    // Static part small, but the sample data makes it too big.
    const template = { content: { push: { title: 'Order {{ data.order }}', body: '{{ data.summary }}' } } };
    const sampled = await errorOf(
      await put('too-big', { ...template, sample: { data: { order: '1', summary: 's'.repeat(4000) } } }),
      422,
    );
    assert.equal(sampled.code, 'payload_too_large');
    assert.deepEqual(await countRows(h.db.url, TABLES), before);

    // Without the sample it is accepted, and the save response reports the sizes it measured.
    const ok = await put('too-big', template);
    assert.equal(ok.status, 201);
    const saved = await json<TemplateView>(ok);
    assert.equal(saved.checks.basis, 'static');
    const push = saved.checks.locales.default!.push!;
    assert.ok(push.apns.ok && push.apns.bytes > 20 && push.apns.bytes < 400, `apns ${push.apns.bytes}`);
    assert.ok(push.fcm.ok && push.fcm.limit === 4096);
    const withSample = await json<TemplateView>(
      await put('too-big', { ...template, sample: { data: { order: '1', summary: 's'.repeat(1000) } } }),
    );
    assert.equal(withSample.checks.basis, 'sample');
    assert.ok(withSample.checks.locales.default!.push!.apns.bytes > 1000);
  });

  test('SMS segments and encoding are reported at save time: GSM-7 vs UCS-2, per locale', async () => {
    const res = await put('sms-code', {
      content: { sms: { text: 'Your code is {{ data.code }}. Valid for 10 minutes.' } },
      locales: {
        ru: { sms: { text: 'Ваш код {{ data.code }}' } },
        fr: { sms: { text: 'x'.repeat(200) } },
      },
    });
    assert.equal(res.status, 201);
    const { checks } = await json<TemplateView>(res);
    assert.equal(checks.locales.default!.sms!.encoding, 'GSM-7');
    assert.equal(checks.locales.default!.sms!.segments, 1);
    assert.equal(checks.locales.ru!.sms!.encoding, 'UCS-2');
    assert.equal(checks.locales.fr!.sms!.encoding, 'GSM-7');
    assert.equal(checks.locales.fr!.sms!.segments, 2, '200 septets: two parts of 153');
    assert.equal(checks.locales.fr!.sms!.units, 200);
    // Stored with the version, so reading it back shows the same report.
    const read = await json<TemplateView>(await app.call('/v1/templates/sms-code'));
    assert.deepEqual(read.checks, checks);
  });

  test('a locale variant may give only some fields (an e-mail subject): the rest is inherited from the default', async () => {
    const res = await put('receipt', {
      content: { email: { subject: 'Your receipt', html: '<p>Thanks, {{ user.name }}</p>' } },
      locales: { pt: { email: { subject: 'O seu recibo' } } },
    });
    assert.equal(res.status, 201, await res.clone().text());
    const p = await json<PreviewView>(
      await app.call('/v1/templates/receipt/preview', { body: { userId: 'ana' } }),
    );
    assert.equal(p.locales.email, 'pt');
    assert.equal(p.content.email!.subject, 'O seu recibo');
    assert.equal(p.content.email!.html, '<p>Thanks, Ana</p>', 'the html is the default’s');
    // A field the variant does give is still checked, with its path.
    const bad = await errorOf(
      await put('receipt', {
        content: { email: { subject: 'Your receipt', html: '<p>x</p>' } },
        locales: { pt: { email: { subject: '' } } },
      }),
      400,
    );
    assert.ok(
      (bad.details as { path: string }[]).some((d) => d.path === 'body.locales.pt.email.subject'),
      JSON.stringify(bad.details),
    );
  });

  test('preview renders for a stored user (locale fallback), sends and stores nothing, and reports sizes', async () => {
    assert.equal(
      (
        await put('order-shipped', {
          defaultLocale: 'en',
          content: {
            push: {
              title: 'Shipped',
              body: 'Order {{ data.order }} is on its way, {{ user.name }}',
              url: 'https://x.test/{{ data.order }}',
              sound: 'ping.caf',
            },
            sms: { text: 'Order {{ data.order }} shipped 🚚' },
            email: {
              subject: 'Order {{ data.order }}',
              html: '<h1>Hi {{ user.name }}</h1><p>Track it <a href="https://x.test/{{ data.order }}">here</a>.</p>',
            },
          },
          locales: {
            pt: { push: { title: 'Enviado', body: 'Pedido {{ data.order }} a caminho, {{ user.name }}' } },
          },
        })
      ).status,
      201,
    );
    const before = await countRows(h.db.url, TABLES);
    const records = h.sandbox.recorder.count();
    const res = await app.call('/v1/templates/order-shipped/preview', {
      body: { userId: 'ana', data: { order: 'A-1' } },
    });
    assert.equal(res.status, 200);
    const p = await json<PreviewView>(res);
    assert.equal(p.version, 1);
    // The pt variant gives title and body; url and sound are inherited from the default.
    assert.deepEqual(p.content.push, {
      title: 'Enviado',
      body: 'Pedido A-1 a caminho, Ana',
      url: 'https://x.test/A-1',
      sound: 'ping.caf',
    });
    assert.deepEqual(p.locales, { push: 'pt', sms: 'en', email: 'en' });
    assert.equal(p.content.sms!.text, 'Order A-1 shipped 🚚');
    assert.equal(p.checks.sms!.encoding, 'UCS-2', 'the emoji needs UCS-2');
    assert.equal(p.checks.sms!.segments, 1);
    assert.ok(p.checks.push!.apns.ok && p.checks.push!.apns.bytes > 0);
    assert.equal(p.content.email!.subject, 'Order A-1');
    assert.match(String(p.content.email!.text), /HI ANA/i, 'text part derived from the HTML');
    assert.match(String(p.content.email!.text), /https:\/\/x\.test\/A-1/);
    assert.deepEqual(await countRows(h.db.url, TABLES), before);
    assert.equal(h.sandbox.recorder.count(), records);

    // An inline profile, an explicit locale, one channel.
    const inline = await json<PreviewView>(
      await app.call('/v1/templates/order-shipped/preview', {
        body: {
          user: { attributes: { name: 'Zoe' } },
          locale: 'pt-BR',
          data: { order: 9 },
          channels: ['push'],
        },
      }),
    );
    assert.deepEqual(Object.keys(inline.content), ['push']);
    assert.equal(inline.content.push!.body, 'Pedido 9 a caminho, Zoe');

    // Strict like a real send: a missing variable is a 422 naming it.
    const missing = await errorOf(
      await app.call('/v1/templates/order-shipped/preview', { body: { userId: 'alice' } }),
      422,
    );
    assert.equal(missing.code, 'template_error');
    assert.equal((missing.details as { variable: string }).variable, 'data.order');
  });

  test('push URLs may be Liquid templates; what they render to must be a URL', async () => {
    const template = {
      content: {
        push: {
          title: 'Order',
          body: 'Shipped',
          image: '{{ data.img }}',
          url: 'https://shop.test/o/{{ data.id }}',
        },
      },
    };
    assert.equal((await put('url-fields', template)).status, 201);
    const preview = (data: Record<string, unknown>) =>
      app.call('/v1/templates/url-fields/preview', { body: { data } });
    const ok = await json<PreviewView>(await preview({ img: 'https://cdn.test/a.png', id: 7 }));
    assert.deepEqual(ok.content.push, {
      title: 'Order',
      body: 'Shipped',
      image: 'https://cdn.test/a.png',
      url: 'https://shop.test/o/7',
    });
    const bad = await errorOf(await preview({ img: 'not a url', id: 7 }), 422);
    assert.equal(bad.code, 'template_error');
    assert.equal((bad.details as { field: string }).field, 'content.push.image');
    // A literal that is not a URL is bad input at save time, as for inline content.
    assert.equal(
      (await errorOf(await put('url-fields', { content: { push: { body: 'x', image: 'not a url' } } }), 400))
        .code,
      'invalid_request',
    );
  });

  test('an archived template refuses new notifications (422) while its versions stay readable; publishing restores it', async () => {
    assert.equal((await put('old-promo', { content: { webhook: { json: { text: 'promo' } } } })).status, 201);
    assert.equal(
      (await send({ to: { userId: 'alice' }, template: 'old-promo' })).status,
      202,
      'cached as live',
    );
    assert.equal((await app.call('/v1/templates/old-promo', { method: 'DELETE' })).status, 204);
    assert.equal(
      (await app.call('/v1/templates/old-promo', { method: 'DELETE' })).status,
      204,
      'archiving twice is harmless',
    );
    const before = await countRows(h.db.url, TABLES);
    const error = await errorOf(await send({ to: { userId: 'alice' }, template: 'old-promo' }), 422);
    assert.equal(error.code, 'unknown_template');
    assert.match(error.message, /archived/);
    assert.equal(
      (await errorOf(await send({ to: { userId: 'alice' }, template: 'old-promo', templateVersion: 1 }), 422))
        .code,
      'unknown_template',
    );
    assert.deepEqual(await countRows(h.db.url, TABLES), before);

    const v1 = await json<TemplateView>(await app.call('/v1/templates/old-promo/versions/1'));
    assert.equal(v1.version, 1);
    assert.ok(v1.archivedAt);
    assert.equal((await app.call('/v1/templates/old-promo')).status, 200);
    const live = await json<{ templates: TemplateView[] }>(await app.call('/v1/templates'));
    assert.ok(
      !live.templates.some((t) => t.key === 'old-promo'),
      'archived templates are not listed by default',
    );
    const all = await json<{ templates: TemplateView[] }>(
      await app.call('/v1/templates?includeArchived=true'),
    );
    assert.ok(all.templates.some((t) => t.key === 'old-promo'));

    const v2 = await json<TemplateView>(
      await put('old-promo', { content: { webhook: { json: { text: 'promo is back' } } } }),
    );
    assert.equal(v2.version, 2);
    assert.equal(v2.archivedAt, null);
    const sent = await send({ to: { userId: 'alice' }, template: 'old-promo' });
    assert.equal(sent.status, 202);
    assert.deepEqual(await received((await json<{ id: string }>(sent)).id, 'alice'), {
      text: 'promo is back',
    });
  });

  test('other processes see a publish within CLARION_TEMPLATE_CACHE_TTL_MS; a version they have not seen yet is fetched at once', async () => {
    /** A separate API process (`clarion start`) on this database, with its own template cache. */
    const children: ChildProcess[] = [];
    const startApi = async (ttlMs: string) => {
      const port = await freePort();
      const child = spawn(process.execPath, [join(__dirname, '..', 'cli', 'main.js'), 'start'], {
        env: h.childEnv({
          CLARION_ROLE: 'api',
          CLARION_TEMPLATE_CACHE_TTL_MS: ttlMs,
          CLARION_MIGRATE_ON_START: 'false',
          PORT: String(port),
        }),
        stdio: 'ignore',
      });
      children.push(child);
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        'API process up',
        () =>
          fetch(`${base}/healthz`).then(
            (r) => r.ok,
            () => false,
          ),
        { timeoutMs: 120_000 },
      );
      checkAnswersFrom(base);
      return {
        send: (body: unknown) =>
          fetch(`${base}/v1/notifications`, {
            method: 'POST',
            headers: { authorization: basic(app.appKey, app.appSecret), 'content-type': 'application/json' },
            body: JSON.stringify(body),
          }),
      };
    };
    const stopAll = () =>
      Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      );
    try {
      // Started together: a cold start takes seconds on a busy machine.
      const [slow, fresh] = await Promise.all([startApi('600000'), startApi('0')]);
      assert.equal((await put('cached', { content: { webhook: { json: { text: 'one' } } } })).status, 201);
      const versionOf = async (res: Response) => {
        assert.equal(res.status, 202);
        const { id } = await json<{ id: string }>(res);
        return (await json<{ template: { version: number } }>(await app.call(`/v1/notifications/${id}`)))
          .template.version;
      };
      assert.equal(await versionOf(await slow.send({ to: { userId: 'alice' }, template: 'cached' })), 1);
      assert.equal(await versionOf(await fresh.send({ to: { userId: 'alice' }, template: 'cached' })), 1);
      assert.equal((await put('cached', { content: { webhook: { json: { text: 'two' } } } })).status, 201);
      // The publishing process and a process without a cache TTL use v2 at once…
      assert.equal(await versionOf(await send({ to: { userId: 'alice' }, template: 'cached' })), 2);
      assert.equal(await versionOf(await fresh.send({ to: { userId: 'alice' }, template: 'cached' })), 2);
      // …one that cached the head keeps v1 until its entry expires (the documented trade-off),
      assert.equal(await versionOf(await slow.send({ to: { userId: 'alice' }, template: 'cached' })), 1);
      // but asking for v2 explicitly refreshes the head instead of answering 422.
      assert.equal(
        await versionOf(await slow.send({ to: { userId: 'alice' }, template: 'cached', templateVersion: 2 })),
        2,
      );
      assert.equal(await versionOf(await slow.send({ to: { userId: 'alice' }, template: 'cached' })), 2);
    } finally {
      await stopAll();
    }
  });

  test('the list pages by key with a cursor', async () => {
    const all = await json<{ templates: TemplateView[]; nextCursor: string | null }>(
      await app.call('/v1/templates?limit=1000'),
    );
    assert.equal(all.nextCursor, null);
    const keys = all.templates.map((t) => t.key);
    assert.deepEqual(keys, [...keys].sort());
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: { templates: TemplateView[]; nextCursor: string | null } = await json(
        await app.call(`/v1/templates?limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`),
      );
      assert.ok(page.templates.length <= 2);
      seen.push(...page.templates.map((t) => t.key));
      after = page.nextCursor;
    } while (after);
    assert.deepEqual(seen, keys);
  });

  test('concurrent publishes of one key get consecutive versions', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => put('raced', { content: { sms: { text: `v ${i}` } } })),
    );
    const versions = await Promise.all(answers.map(async (a) => (await json<TemplateView>(a)).version));
    assert.deepEqual(
      versions.sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
  });

  test('bad input on every template endpoint is a 4xx with the error shape and changes nothing', async () => {
    const before = await countRows(h.db.url, TABLES);
    const cases: [string, Promise<Response>, number][] = [
      [
        'bad key',
        app.call(`/v1/templates/${encodeURIComponent('bad key!')}`, {
          method: 'PUT',
          body: { content: { sms: { text: 'x' } } },
        }),
        400,
      ],
      ['key too long', put('k'.repeat(129), { content: { sms: { text: 'x' } } }), 400],
      ['no body', app.call('/v1/templates/x', { method: 'PUT' }), 400],
      [
        'not JSON',
        app.call('/v1/templates/x', {
          method: 'PUT',
          body: '{nope',
          headers: { 'content-type': 'application/json' },
        }),
        400,
      ],
      ['array body', put('x', []), 400],
      ['no content', put('x', { defaultLocale: 'en' }), 400],
      ['empty content', put('x', { content: {} }), 400],
      ['unknown channel', put('x', { content: { fax: { text: 'x' } } }), 400],
      ['unknown field', put('x', { content: { sms: { text: 'x' } }, colour: 'red' }), 400],
      ['wrong type', put('x', { content: { sms: { text: 42 } } }), 400],
      ['e-mail without body', put('x', { content: { email: { subject: 'x' } } }), 400],
      [
        'bad locale tag',
        put('x', { content: { sms: { text: 'x' } }, locales: { 'not a locale': { sms: { text: 'y' } } } }),
        400,
      ],
      ['bad default locale', put('x', { content: { sms: { text: 'x' } }, defaultLocale: 'english!' }), 400],
      [
        'variant adds a channel',
        put('x', { content: { sms: { text: 'x' } }, locales: { fr: { push: { body: 'y' } } } }),
        400,
      ],
      [
        'locale twice',
        put('x', {
          content: { sms: { text: 'x' } },
          locales: { 'pt-BR': { sms: { text: 'a' } }, pt_br: { sms: { text: 'b' } } },
        }),
        400,
      ],
      [
        'variant = default',
        put('x', {
          content: { sms: { text: 'x' } },
          defaultLocale: 'en',
          locales: { en: { sms: { text: 'y' } } },
        }),
        400,
      ],
      ['bad sample', put('x', { content: { sms: { text: 'x' } }, sample: { data: 'nope' } }), 400],
      ['list: bad limit', app.call('/v1/templates?limit=0'), 400],
      ['list: unknown param', app.call('/v1/templates?colour=red'), 400],
      ['get: bad key', app.call(`/v1/templates/${encodeURIComponent('a b')}`), 400],
      ['get: unknown', app.call('/v1/templates/never-published'), 404],
      ['version: not a number', app.call('/v1/templates/welcome/versions/abc'), 400],
      ['version: zero', app.call('/v1/templates/welcome/versions/0'), 400],
      ['version: unknown', app.call('/v1/templates/welcome/versions/99'), 404],
      ['version: unknown key', app.call('/v1/templates/never-published/versions/1'), 404],
      ['archive: unknown', app.call('/v1/templates/never-published', { method: 'DELETE' }), 404],
      ['archive: bad key', app.call(`/v1/templates/${encodeURIComponent('a b')}`, { method: 'DELETE' }), 400],
      ['preview: unknown template', app.call('/v1/templates/never-published/preview', { body: {} }), 404],
      ['preview: unknown version', app.call('/v1/templates/welcome/preview', { body: { version: 99 } }), 404],
      [
        'preview: unknown user',
        app.call('/v1/templates/welcome/preview', { body: { userId: 'nobody' } }),
        404,
      ],
      [
        'preview: user and userId',
        app.call('/v1/templates/welcome/preview', { body: { userId: 'alice', user: {} } }),
        400,
      ],
      ['preview: bad locale', app.call('/v1/templates/welcome/preview', { body: { locale: '!!' } }), 400],
      [
        'preview: bad channel',
        app.call('/v1/templates/welcome/preview', { body: { channels: ['fax'] } }),
        400,
      ],
      ['preview: unknown field', app.call('/v1/templates/welcome/preview', { body: { colour: 'red' } }), 400],
      [
        'notification: templateVersion alone',
        send({ to: { userId: 'alice' }, content: { webhook: { json: {} } }, templateVersion: 1 }),
        400,
      ],
      [
        'notification: bad templateVersion',
        send({ to: { userId: 'alice' }, template: 'welcome', templateVersion: 0 }),
        400,
      ],
      [
        'notification: template and content',
        send({ to: { userId: 'alice' }, template: 'welcome', content: { webhook: { json: {} } } }),
        400,
      ],
    ];
    for (const [name, pending, status] of cases) {
      const res = await pending;
      assert.equal(res.status, status, `${name}: ${res.status} ${await res.clone().text()}`);
      const body = await json<ApiErrorBody>(res);
      assert.ok(
        body.error && typeof body.error.code === 'string' && typeof body.error.message === 'string',
        name,
      );
    }
    assert.deepEqual(await countRows(h.db.url, TABLES), before);
    assert.equal((await json<TemplateView>(await app.call('/v1/templates/welcome'))).version, 2, 'unchanged');
  });

  test("another app cannot read, use or archive this app's templates; keys are per app", async () => {
    assert.equal((await other.call('/v1/templates/welcome')).status, 404);
    assert.equal((await other.call('/v1/templates/welcome/versions/1')).status, 404);
    assert.equal((await other.call('/v1/templates/welcome/preview', { body: {} })).status, 404);
    assert.equal((await other.call('/v1/templates/welcome', { method: 'DELETE' })).status, 404);
    assert.deepEqual((await json<{ templates: unknown[] }>(await other.call('/v1/templates'))).templates, []);
    assert.equal((await other.call('/v1/users/bob', { method: 'PUT', body: {} })).status, 201);
    assert.equal(
      (await errorOf(await send({ to: { userId: 'bob' }, template: 'welcome' }, other), 422)).code,
      'unknown_template',
    );
    const own = await json<TemplateView>(
      await put('welcome', { content: { sms: { text: 'theirs' } } }, other),
    );
    assert.equal(own.version, 1, 'the same key in another app is its own template');
    assert.equal((await json<TemplateView>(await app.call('/v1/templates/welcome'))).version, 2);
  });

  test('client keys cannot manage, read or preview templates', async () => {
    const client = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    const token = await signUserToken('alice', app.userTokenSecret);
    const asClient = (path: string, method: string, body?: unknown) =>
      fetch(`${h.url}${path}`, {
        method,
        headers: {
          authorization: basic(client.appKey, client.appSecret),
          'x-clarion-user-token': token,
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const before = await countRows(h.db.url, TABLES);
    for (const [path, method, body] of [
      ['/v1/templates/client-made', 'PUT', { content: { sms: { text: 'x' } } }],
      ['/v1/templates', 'GET', undefined],
      ['/v1/templates/welcome', 'GET', undefined],
      ['/v1/templates/welcome/versions/1', 'GET', undefined],
      ['/v1/templates/welcome', 'DELETE', undefined],
      ['/v1/templates/welcome/preview', 'POST', {}],
    ] as const) {
      const error = await errorOf(await asClient(path, method, body), 403);
      assert.equal(error.code, 'forbidden', `${method} ${path}`);
    }
    assert.deepEqual(await countRows(h.db.url, TABLES), before);
    assert.equal((await app.call('/v1/templates/welcome')).status, 200, 'not archived by the client');
  });

  test('metrics count renders by result, cache lookups and publishes, without template keys as labels', async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(text, /clarion_template_renders_total\{result="ok"[^}]*\} [1-9]/);
    assert.match(text, /clarion_template_renders_total\{result="missing_variable"[^}]*\} [1-9]/);
    assert.match(text, /clarion_template_cache_lookups_total\{cache="version",result="hit"[^}]*\} [1-9]/);
    assert.match(text, /clarion_template_publishes_total\{result="published"[^}]*\} [1-9]/);
    assert.match(text, /clarion_template_publishes_total\{result="syntax_error"[^}]*\} [1-9]/);
    assert.match(text, /clarion_template_publishes_total\{result="payload_too_large"[^}]*\} [1-9]/);
    assert.ok(!/clarion_template[^\n]*welcome/.test(text));
  });
  test('the OpenAPI document describes the templates API from the validating schemas', async () => {
    const doc = await json<{
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>(await fetch(`${h.url}/docs-json`));
    assert.deepEqual(Object.keys(doc.paths['/v1/templates/{key}'] ?? {}).sort(), ['delete', 'get', 'put']);
    assert.ok(doc.paths['/v1/templates']?.get);
    assert.ok(doc.paths['/v1/templates/{key}/versions/{version}']?.get);
    assert.ok(doc.paths['/v1/templates/{key}/preview']?.post);
    assert.ok(doc.components.schemas.PublishTemplate);
    assert.ok(doc.components.schemas.PreviewTemplate);
  });
});
