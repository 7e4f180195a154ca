import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CannotExecuteNotConnectedError,
  QueryFailedError,
  QueryRunnerAlreadyReleasedError,
  QueryRunnerProviderAlreadyReleasedError,
} from 'typeorm';
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

  test('TypeORM giving up on a dead connection, whatever its class, is unavailability', () => {
    // A transaction whose connection died mid-way: the next query throws this, with no cause.
    assert.ok(isDatabaseUnavailable(new QueryRunnerProviderAlreadyReleasedError()));
    assert.ok(isDatabaseUnavailable(new QueryRunnerAlreadyReleasedError()));
    assert.ok(isDatabaseUnavailable(new CannotExecuteNotConnectedError()));
    // The driver's error inside TypeORM's QueryFailedError.
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    assert.ok(isDatabaseUnavailable(new QueryFailedError('INSERT …', [], shutdown)));
  });

  test('deep cause chains, AggregateErrors and code-less messages are looked through', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    // Node's connect to several addresses rejects with an AggregateError of the attempts.
    assert.ok(isDatabaseUnavailable(new AggregateError([refused], 'all attempts failed')));
    let wrapped: Error = new QueryRunnerProviderAlreadyReleasedError();
    for (let i = 0; i < 4; i++) wrapped = new Error(`layer ${i}`, { cause: wrapped });
    assert.ok(isDatabaseUnavailable(wrapped));
    assert.ok(isDatabaseUnavailable(new Error('the database system is starting up')));
    assert.ok(isDatabaseUnavailable(new Error('Client was closed and is not queryable')));
    for (const code of ['08000', '08001', '08003', '08004', '08P01', '57P05'])
      assert.ok(isDatabaseUnavailable({ message: 'x', driverError: { code } }), code);
  });

  test('errors of the request or the code are not', () => {
    assert.ok(!isDatabaseUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' })));
    assert.ok(!isDatabaseUnavailable({ message: 'syntax error', driverError: { code: '42601' } }));
    assert.ok(!isDatabaseUnavailable(new TypeError('x is undefined')));
    assert.ok(!isDatabaseUnavailable(undefined));
    assert.ok(!isDatabaseUnavailable(new AggregateError([new RangeError('bad')], 'x')));
    // A cycle of causes ends.
    const cyclic = new Error('a') as Error & { cause?: unknown };
    cyclic.cause = cyclic;
    assert.ok(!isDatabaseUnavailable(cyclic));
  });
});
