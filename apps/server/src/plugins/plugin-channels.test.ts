import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@clarion/testkit';
import { Client } from 'pg';
import { signUserToken } from '../auth/user-token';
import { basic, type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { CHAT_PACKAGE, installChatPlugin } from './testing/chat-plugin';

interface Delivery {
  id: string;
  channel: string;
  plugin: string | null;
  status: string;
  reason: string | null;
}
interface Contact {
  field: string;
  channel?: string;
  address: string;
  disabled: boolean;
  disabledReason: string | null;
}
interface User {
  webhookUrl: string | null;
  addresses: Record<string, string>;
  contacts: Contact[];
}
interface ApiError {
  error: { code: string; message: string; details: { path: string; message: string }[] };
}

const SIGNING_SECRET = 'chat-signing-secret-0123';

/** The chat provider's fake: a hook per user; `gone` hooks answer 404; records what it received. */
class ChatFake {
  readonly received: { hook: string; body: Record<string, unknown> }[] = [];
  private server!: Server;
  private n = 0;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const hook = (req.url ?? '').replace(/^\/hooks\//, '');
        if (hook.startsWith('gone')) {
          res.writeHead(404).end();
          return;
        }
        this.received.push({ hook, body: JSON.parse(text) as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `chat-msg-${++this.n}` }));
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  hook(id: string): string {
    return `${this.url}/hooks/${id}`;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/**
 * Issue 18: a plugin adding its own channel (`chat`) is usable end to end without touching the
 * core: users store an address for it, `content.chat` and `channels: ["chat"]` are accepted and
 * checked by the plugin's schemas, deliveries are routed to it and sent, a dead address disables
 * that address only, preferences apply, and the plugin receives its own callbacks.
 */
describe('a channel added by a plugin', () => {
  const root = mkdtempSync(join(__dirname, '.plugin-fixtures-'));
  const chat = new ChatFake();
  let h: Harness;
  let app: TestApp;
  let db: Client;

  const send = (body: Record<string, unknown>) => app.call('/v1/notifications', { body });
  const deliveriesOf = async (id: string) =>
    (await json<{ deliveries: Delivery[] }>(await app.call(`/v1/notifications/${id}`))).deliveries;
  const finalDelivery = (id: string) =>
    waitFor(`a final delivery of ${id}`, async () => {
      const [d] = await deliveriesOf(id);
      return d && !['pending', 'queued', 'sending', 'retrying'].includes(d.status) ? d : null;
    });
  const count = async (table: string) =>
    Number((await db.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n);
  const signed = (path: string, body: unknown) => {
    const text = JSON.stringify(body);
    return fetch(`${h.url}/v1/callbacks/chat${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-chat-signature': createHmac('sha256', SIGNING_SECRET).update(text).digest('hex'),
      },
      body: text,
    });
  };

  before(async () => {
    const pluginPath = join(root, 'node_modules');
    installChatPlugin(pluginPath);
    await chat.start();
    h = await startHarness({
      label: 'plugin_channels',
      env: {
        CLARION_PLUGINS: `@clarion/plugin-webhook,${CHAT_PACKAGE}`,
        CLARION_PLUGIN_PATH: pluginPath,
        CLARION_CHAT_SIGNING_SECRET: SIGNING_SECRET,
      },
    });
    app = await h.createApp();
    db = new Client({ connectionString: h.db.url });
    await db.connect();
  });

  after(async () => {
    await db?.end();
    await h?.close();
    await chat.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('a user stores an address for the channel; it is accepted, routed to the plugin and sent with the rendered content', async () => {
    const put = await app.call('/v1/users/ana', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/ana`, addresses: { chat: chat.hook('ana') } },
    });
    assert.equal(put.status, 201, await put.clone().text());
    const user = await json<User>(await app.call('/v1/users/ana'));
    assert.deepEqual(user.addresses, { chat: chat.hook('ana') });
    assert.equal(user.webhookUrl, `${h.sandbox.url}/webhook/ana`);
    assert.deepEqual(
      user.contacts.map((c) => [c.field, c.channel ?? null, c.address, c.disabled]),
      [
        ['webhookUrl', null, `${h.sandbox.url}/webhook/ana`, false],
        ['addresses.chat', 'chat', chat.hook('ana'), false],
      ],
    );

    const res = await send({
      to: { userId: 'ana' },
      channels: ['chat'],
      content: { chat: { text: 'Hi {{ user.id }}, order {{ data.order }} shipped', mentions: ['ana'] } },
      data: { order: 'A-1' },
    });
    assert.equal(res.status, 202, await res.clone().text());
    const accepted = await json<{ id: string; deliveries: number }>(res);
    assert.equal(accepted.deliveries, 1);
    const delivery = await finalDelivery(accepted.id);
    assert.deepEqual([delivery.channel, delivery.plugin, delivery.status], ['chat', 'chat', 'sent']);
    assert.deepEqual(chat.received, [
      { hook: 'ana', body: { text: 'Hi ana, order A-1 shipped', mentions: ['ana'] } },
    ]);

    // A batch item is checked by the same schema: one accepted, one refused naming its field.
    const batch = await app.call('/v1/notifications/batch', {
      body: {
        notifications: [
          { to: { userId: 'ana' }, content: { chat: { text: 'batched' } } },
          { to: { userId: 'ana' }, content: { chat: { text: 'x', colour: 'red' } } },
        ],
      },
    });
    assert.equal(batch.status, 207);
    const results = (
      await json<{ results: { status: number; error?: { details: { path: string }[] } }[] }>(batch)
    ).results;
    assert.deepEqual(
      results.map((r) => r.status),
      [202, 400],
    );
    assert.equal(results[1]?.error?.details[0]?.path, 'body.notifications.1.content.chat');
    await waitFor('the batched message at the hook', () =>
      chat.received.some((r) => r.body.text === 'batched'),
    );
  });

  test('content the plugin refuses, an unknown channel or a bad address is a 400 naming the field, and nothing is stored', async () => {
    const before = {
      notifications: await count('notifications'),
      deliveries: await count('deliveries'),
      contacts: await count('contacts'),
    };
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      [
        '/v1/notifications',
        { to: { userId: 'ana' }, content: { chat: { text: '' } } },
        'body.content.chat.text',
        /./,
      ],
      [
        '/v1/notifications',
        { to: { userId: 'ana' }, content: { chat: { text: 'x', colour: 'red' } } },
        'body.content.chat',
        /colour/,
      ],
      [
        '/v1/notifications',
        { to: { userId: 'ana' }, content: { fax: { text: 'x' } } },
        'body.content',
        /no loaded plugin serves channel "fax" \(channels: push, web, sms, email, webhook, chat, inbox\)/,
      ],
      [
        '/v1/notifications',
        { to: { userId: 'ana' }, channels: ['fax'], content: { chat: { text: 'x' } } },
        'body.channels.0',
        /no loaded plugin serves channel "fax"/,
      ],
      [
        '/v1/users/ana',
        { addresses: { chat: 'https://chat.example/not-a-hook' } },
        'body.addresses.chat',
        /a chat hook URL/,
      ],
      [
        '/v1/users/ana',
        { addresses: { fax: '+14155550100' } },
        'body.addresses',
        /no loaded plugin adds channel "fax" \(addresses are for: chat\)/,
      ],
    ];
    for (const [path, body, field, message] of cases) {
      const res = await app.call(path, { method: path.startsWith('/v1/users') ? 'PUT' : 'POST', body });
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.status}`);
      const error = (await json<ApiError>(res)).error;
      assert.equal(error.code, 'invalid_request');
      const detail = error.details.find((d) => d.path === field);
      assert.ok(detail, `${JSON.stringify(body)}: ${JSON.stringify(error.details)}`);
      assert.match(detail.message, message);
    }
    assert.deepEqual(
      {
        notifications: await count('notifications'),
        deliveries: await count('deliveries'),
        contacts: await count('contacts'),
      },
      before,
    );
    assert.deepEqual((await json<User>(await app.call('/v1/users/ana'))).addresses, {
      chat: chat.hook('ana'),
    });
  });

  test('a dead hook fails as invalid_address and disables that address only; the next notification skips it; setting it again re-enables it', async () => {
    await app.call('/v1/users/bo', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/bo`, addresses: { chat: chat.hook('gone-bo') } },
    });
    const first = await json<{ id: string }>(
      await send({ to: { userId: 'bo' }, content: { chat: { text: 'hello' } } }),
    );
    const failed = await finalDelivery(first.id);
    assert.deepEqual([failed.plugin, failed.status, failed.reason], ['chat', 'failed', 'invalid_address']);
    const contacts = await waitFor('the chat address disabled', async () => {
      const user = await json<User>(await app.call('/v1/users/bo'));
      return user.contacts.find((c) => c.field === 'addresses.chat')?.disabled ? user.contacts : null;
    });
    assert.deepEqual(
      contacts.map((c) => [c.field, c.disabled]),
      [
        ['webhookUrl', false],
        ['addresses.chat', true],
      ],
    );
    // The SDK's reason for an InvalidAddressError without one.
    assert.equal(contacts.find((c) => c.field === 'addresses.chat')?.disabledReason, 'invalid');

    const second = await json<{ id: string; deliveries: number; suppressed: number }>(
      await send({ to: { userId: 'bo' }, content: { chat: { text: 'again' } } }),
    );
    assert.deepEqual([second.deliveries, second.suppressed], [0, 1]);
    assert.deepEqual(
      (await deliveriesOf(second.id)).map((d) => [d.channel, d.status, d.reason]),
      [['chat', 'suppressed', 'no_contact']],
    );

    await app.call('/v1/users/bo', { method: 'PUT', body: { addresses: { chat: chat.hook('bo') } } });
    const user = await json<User>(await app.call('/v1/users/bo'));
    assert.deepEqual(
      user.contacts.map((c) => [c.field, c.address, c.disabled]),
      [
        ['webhookUrl', `${h.sandbox.url}/webhook/bo`, false],
        ['addresses.chat', chat.hook('bo'), false],
      ],
    );
  });

  test('a client key may not set an address on a plugin channel (403, nothing changed)', async () => {
    const client = await json<{ appKey: string; appSecret: string }>(
      await h.admin(`/admin/apps/${app.id}/keys`, {
        method: 'POST',
        body: JSON.stringify({ kind: 'client' }),
      }),
    );
    const res = await fetch(`${h.url}/v1/users/ana`, {
      method: 'PUT',
      headers: {
        authorization: basic(client.appKey, client.appSecret),
        'content-type': 'application/json',
        'x-clarion-user-token': await signUserToken('ana', app.userTokenSecret),
      },
      body: JSON.stringify({ addresses: { chat: chat.hook('mallory') } }),
    });
    assert.equal(res.status, 403);
    assert.match((await json<ApiError>(res)).error.message, /addresses\.chat/);
    assert.deepEqual((await json<User>(await app.call('/v1/users/ana'))).addresses, {
      chat: chat.hook('ana'),
    });
  });

  test("a user's preference against the channel suppresses it", async () => {
    await app.call('/v1/users/cy', { method: 'PUT', body: { addresses: { chat: chat.hook('cy') } } });
    const put = await app.call('/v1/users/cy/preferences', {
      method: 'PUT',
      body: { rules: [{ channel: 'chat', enabled: false }] },
    });
    assert.equal(put.status, 200, await put.text());
    const res = await json<{ id: string; deliveries: number }>(
      await send({ to: { userId: 'cy' }, content: { chat: { text: 'muted' } } }),
    );
    assert.equal(res.deliveries, 0);
    const [d] = await deliveriesOf(res.id);
    assert.deepEqual([d?.channel, d?.status], ['chat', 'suppressed']);
  });

  test("the plugin's callbacks: a signed receipt moves the delivery on, a bad signature is 401, a bad payload 400", async () => {
    await app.call('/v1/users/di', { method: 'PUT', body: { addresses: { chat: chat.hook('di') } } });
    const sent = await json<{ id: string }>(
      await send({ to: { userId: 'di' }, content: { chat: { text: 'receipt please' } } }),
    );
    assert.equal((await finalDelivery(sent.id)).status, 'sent');
    const messageId = `chat-msg-${chat.received.length}`;
    assert.equal(chat.received.at(-1)?.hook, 'di');

    const forged = await fetch(`${h.url}/v1/callbacks/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-chat-signature': 'nope' },
      body: JSON.stringify({ messageId, event: 'read' }),
    });
    assert.equal(forged.status, 401);
    assert.equal((await json<ApiError>(forged)).error.code, 'bad_signature');
    const bad = await signed('', { event: 'read' });
    assert.equal(bad.status, 400);
    assert.deepEqual([(await json<ApiError>(bad)).error.code], ['invalid_callback']);
    assert.equal((await deliveriesOf(sent.id))[0]?.status, 'sent');

    const ok = await signed('', { messageId, event: 'read' });
    assert.equal(ok.status, 200, await ok.clone().text());
    assert.deepEqual(await ok.json(), { received: 1, changed: 1, unknown: 0 });
    assert.equal((await deliveriesOf(sent.id))[0]?.status, 'opened');

    const unknownPlugin = await fetch(`${h.url}/v1/callbacks/nobody`, { method: 'POST' });
    assert.equal(unknownPlugin.status, 404);
  });

  test('an inbound STOP opts the address out of the channel, START takes it back', async () => {
    await app.call('/v1/users/ed', { method: 'PUT', body: { addresses: { chat: chat.hook('ed') } } });
    const stop = await signed('/inbound', { hook: chat.hook('ed'), text: ' stop ' });
    assert.equal(stop.status, 200, await stop.clone().text());
    const muted = await json<{ deliveries: number }>(
      await send({ to: { userId: 'ed' }, content: { chat: { text: 'after stop' } } }),
    );
    assert.equal(muted.deliveries, 0);

    assert.equal((await signed('/inbound', { hook: chat.hook('ed'), text: 'START' })).status, 200);
    const back = await json<{ deliveries: number }>(
      await send({ to: { userId: 'ed' }, content: { chat: { text: 'after start' } } }),
    );
    assert.equal(back.deliveries, 1);
  });

  test('templates carry the channel too: checked by its schema (locale variants once merged), rendered per user locale', async () => {
    const bad = await app.call('/v1/templates/chat-bad', {
      method: 'PUT',
      body: { content: { chat: { text: 'Hi' } }, locales: { pt: { chat: { text: '' } } } },
    });
    assert.equal(bad.status, 400);
    assert.ok(
      (await json<ApiError>(bad)).error.details.some((d) => d.path === 'body.locales.pt.chat.text'),
      'the merged variant is checked by the plugin schema',
    );
    const publish = await app.call('/v1/templates/chat-hello', {
      method: 'PUT',
      body: {
        content: { chat: { text: 'Hello {{ user.id }}', mentions: ['team'] } },
        locales: { pt: { chat: { text: 'Olá {{ user.id }}' } } },
      },
    });
    assert.equal(publish.status, 201, await publish.clone().text());
    await app.call('/v1/users/flor', {
      method: 'PUT',
      body: { locale: 'pt-BR', addresses: { chat: chat.hook('flor') } },
    });
    const preview = await app.call('/v1/templates/chat-hello/preview', {
      body: { userId: 'flor', channels: ['chat'] },
    });
    assert.equal(preview.status, 200, await preview.clone().text());
    const sent = await json<{ id: string }>(await send({ to: { userId: 'flor' }, template: 'chat-hello' }));
    assert.equal((await finalDelivery(sent.id)).status, 'sent');
    assert.deepEqual(chat.received.find((r) => r.hook === 'flor')?.body, {
      text: 'Olá flor',
      mentions: ['team'],
    });
  });

  test('the OpenAPI document served shows the loaded channel in content, addresses and templates', async () => {
    interface Schema {
      properties?: Record<string, Schema>;
      additionalProperties?: Schema;
      items?: Schema;
      enum?: string[];
    }
    const doc = await json<{ components: { schemas: Record<string, Schema> } }>(
      await fetch(`${h.url}/docs-json`),
    );
    const { schemas } = doc.components;
    const content = schemas.NotificationRequest!.properties!.content!.properties!;
    assert.ok('chat' in content, Object.keys(content).join(','));
    const addresses = schemas.UpsertUser!.properties!.addresses!.properties!;
    assert.deepEqual(Object.keys(addresses), ['chat']);
    const template = schemas.PublishTemplate!.properties!;
    assert.ok('chat' in template.content!.properties!, Object.keys(template.content!.properties!).join(','));
    const variant = template.locales!.additionalProperties!.properties!;
    assert.ok('chat' in variant, Object.keys(variant).join(','));
    assert.ok(schemas.PreviewTemplate!.properties!.channels!.items!.enum!.includes('chat'));
  });
});
