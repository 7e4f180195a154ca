import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '@clarion/testkit';
import { type Harness, startHarness } from '../testing/harness';

describe('CLARION_METRICS_PORT', () => {
  let h: Harness;
  let port: number;
  before(async () => {
    port = await freePort();
    h = await startHarness({
      role: 'api',
      label: 'metricsport',
      env: { CLARION_METRICS_PORT: String(port) },
    });
  });
  after(async () => {
    await h.close();
  });

  test('/metrics moves to its own port: the public port no longer serves it', async () => {
    const scraped = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(scraped.status, 200);
    assert.match(await scraped.text(), /clarion_notifications_accepted_total/);
    assert.equal((await fetch(`${h.url}/metrics`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 404, 'only /metrics there');
    assert.equal((await fetch(`${h.url}/readyz`)).status, 200, 'probes stay on the main port');
  });
});
