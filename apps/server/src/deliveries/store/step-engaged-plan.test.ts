import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { newId } from '../../common/ids';
import { explainAnalyze, scansRun } from '../../testing/plan-rows';
import { acceptedNotification, type StoreDatabase, storeDatabase } from '../../testing/store-database';
import { insertNotifications } from './insert-deliveries';
import { CLAIM_DUE_STEPS_SQL } from './notification-steps';

const STEPS = 100;

/**
 * A due step asks whether its user engaged with the notification's deliveries (`engaged`). Those
 * deliveries are in the notification's own day partition, and the question must probe that one
 * (two around midnight), not every day partition kept and made ahead.
 */
describe('claiming due steps: engagement read from the notification’s own days', () => {
  let s: StoreDatabase;
  let c: Client;
  const users = Array.from({ length: STEPS }, () => newId());
  const notifications = Array.from({ length: STEPS }, (_, i) => (i === 0 ? randomUUID() : newId()));

  before(async () => {
    s = await storeDatabase('step_engaged_plan');
    c = new Client({ connectionString: s.url });
    await c.connect();
    await c.query(
      `INSERT INTO users (id, app_id, external_id) SELECT u, $2, u::text FROM unnest($1::uuid[]) u`,
      [users, s.appId],
    );
    await insertNotifications(
      s.db,
      notifications.map((n) => acceptedNotification(n, s.appId)),
      [],
    );
    // Each user one delivery of their notification: opened for users 1, 3, 5…, only sent for 0, 2, 4…
    // (the ordinality `i` counts from 1).
    await c.query(
      `INSERT INTO deliveries (id, notification_id, app_id, user_id, channel, plugin, status, job)
       SELECT d, n, $4, u, 'push', 'fcm', CASE WHEN i % 2 = 0 THEN 'opened' ELSE 'sent' END, NULL
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) WITH ORDINALITY AS t(d, n, u, i)`,
      [users.map(() => newId()), notifications, users, s.appId],
    );
    await c.query(
      `INSERT INTO notification_steps (notification_id, app_id, user_id, step, channel, due_at, unless)
       SELECT n, $3, u, 2, 'email', now() - interval '1 minute', '{opened}'
         FROM unnest($1::uuid[], $2::uuid[]) AS t(n, u)`,
      [notifications, users, s.appId],
    );
  });
  after(async () => {
    await c?.end();
    await s?.close();
  });

  test('a step is engaged when its user opened that notification’s delivery, whatever its id’s version', async () => {
    await c.query('BEGIN');
    try {
      const { rows } = await c.query<{ userId: string; engaged: boolean }>(CLAIM_DUE_STEPS_SQL, [STEPS]);
      assert.equal(rows.length, STEPS);
      const engaged = new Map(rows.map((r) => [r.userId, r.engaged]));
      for (const [i, u] of users.entries()) assert.equal(engaged.get(u), i % 2 === 1, `user ${i}`);
    } finally {
      await c.query('ROLLBACK');
    }
  });

  test('probes the notification’s own day partition, not the week made ahead', async () => {
    await c.query('BEGIN');
    try {
      const plan = await explainAnalyze(c, CLAIM_DUE_STEPS_SQL, [STEPS]);
      const probes = scansRun(plan, 'deliveries');
      // Notification 0 has a UUIDv4 id: no floor, so its step may probe every partition.
      assert.ok(probes <= 2 * STEPS + 20, `partition index scans: ${probes} for ${STEPS} steps`);
    } finally {
      await c.query('ROLLBACK');
    }
  });
});
