import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { OwnPostgres } from '@clarion/testkit';
// Every answer from the drill's Clarion processes is checked against the OpenAPI document.
import '@clarion/server/dist/testing/checked-fetch';
import { type DrillOptions, runScenario } from './run-scenario';
import { scenarioNamed } from './scenarios';
import { resultTable } from './table';

/** The drill, small: 500 notifications through the faults that must cost nothing today. */
const SMALL: DrillOptions = {
  notifications: 500,
  rate: 100,
  concurrency: 16,
  users: 50,
  drainTimeoutMs: 60_000,
  settleMs: 1000,
  log: (line) => process.stderr.write(`drill: ${line}\n`),
};

describe('fault drill (small): one API, two workers, their own PostgreSQL and Redis', () => {
  let pg: OwnPostgres;
  before(async () => {
    pg = await OwnPostgres.start();
  });
  after(async () => {
    await pg.remove();
  });

  for (const name of ['worker-sigkill', 'postgres-restart']) {
    test(`${name}: nothing lost, nothing stuck, no 500`, async () => {
      const result = await runScenario(pg, scenarioNamed(name), SMALL);
      const table = resultTable([result]);
      process.stderr.write(`${table}\n`);
      assert.equal(result.accepted, SMALL.notifications, table);
      assert.equal(result.lost, 0, table);
      assert.equal(result.stuck, 0, table);
      assert.equal(result.errors['500'] ?? 0, 0, table);
      assert.equal(result.badSignatures, 0, table);
      assert.ok(result.drainMs !== undefined, table);
    });
  }
});
