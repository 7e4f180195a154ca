import { Client } from 'pg';

/** Row counts straight from PostgreSQL, to prove that a refused request wrote nothing. */
export async function countRows(url: string, tables: string[]): Promise<Record<string, number>> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const out: Record<string, number> = {};
    for (const t of tables) out[t] = Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
    return out;
  } finally {
    await c.end();
  }
}

export async function sql<T = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/**
 * Test set-up for large audiences, written straight to PostgreSQL (thousands of PUTs would only
 * slow a test down): users `<prefix>1` … `<prefix>n` with attribute `n`, each with a webhook
 * contact at `<webhookBase><externalId>`, all subscribed to `topic`. One statement.
 */
export async function seedTopicAudience(
  url: string,
  audience: { appId: string; topic: string; users: number; prefix: string; webhookBase: string },
): Promise<void> {
  await sql(
    url,
    `WITH u AS (
       INSERT INTO users (id, app_id, external_id, attributes)
       SELECT gen_random_uuid(), $1, $3 || i, jsonb_build_object('n', i) FROM generate_series(1, $2::int) i
       RETURNING id, external_id),
     c AS (INSERT INTO contacts (id, app_id, user_id, kind, address) SELECT gen_random_uuid(), $1, id, 'url', $4 || external_id FROM u)
     INSERT INTO topic_subscriptions (app_id, topic, user_id) SELECT $1, $5, id FROM u`,
    [audience.appId, audience.users, audience.prefix, audience.webhookBase, audience.topic],
  );
}
