/**
 * `pnpm drill`: faults under load on this machine. For each scenario it starts a fresh database
 * (in its own PostgreSQL cluster, initdb on a free port), its own redis-server, one API and two
 * worker processes of the built server and the sandbox's signed webhook receiver; a client sends
 * unique notifications (each with an eventId, retrying 5xx and network errors with the same one)
 * while the scenario injects its faults. Ends with a table: accepted, received, lost, duplicated,
 * stuck, client-visible errors, time to drain after the last fault.
 *
 *   node libs/drill/dist/main.js [--notifications 5000] [--rate 400] [--concurrency 32]
 *     [--scenarios worker-sigkill,postgres-restart] [--drain-timeout 90] [--runs 1]
 *
 * Exits 1 when a scenario lost a notification, left one stuck or answered 500.
 */
import { parseArgs } from 'node:util';
import { OwnPostgres } from '@clarion/testkit';
import { runScenario, type ScenarioResult } from './run-scenario';
import { SCENARIOS, scenarioNamed } from './scenarios';
import { resultTable } from './table';

const { values: args } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    notifications: { type: 'string', default: '5000' },
    rate: { type: 'string', default: '400' },
    concurrency: { type: 'string', default: '32' },
    users: { type: 'string', default: '100' },
    scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
    'drain-timeout': { type: 'string', default: '90' },
    settle: { type: 'string', default: '5' },
    runs: { type: 'string', default: '1' },
  },
});

const log = (line: string) => process.stderr.write(`drill: ${line}\n`);

async function main(): Promise<void> {
  const scenarios = args.scenarios.split(',').map((name) => scenarioNamed(name.trim()));
  const pg = await OwnPostgres.start();
  log(`PostgreSQL on port ${pg.port}`);
  const results: ScenarioResult[] = [];
  try {
    for (let run = 0; run < Number(args.runs); run++) {
      for (const scenario of scenarios) {
        const result = await runScenario(pg, scenario, {
          notifications: Number(args.notifications),
          rate: Number(args.rate),
          concurrency: Number(args.concurrency),
          users: Number(args.users),
          drainTimeoutMs: Number(args['drain-timeout']) * 1000,
          settleMs: Number(args.settle) * 1000,
          log,
        });
        results.push(result);
        log(resultTable([result]).split('\n')[2]!);
      }
    }
  } finally {
    await pg.remove();
  }
  process.stdout.write(`${resultTable(results)}\n\n`);
  for (const s of scenarios) process.stdout.write(`- ${s.name}: ${s.description}\n`);
  const failed = results.filter((r) => r.lost > 0 || r.stuck > 0 || (r.errors['500'] ?? 0) > 0);
  if (failed.length > 0) {
    log(`lost, stuck or 500 in: ${[...new Set(failed.map((r) => r.scenario))].join(', ')}`);
    process.exitCode = 1;
  }
}

main()
  // Clients of the stopped servers may still hold timers: the report is out, so end here.
  .then(() => process.exit())
  .catch((error: unknown) => {
    process.stderr.write(
      `drill failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(2);
  });
