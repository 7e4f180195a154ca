import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ClarionProcess, startClarionProcess, waitFor } from '@clarion/testkit';
import { sql } from '../testing/db';
import { ADMIN_TOKEN, basic, type Harness, startHarness } from '../testing/harness';

type LogLine = Record<string, unknown>;

/** JSON logs carrying request, notification and delivery ids; secrets never logged. */
describe('logs of a real process', () => {
  let h: Harness;
  let proc: ClarionProcess;

  before(async () => {
    h = await startHarness({ role: 'none', label: 'logs' });
    proc = await startClarionProcess({
      main: join(__dirname, '..', 'cli', 'main.js'),
      role: 'all',
      env: h.childEnv({ LOG_LEVEL: 'info' }),
      output: 'capture',
    });
  });

  after(async () => {
    await proc?.stop();
    await h?.close();
  });

  const parsed = (): LogLine[] =>
    proc.lines().flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });

  test('JSON lines with the request id, the notification id and the delivery id; no secret anywhere', async () => {
    const created = await fetch(`${proc.url}/admin/apps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'logs', settings: { webhookUrl: `${h.sandbox.url}/webhook/logs` } }),
    });
    const { key, userTokenSecret } = (await created.json()) as {
      key: { appKey: string; appSecret: string };
      userTokenSecret: string;
    };
    const auth = basic(key.appKey, key.appSecret);
    const call = (path: string, method: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${proc.url}${path}`, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    assert.equal((await call('/v1/users/lena', 'PUT', {})).status, 201);
    h.sandbox.behaviors.add({ provider: 'webhook', to: 'logs', fail: '503', times: 1 });

    const res = await call(
      '/v1/notifications',
      'POST',
      { to: { userId: 'lena' }, content: { webhook: { json: { hi: 1 } } } },
      { 'x-request-id': 'req-from-the-shop-42' },
    );
    assert.equal(res.status, 202, `${await res.clone().text()}\n${proc.lines().slice(-5).join('\n')}`);
    assert.equal(res.headers.get('x-request-id'), 'req-from-the-shop-42');
    const { id } = (await res.json()) as { id: string };
    await h.sandbox.recorder.waitFor(1, { provider: 'webhook', outcome: 'accepted' });

    const request = await waitFor('the request line', () =>
      parsed().find((l) => l.reqId === 'req-from-the-shop-42' && l.msg === 'request completed'),
    );
    assert.equal(request.notificationId, id, 'the request line names the notification it created');
    const retry = await waitFor('the retry line', () =>
      parsed().find((l) => l.msg === 'send failed; will retry'),
    );
    assert.equal(retry.notificationId, id);
    assert.match(String(retry.deliveryId), /^[0-9a-f-]{36}$/);

    // A caller's id that could forge log content is replaced by a fresh one.
    const odd = await call(
      '/v1/users/lena',
      'PUT',
      {},
      { 'x-request-id': 'bad id; with spaces and "quotes"' },
    );
    assert.match(odd.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);

    // Tokens in URLs (a tracked link, an unsubscribe link) are capabilities: logged by route, without the query.
    await fetch(`${proc.url}/t/tracked-link-token-123456`);
    await fetch(`${proc.url}/v1/unsubscribe?token=unsubscribe-token-654321`);
    const tracked = await waitFor('the tracked-link line', () =>
      parsed().find((l) => l.route === '/t/:token' && l.msg === 'request completed'),
    );
    assert.equal(tracked.url, '/t/:token');
    const unsubscribe = await waitFor('the unsubscribe line', () =>
      parsed().find((l) => l.route === '/v1/unsubscribe' && l.msg === 'request completed'),
    );
    assert.equal(unsubscribe.url, '/v1/unsubscribe');

    const everything = proc.lines().join('\n');
    const basicToken = auth.slice('Basic '.length);
    for (const secret of [
      key.appSecret,
      basicToken,
      ADMIN_TOKEN,
      userTokenSecret,
      h.env.CLARION_ENCRYPTION_KEY,
      'tracked-link-token-123456',
      'unsubscribe-token-654321',
    ]) {
      assert.ok(!everything.includes(secret), 'a secret reached the logs');
    }
  });

  test('a database error is logged with its message and code, never the statement’s parameters', async () => {
    // Stands in for any statement PostgreSQL refuses: TypeORM's error carries all its parameters.
    await sql(
      h.db.url,
      `CREATE FUNCTION refuse_logged() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF NEW.attributes ? 'refuseForLogs' THEN
           RAISE EXCEPTION 'refused for the log test' USING ERRCODE = 'check_violation';
         END IF;
         RETURN NEW;
       END $$`,
    );
    await sql(
      h.db.url,
      `CREATE TRIGGER refuse_logged BEFORE INSERT OR UPDATE ON users FOR EACH ROW EXECUTE FUNCTION refuse_logged()`,
    );
    const created = await fetch(`${proc.url}/admin/apps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'refused' }),
    });
    const { key } = (await created.json()) as { key: { appKey: string; appSecret: string } };
    const marker = 'private-value-of-a-user-7f3a9c';
    const res = await fetch(`${proc.url}/v1/users/refused`, {
      method: 'PUT',
      headers: { authorization: basic(key.appKey, key.appSecret), 'content-type': 'application/json' },
      body: JSON.stringify({ attributes: { refuseForLogs: true, secret: marker } }),
    });
    assert.equal(res.status, 500);
    const logged = await waitFor('the error line', () =>
      parsed().find((l) => JSON.stringify(l).includes('refused for the log test')),
    );
    const err = logged.err as Record<string, unknown>;
    assert.equal(err.code, '23514', JSON.stringify(err));
    assert.equal('parameters' in err, false);
    assert.ok(!proc.lines().join('\n').includes(marker), 'a parameter reached the logs');
  });
});
