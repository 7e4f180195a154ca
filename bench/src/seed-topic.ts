import type { Client } from 'pg';

/**
 * Subscribes `count` new users to `topic`, each with an Android device (a token shaped like FCM's)
 * and an e-mail address, in four set-based statements: generate_series in PostgreSQL, nothing
 * per row in Node, so a million subscribers take seconds and no memory here.
 */
export async function seedTopic(pg: Client, appId: string, topic: string, count: number): Promise<void> {
  await pg.query(
    `INSERT INTO users (id, app_id, external_id)
     SELECT gen_random_uuid(), $1, 'sub-' || g FROM generate_series(1, $2::int) g`,
    [appId, count],
  );
  await pg.query(
    `INSERT INTO contacts (id, app_id, user_id, kind, platform, address)
     SELECT gen_random_uuid(), app_id, id, 'device', 'android',
            'bench' || external_id || ':APA91b' || md5(external_id) || md5(id::text)
     FROM users WHERE app_id = $1`,
    [appId],
  );
  await pg.query(
    `INSERT INTO contacts (id, app_id, user_id, kind, address)
     SELECT gen_random_uuid(), app_id, id, 'email', external_id || '@bench.test'
     FROM users WHERE app_id = $1`,
    [appId],
  );
  await pg.query(
    `INSERT INTO topic_subscriptions (app_id, topic, user_id) SELECT app_id, $2, id FROM users WHERE app_id = $1`,
    [appId, topic],
  );
  // Fresh statistics, as a long-lived database would have: the fan-out's plans depend on them.
  await pg.query('ANALYZE users, contacts, topic_subscriptions');
}
