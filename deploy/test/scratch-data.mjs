// The database and Redis keys one image-test run made on the machine's servers, removed afterwards.

/** Drops the run's database and deletes its Redis keys; `requireFromServer` resolves pg and ioredis. */
export async function dropScratchData({ requireFromServer, adminUrl, database, redisUrl, prefix }) {
  const { Client } = requireFromServer('pg');
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  const { Redis } = requireFromServer('ioredis');
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
