import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { OwnPostgres } from './own-postgres';

describe('OwnPostgres: a private cluster a test may crash', () => {
  let pg: OwnPostgres;
  before(async () => {
    pg = await OwnPostgres.start();
  });
  after(async () => {
    await pg.remove();
  });

  test('keeps committed rows across an immediate stop and a start', async () => {
    const c = new Client({ connectionString: pg.url });
    c.on('error', () => undefined); // the stop drops it
    await c.connect();
    await c.query('CREATE TABLE kept (n int)');
    await c.query('INSERT INTO kept VALUES (1)');
    await pg.down('immediate');
    await assert.rejects(c.query('SELECT 1'));
    await c.end().catch(() => undefined);
    await pg.up();
    const again = new Client({ connectionString: pg.url });
    await again.connect();
    assert.deepEqual((await again.query('SELECT n FROM kept')).rows, [{ n: 1 }]);
    await again.end();
  });
});
