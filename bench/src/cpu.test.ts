import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { CpuMeter, cpuPerDeliveryFields, processCpuMs } from './cpu';

/**
 * A process that burns `ms` of CPU, says so on stdout, and exits when its stdin closes: the test
 * samples it once it has burnt that much, then lets it go, so no timing decides the outcome.
 */
const BURNER = `
const target = Number(process.argv[1]);
while ((process.cpuUsage().user + process.cpuUsage().system) / 1000 < target) {}
process.stdout.write('burnt\\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));`;

test('CpuMeter: a process started after it counts from zero, and once exited keeps the CPU it was last seen using', async () => {
  const pids: number[] = [];
  const meter = new CpuMeter({ burners: () => pids });
  const burner = spawn(process.execPath, ['-e', BURNER, '300'], { stdio: ['pipe', 'pipe', 'inherit'] });
  pids.push(burner.pid!);
  const [chunk] = (await once(burner.stdout!, 'data')) as [Buffer];
  assert.equal(chunk.toString().trim(), 'burnt');
  meter.sample();
  burner.stdin!.end();
  await once(burner, 'exit');
  assert.equal(processCpuMs(burner.pid!), undefined, 'the process is gone');
  const { burners = 0 } = meter.used();
  // Linux counts CPU in ticks of 10 ms; the child's own count passed 300 ms before it said so.
  assert.ok(burners >= 290, `${burners} ms counted for a process that used at least 300 ms`);
});

test('cpuPerDeliveryFields: one field per process, named to its first space, and their sum', () => {
  assert.deepEqual(
    cpuPerDeliveryFields([
      ['api', 0.0104],
      ['worker1', 0.1306],
      ['bench (driver + receiver)', 0.02],
      ['postgres', 0.07],
    ]),
    {
      cpu_ms_per_delivery_api: 0.01,
      cpu_ms_per_delivery_worker1: 0.131,
      cpu_ms_per_delivery_bench: 0.02,
      cpu_ms_per_delivery_postgres: 0.07,
      cpu_ms_per_delivery_all: 0.231,
    },
  );
});
