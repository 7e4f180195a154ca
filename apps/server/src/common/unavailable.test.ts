import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDatabaseUnavailable } from './unavailable';

describe('isDatabaseUnavailable: a 503 to repeat, or a 500', () => {
  test('lost or refused connections, and PostgreSQL saying "not now", are unavailability', () => {
    assert.ok(isDatabaseUnavailable(new Error('Connection terminated unexpectedly')));
    assert.ok(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect')));
    assert.ok(
      isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    );
    // admin_shutdown, cannot_connect_now, too_many_connections, connection_failure (through TypeORM's wrapper)
    for (const code of ['57P01', '57P03', '53300'])
      assert.ok(isDatabaseUnavailable(Object.assign(new Error('x'), { code })), code);
    assert.ok(isDatabaseUnavailable({ message: 'query failed', driverError: { code: '08006' } }));
    assert.ok(isDatabaseUnavailable(new Error('wrapped', { cause: { code: 'ECONNRESET' } })));
  });

  test('errors of the request or the code are not', () => {
    assert.ok(!isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' })));
    assert.ok(!isDatabaseUnavailable({ message: 'syntax error', driverError: { code: '42601' } }));
    assert.ok(!isDatabaseUnavailable(new TypeError('x is undefined')));
    assert.ok(!isDatabaseUnavailable(undefined));
  });
});
