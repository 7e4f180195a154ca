import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { GcMeter, gcFields, parseGcTotals } from './gc-meter';

/**
 * Short-lived garbage, enough to fill the young generation many times over. Each array is kept in
 * a ring for a while, so no compiler can prove it unused and leave it out.
 */
function churn(megabytes: number): number {
  const ring: number[][] = new Array(64);
  let kept = 0;
  for (let i = 0; i < megabytes * 1024; i++) {
    ring[i & 63] = new Array<number>(128).fill(i);
    kept += ring[(i + 1) & 63]?.length ?? 0;
  }
  return kept;
}

test("a real registry's GC histogram: scavenges and pause time counted, parsed and diffed over a phase", async () => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const server = createServer(async (req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const meter = await GcMeter.start({ me: url });
    churn(256);
    // prom-client learns of collections from a PerformanceObserver, a turn of the event loop later.
    await new Promise((r) => setTimeout(r, 100));
    const { me } = await meter.used();
    assert.ok(me!.scavenges > 0, `scavenges counted: ${JSON.stringify(me)}`);
    assert.ok(me!.ms > 0, `pause time counted: ${JSON.stringify(me)}`);
    const fields = gcFields({ me: me! }, 1000);
    assert.equal(fields.scavenges_per_1000_deliveries_me, me!.scavenges);
    assert.equal(fields.gc_ms_per_delivery_me, Math.round(me!.ms) / 1000);
  } finally {
    server.close();
  }
});

test('the totals sum every kind’s time, and count young and full collections apart', () => {
  const text = [
    '# HELP nodejs_gc_duration_seconds Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    '# TYPE nodejs_gc_duration_seconds histogram',
    'nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 3',
    'nodejs_gc_duration_seconds_sum{kind="minor"} 0.25',
    'nodejs_gc_duration_seconds_count{kind="minor"} 40',
    'nodejs_gc_duration_seconds_sum{kind="major"} 0.5',
    'nodejs_gc_duration_seconds_count{kind="major"} 2',
    'nodejs_gc_duration_seconds_sum{kind="incremental"} 0.125',
    'nodejs_gc_duration_seconds_count{kind="incremental"} 2',
    'process_cpu_seconds_total 12',
  ].join('\n');
  assert.deepEqual(parseGcTotals(text), { ms: 875, scavenges: 40, full: 2 });
  assert.deepEqual(parseGcTotals('process_cpu_seconds_total 1\n'), { ms: 0, scavenges: 0, full: 0 });
});
