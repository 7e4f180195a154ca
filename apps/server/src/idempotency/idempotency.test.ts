import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { AdminGuard } from '../auth/admin.guard';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { EnvError, loadEnv } from '../config/env';
import { sql } from '../testing/db';
import { type Harness, json, startHarness, type TestApp } from '../testing/harness';
import { IdempotencyGuard } from './idempotency.guard';
import { IdempotencyPurger } from './idempotency-purger';

interface Created {
  app: { id: string };
  key: { appKey: string };
}

describe('Idempotency-Key on the writes of /v1 and /admin', () => {
  let h: Harness;
  let app: TestApp;
  let other: TestApp;
  before(async () => {
    h = await startHarness({ label: 'idempotency' });
    app = await h.createApp();
    other = await h.createApp();
  });
  after(() => h.close());

  const createApp = (name: string, key?: string) =>
    h.admin('/admin/apps', {
      method: 'POST',
      body: JSON.stringify({ name }),
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    });
  const appsNamed = async (name: string) =>
    (await sql(h.db.url, 'SELECT id FROM apps WHERE name = $1', [name])).length;

  test('a retried app creation answers the first answer again and creates one app', async () => {
    const first = await createApp('retried', 'create-retried-1');
    assert.equal(first.status, 201);
    const body = await json<Created>(first);
    const again = await createApp('retried', 'create-retried-1');
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await json<Created>(again), body);
    assert.equal(await appsNamed('retried'), 1);
    // Without the header nothing is replayed.
    assert.equal((await createApp('retried')).status, 201);
    assert.equal(await appsNamed('retried'), 2);
  });

  test('the same key with another body is a 409 idempotency_key_reused, and nothing is done', async () => {
    assert.equal((await createApp('first-body', 'reused-key')).status, 201);
    const res = await createApp('second-body', 'reused-key');
    assert.equal(res.status, 409);
    assert.equal((await json<{ error: { code: string } }>(res)).error.code, 'idempotency_key_reused');
    assert.equal(await appsNamed('second-body'), 0);
  });

  test('concurrent repeats run once: the others replay the answer or are told it is in progress', async () => {
    const answers = await Promise.all(Array.from({ length: 12 }, () => createApp('concurrent', 'race-1')));
    const statuses = answers.map((r) => r.status);
    assert.ok(
      statuses.every((s) => s === 201 || s === 409),
      `only the answer or in progress: ${statuses}`,
    );
    const bodies = await Promise.all(answers.map((r) => r.json() as Promise<Record<string, unknown>>));
    const created = bodies.filter((_, i) => statuses[i] === 201) as unknown as Created[];
    assert.ok(created.length >= 1);
    assert.equal(new Set(created.map((c) => c.app.id)).size, 1, 'every 201 names the same app');
    for (const [i, b] of bodies.entries())
      if (statuses[i] === 409)
        assert.equal((b as { error: { code: string } }).error.code, 'idempotency_key_in_progress');
    assert.equal(await appsNamed('concurrent'), 1);
  });

  test('on /v1: a 4xx is replayed too; keys are per app; PUT and DELETE are covered', async () => {
    const bad = { to: { userId: 'nobody' } };
    const headers = { 'idempotency-key': 'send-1' };
    const first = await app.call('/v1/notifications', { body: bad, headers });
    assert.equal(first.status, 400);
    const again = await app.call('/v1/notifications', { body: bad, headers });
    assert.equal(again.status, 400);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await json(again), await json(first));
    // Another app's same key is its own.
    const theirs = await other.call('/v1/users/u1', { method: 'PUT', body: { locale: 'en' }, headers });
    assert.ok(theirs.status < 300);
    assert.equal(theirs.headers.get('idempotent-replayed'), null);
    const put = () =>
      app.call('/v1/users/u2', {
        method: 'PUT',
        body: { locale: 'fr' },
        headers: { 'idempotency-key': 'put-1' },
      });
    const p1 = await put();
    const p2 = await put();
    assert.equal(p2.status, p1.status);
    assert.equal(p2.headers.get('idempotent-replayed'), 'true');
    const del = () => app.call('/v1/users/u2', { method: 'DELETE', headers: { 'idempotency-key': 'del-1' } });
    assert.equal((await del()).status, 204);
    const d2 = await del();
    assert.equal(d2.status, 204, 'the first answer, not the 404 a second delete would give');
    assert.equal(d2.headers.get('idempotent-replayed'), 'true');
  });

  test('a domain error (a template that does not exist, 422) is replayed like any 4xx', async () => {
    const body = { eventId: 'no-template-1', to: { userId: 'u1' }, template: 'no-such-template' };
    const headers = { 'idempotency-key': 'send-unknown-template' };
    const first = await app.call('/v1/notifications', { body, headers });
    assert.equal(first.status, 422);
    const firstBody = await json<{ error: { code: string; details: unknown } }>(first);
    assert.equal(firstBody.error.code, 'unknown_template');
    assert.deepEqual(firstBody.error.details, { template: 'no-such-template' });
    const again = await app.call('/v1/notifications', { body, headers });
    assert.equal(again.status, 422);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(await json(again), firstBody);
  });
  test('a 5xx lets the key go: the retry with the same key runs and its answer is the one kept', async () => {
    // The app insert fails inside PostgreSQL for this name: the handler's error is a 500.
    await sql(
      h.db.url,
      `CREATE FUNCTION refuse_exploding_app() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.name = 'exploding' THEN RAISE EXCEPTION 'refused for the test'; END IF; RETURN NEW; END $$`,
    );
    await sql(
      h.db.url,
      'CREATE TRIGGER refuse_exploding_app BEFORE INSERT ON apps FOR EACH ROW EXECUTE FUNCTION refuse_exploding_app()',
    );
    try {
      const failed = await createApp('exploding', 'five-hundred-1');
      assert.equal(failed.status, 500);
      assert.equal(failed.headers.get('idempotent-replayed'), null);
    } finally {
      await sql(h.db.url, 'DROP TRIGGER refuse_exploding_app ON apps');
    }
    const retried = await createApp('exploding', 'five-hundred-1');
    assert.equal(retried.status, 201, 'the key was let go, so the retry ran');
    assert.equal(retried.headers.get('idempotent-replayed'), null);
    const again = await createApp('exploding', 'five-hundred-1');
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(await appsNamed('exploding'), 1);
  });

  test('an answer the database will not store is still sent, and the key answers in progress meanwhile', async () => {
    // Recording the answer (an UPDATE of the key's row) fails inside PostgreSQL.
    await sql(
      h.db.url,
      `CREATE FUNCTION refuse_answer() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN IF NEW.key = 'unstored-1' AND NEW.status IS NOT NULL THEN RAISE EXCEPTION 'refused for the test'; END IF;
       RETURN NEW; END $$`,
    );
    await sql(
      h.db.url,
      'CREATE TRIGGER refuse_answer BEFORE UPDATE ON idempotency_keys FOR EACH ROW EXECUTE FUNCTION refuse_answer()',
    );
    try {
      const first = await createApp('unstored', 'unstored-1');
      assert.equal(first.status, 201, 'the work was done, and the caller is told so');
      const again = await createApp('unstored', 'unstored-1');
      assert.equal(again.status, 409);
      assert.equal(
        (await json<{ error: { code: string } }>(again)).error.code,
        'idempotency_key_in_progress',
      );
      assert.equal(await appsNamed('unstored'), 1);
    } finally {
      await sql(h.db.url, 'DROP TRIGGER refuse_answer ON idempotency_keys');
    }
  });

  test('every route behind an app key or the admin token takes Idempotency-Key: its guard comes right after', () => {
    const checked: string[] = [];
    for (const module of h.app!.get(ModulesContainer).values()) {
      for (const { metatype } of module.controllers.values()) {
        if (typeof metatype !== 'function') continue;
        const methods = Object.getOwnPropertyNames(metatype.prototype).filter((m) => m !== 'constructor');
        for (const method of methods) {
          const guards: unknown[] = [
            ...((Reflect.getMetadata(GUARDS_METADATA, metatype) as unknown[]) ?? []),
            ...((Reflect.getMetadata(GUARDS_METADATA, metatype.prototype[method]) as unknown[]) ?? []),
          ];
          const auth = guards.findIndex((g) => g === ApiKeyGuard || g === AdminGuard);
          if (auth < 0) continue;
          checked.push(`${metatype.name}.${method}`);
          assert.equal(
            guards[auth + 1],
            IdempotencyGuard,
            `${metatype.name}.${method}: ${guards.map(String)}`,
          );
        }
      }
    }
    assert.ok(checked.includes('NotificationsController.create'), checked.join(', '));
    assert.ok(checked.includes('AdminController.create'), checked.join(', '));
  });

  test('a malformed key is a 400 and changes nothing', async () => {
    const res = await createApp('bad-key', 'x'.repeat(256));
    assert.equal(res.status, 400);
    assert.equal((await json<{ error: { code: string } }>(res)).error.code, 'invalid_request');
    assert.equal(await appsNamed('bad-key'), 0);
  });

  test('after the window the key is free again, and the periodic purge deletes expired answers', async () => {
    assert.equal((await createApp('windowed', 'window-1')).status, 201);
    await sql(
      h.db.url,
      "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'window-1'",
    );
    const res = await createApp('windowed-later', 'window-1');
    assert.equal(res.status, 201, 'an expired key runs the new request');
    assert.equal(res.headers.get('idempotent-replayed'), null);
    await sql(
      h.db.url,
      "UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'window-1'",
    );
    const purged = await h.app!.get(IdempotencyPurger).purge();
    assert.ok(purged >= 1);
    assert.equal((await sql(h.db.url, "SELECT 1 FROM idempotency_keys WHERE key = 'window-1'")).length, 0);
  });

  test('the window is configurable up to 30 days (720 h), 24 h by default', () => {
    const base = {
      DATABASE_URL: 'postgres://x@127.0.0.1/x',
      REDIS_URL: 'redis://127.0.0.1:6379',
      CLARION_ADMIN_TOKEN: 'a-long-enough-admin-token',
      CLARION_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
    };
    assert.equal(loadEnv(base).CLARION_IDEMPOTENCY_WINDOW_HOURS, 24);
    assert.equal(
      loadEnv({ ...base, CLARION_IDEMPOTENCY_WINDOW_HOURS: '720' }).CLARION_IDEMPOTENCY_WINDOW_HOURS,
      720,
    );
    assert.throws(() => loadEnv({ ...base, CLARION_IDEMPOTENCY_WINDOW_HOURS: '721' }), EnvError);
  });
});
