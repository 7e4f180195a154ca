/**
 * `pnpm bench:plugins [-- --runs 3 --count 3000 --only apns,fcm]`: every plugin's own bench
 * (plugins/<name>/dist/bench.js: the real runtime on BullMQ, the real client library, the sandbox
 * fake) run several times, one after another; prints each run and the median per plugin.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cliArgs } from './cli-args';
import { median } from './percentiles';

const PLUGINS = ['apns', 'fcm', 'webpush', 'twilio', 'vonage', 'sendgrid', 'mailchimp', 'smtp'];
const { values: args } = parseArgs({
  args: cliArgs(),
  options: {
    runs: { type: 'string', default: '3' },
    count: { type: 'string', default: '3000' },
    only: { type: 'string' },
    'no-limiter': { type: 'boolean', default: false },
  },
});
const root = join(__dirname, '..', '..');
const chosen = args.only ? args.only.split(',') : PLUGINS;
const summary: Record<string, { median_per_s: number; runs: number[] }> = {};

for (const plugin of chosen) {
  const script = join(root, 'plugins', plugin, 'dist', 'bench.js');
  if (!existsSync(script)) throw new Error(`no bench for ${plugin}: ${script} (build first)`);
  const rates: number[] = [];
  for (let run = 0; run < Number(args.runs); run++) {
    const out = spawnSync(
      process.execPath,
      [script, args.count, ...(args['no-limiter'] ? ['--no-limiter'] : [])],
      {
        cwd: join(root, 'plugins', plugin),
        encoding: 'utf8',
        timeout: 600_000,
      },
    );
    const line = out.stdout.trim().split('\n').at(-1) ?? '';
    if (out.status !== 0 || !line.startsWith('{')) throw new Error(`${plugin} bench failed:\n${out.stderr}`);
    const result = JSON.parse(line) as { perSecond: number };
    rates.push(result.perSecond);
    process.stderr.write(`bench: ${plugin} run ${run + 1}: ${line}\n`);
  }
  summary[plugin] = { median_per_s: median(rates), runs: rates };
}
process.stdout.write(`${JSON.stringify(summary)}\n`);
