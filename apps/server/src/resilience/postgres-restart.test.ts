import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { OwnPostgres } from '@clarion/testkit';
import { Client } from 'pg';
import { type Harness, startHarness, type TestApp } from '../testing/harness';

/** Requests in flight at once: enough that some are inside a group-commit transaction at the crash. */
const SENDERS = 8;

/**
 * PostgreSQL crashes and comes back (stop -m immediate, start) while requests stream in: every
 * answer is a 202 or a 503 with Retry-After — never a 500, whatever the driver throws from the
 * middle of a transaction — and every 202 is in the database afterwards. The server runs on a
 * private cluster: the machine's shared PostgreSQL is never stopped.
 */
describe('PostgreSQL restarted under load', () => {
  let pg: OwnPostgres;
  let h: Harness;
  let app: TestApp;
  before(async () => {
    pg = await OwnPostgres.start();
    // The server's database is the private cluster, not the harness's fresh one on the shared server.
    h = await startHarness({ label: 'pgrestart', role: 'api', databaseVia: () => pg.url });
    app = await h.createApp();
    const res = await app.call('/v1/users/u', {
      method: 'PUT',
      body: { webhookUrl: `${h.sandbox.url}/webhook/u` },
    });
    assert.equal(res.status, 201);
  });
  after(async () => {
    await h.close();
    await pg.remove();
  });

  test('every answer is 202 or 503 with Retry-After, and every 202 is stored', async () => {
    const accepted: string[] = [];
    const answers = new Map<string, number>();
    const unexpected: string[] = [];
    let stop = false;
    let n = 0;
    const sender = async () => {
      while (!stop) {
        const i = n++;
        // Half carry an eventId: those are claimed inside a transaction (the path that gave 500).
        const body = {
          to: { userId: 'u' },
          content: { webhook: { json: { i } } },
          ...(i % 2 === 0 ? { eventId: `restart-${i}` } : {}),
        };
        const res = await app.call('/v1/notifications', { body, signal: AbortSignal.timeout(30_000) });
        const key =
          res.status === 503 && !res.headers.get('retry-after')
            ? '503 without Retry-After'
            : String(res.status);
        answers.set(key, (answers.get(key) ?? 0) + 1);
        if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
        else {
          const text = await res.text();
          if (res.status !== 503 || key !== '503') unexpected.push(`${res.status} ${text}`);
          if (res.status === 503) await sleep(50);
        }
      }
    };
    const senders = Array.from({ length: SENDERS }, sender);
    const acceptedBefore = async (count: number) => {
      const target = accepted.length + count;
      while (accepted.length < target) await sleep(20);
    };
    await acceptedBefore(50);
    await pg.down('immediate');
    await sleep(1500);
    await pg.up();
    await acceptedBefore(50);
    stop = true;
    await Promise.all(senders);

    assert.deepEqual(unexpected, [], `answers: ${JSON.stringify(Object.fromEntries(answers))}`);
    assert.ok((answers.get('503') ?? 0) > 0, 'requests made while the database was down got 503');
    const c = new Client({ connectionString: pg.url });
    await c.connect();
    try {
      const { rows } = await c.query<{ id: string }>(
        'SELECT id FROM notifications WHERE id = ANY($1::uuid[])',
        [accepted],
      );
      const stored = new Set(rows.map((r) => r.id));
      assert.deepEqual(
        accepted.filter((id) => !stored.has(id)),
        [],
        'every notification answered 202 is in the database',
      );
    } finally {
      await c.end();
    }
  });
});
