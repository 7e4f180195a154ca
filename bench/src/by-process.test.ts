import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClarionProcess } from '@clarion/testkit';
import { byProcess } from './by-process';

const processes = [7, 8, 9].map((pid) => ({ url: `http://p${pid}` }) as unknown as ClarionProcess);

test('one of a role keeps the role as its name; several are numbered by their place', () => {
  assert.deepEqual(
    byProcess(['api', 'worker'], processes, (p) => p.url),
    { api: 'http://p7', worker: 'http://p8' },
  );
  assert.deepEqual(
    byProcess(['api', 'worker', 'worker'], processes, (p) => p.url),
    { api: 'http://p7', worker1: 'http://p8', worker2: 'http://p9' },
  );
});
