/**
 * `pnpm bench`: Clarion end to end on this machine. Starts the sandbox (webhook receiver), an API
 * process and a worker process (`clarion start`, as in production), loads N users, drives the API
 * with many concurrent single-user notifications, waits for every message to reach the sandbox,
 * then measures the raw BullMQ rate in the same run as the ceiling. Ends with one JSON line.
 *
 *   node bench/dist/main.js [--scenario transactional|bulk|campaign|million|provider-floor] [--recipients 100000] [--email sendgrid|smtp] [--html-kb 0] [--batch-size 1000] [--batch-concurrency 4] [--warmup 20000] [--users 5000] [--notifications 20000] [--concurrency 128] [--roles split|all] [--workers 1] [--runs 1] [--log-level warn]
 *
 * `campaign` and `million` (campaign.ts): one request to a topic of `--recipients` subscribers
 * (100,000 and 1,000,000 by default), each with an Android device and an e-mail, through the FCM
 * plugin and the SendGrid (or `--email smtp`) plugin to the sandbox.
 *
 * `provider-floor` (provider-floor.ts): the provider I/O of such a campaign alone, no Clarion in
 * between: `--recipients` FCM messages and e-mails from the client libraries straight to the fakes
 * (`--fakes child`, their own process, or `inprocess`).
 *
 * With `--runs N` it repeats the whole run N times (fresh database, processes and queues each time),
 * logs each run's figures, and ends with the median of each figure: this machine's speed drifts, and
 * one run says little. `BENCH_KEEP_DB=1` leaves the run's database in place (every scenario but provider-floor), to look
 * at the rows it wrote (their sizes, what the WAL breakdown points at).
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Sandbox, type SandboxRecord, webhookFake } from '@clarion/sandbox';
import {
  type ClarionProcess,
  clearPrefix,
  createTestDatabase,
  startClarionProcess,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
  waitFor,
} from '@clarion/testkit';
import { Client } from 'pg';
import { AutovacuumStandIn } from './autovacuum-stand-in';
import { driveBatches } from './bulk-load';
import { bullmqCeiling } from './bullmq-ceiling';
import { byProcess } from './by-process';
import { runCampaign } from './campaign';
import { cliArgs } from './cli-args';
import { CpuMeter, cpuPerDeliveryFields, MachineBusy, pidsNamed } from './cpu';
import { GcMeter, gcFields } from './gc-meter';
import { httpExchangeCpuMs } from './http-floor';
import { imageNodeArgs, withImageHeapCap } from './image-heap-cap';
import { drive, type LoadResult } from './load';
import { migrate } from './migrate';
import { PeakRss } from './peak-rss';
import { median, quantile } from './percentiles';
import { runProviderFloor } from './provider-floor';
import { DatabaseWalMeter, walPerDelivery } from './wal-by-database';

const { values: args } = parseArgs({
  args: cliArgs(),
  options: {
    users: { type: 'string', default: '5000' },
    notifications: { type: 'string', default: '20000' },
    /**
     * Requests in flight. At 64 the cores were about 93 % busy, at 128 94–96 %, and 128 delivered
     * more in 6 of 8 interleaved pairs (median +7 %). The API then accepts a little faster than the
     * worker sends, so the latencies include some queue wait; `--concurrency 64` shows latency
     * without that backlog.
     */
    concurrency: { type: 'string', default: '128' },
    roles: { type: 'string', default: 'split' },
    /**
     * `transactional`: single requests. `bulk`: the same, then as many through the batch route.
     * `campaign` / `million`: one request to a topic (campaign.ts).
     */
    scenario: { type: 'string', default: 'transactional' },
    /** Topic subscribers (`campaign`: 100,000 by default; `million`: 1,000,000). */
    recipients: { type: 'string' },
    /** `provider-floor`: the fakes in a process of their own (`child`) or in the bench's (`inprocess`). */
    fakes: { type: 'string', default: 'child' },
    /** The e-mail plugin of `campaign` and `million`. */
    email: { type: 'string', default: 'sendgrid' },
    /** `campaign` / `million`: the e-mail's HTML body in KiB (a newsletter's table of offers); 0: text only. */
    'html-kb': { type: 'string', default: '0' },
    /** Items per batch request and batch requests in flight (`--scenario bulk`). */
    'batch-size': { type: 'string', default: '1000' },
    'batch-concurrency': { type: 'string', default: '4' },
    /** Worker processes beside the API (split roles only). */
    workers: { type: 'string', default: '1' },
    'ceiling-jobs': { type: 'string', default: '20000' },
    /**
     * Notifications sent (and, with `--scenario bulk`, as many through the batch route) before the
     * measured phase, and jobs run before the ceiling is timed. V8 compiles a process's hot code
     * during its first tens of thousands of requests: with a warm-up of 1,000, optimizing
     * compilation took 20–30 % of the API's CPU in the first seconds of the measured phase and about
     * 2 % once settled (`perf` of the API process, docs/benchmarks.md). A server runs for days, so
     * the figures are read warm; `--warmup 1000` gives the cold figures. `campaign` and `million`
     * first send a campaign of that many subscribers (at most `--recipients`) of another app,
     * untimed; `--warmup 0` measures a cold server.
     */
    warmup: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '1' },
    /**
     * The servers' LOG_LEVEL. `warn` by default: at `info` (the servers' own default) every request
     * writes a log line, which costs CPU on the same two cores (measured in docs/benchmarks.md).
     */
    'log-level': { type: 'string', default: 'warn' },
  },
});
const USERS = Number(args.users);
const TOTAL = Number(args.notifications);
const CONCURRENCY = Number(args.concurrency);
const WARMUP = Number(args.warmup);
if (!Number.isInteger(WARMUP) || WARMUP < 0) throw new Error('--warmup takes a whole number, 0 or more');
const SCENARIO = args.scenario;
const SCENARIOS = ['transactional', 'bulk', 'campaign', 'million', 'provider-floor'] as const;
if (!(SCENARIOS as readonly string[]).includes(SCENARIO))
  throw new Error(`--scenario is one of ${SCENARIOS.join(', ')}, not ${SCENARIO}`);
if (args.fakes !== 'child' && args.fakes !== 'inprocess') throw new Error('--fakes is child or inprocess');
if (args.email !== 'sendgrid' && args.email !== 'smtp') throw new Error('--email is sendgrid or smtp');
const RECIPIENTS = Number(args.recipients ?? (SCENARIO === 'million' ? 1_000_000 : 100_000));
if (!Number.isInteger(RECIPIENTS) || RECIPIENTS < 1)
  throw new Error('--recipients takes a whole number, 1 or more');
if (!(Number(args['html-kb']) >= 0)) throw new Error('--html-kb takes a size in KiB, 0 or more');
const BATCH_SIZE = Number(args['batch-size']);
const BATCH_CONCURRENCY = Number(args['batch-concurrency']);
const SECRET = 'bench-webhook-secret-0123456789abcdef';
const ADMIN = randomBytes(18).toString('base64url');
const serverMain = join(dirname(require.resolve('@clarion/server/package.json')), 'dist', 'cli', 'main.js');

const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** The figures of one run: the JSON line `pnpm bench` ends with. */
interface BenchResult {
  accepted_per_s: number;
  delivered_per_s: number;
  e2e_p50_ms: number;
  e2e_p99_ms: number;
  rss_mb: number;
  /** WAL per delivery: the whole cluster's (other databases' writes included), and this database's own. */
  wal_bytes_per_delivery: number;
  wal_db_bytes_per_delivery?: number;
  wal_db_page_image_bytes_per_delivery?: number;
  wal_db_records_per_delivery?: number;
  /** PostgreSQL disk (heap + indexes of deliveries, events, notifications) per delivery kept. */
  pg_bytes_per_delivery: number;
  bullmq_ceiling_per_s: number;
  /** `--scenario bulk`: the same deliveries through POST /v1/notifications/batch, and its ratio to single requests. */
  bulk_accepted_per_s?: number;
  bulk_delivered_per_s?: number;
  bulk_e2e_p50_ms?: number;
  bulk_e2e_p99_ms?: number;
  bulk_rss_mb?: number;
  bulk_wal_bytes_per_delivery?: number;
  bulk_to_single_ratio?: number;
  /**
   * Per process: `cpu_ms_per_delivery_<process>`, `peak_rss_mb_<process>`, and for the server's
   * processes `gc_ms_per_delivery_<process>` and `scavenges_per_1000_deliveries_<process>` (gc-meter.ts).
   */
  [figure: string]: number | undefined;
}

async function runOnce(): Promise<BenchResult> {
  const db = await createTestDatabase('bench');
  const prefix = testPrefix('bench');
  const sandbox = await Sandbox.start({ fakes: [webhookFake({ secret: SECRET })] });
  const processes: ClarionProcess[] = [];
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      CLARION_ADMIN_TOKEN: ADMIN,
      CLARION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CLARION_QUEUE_PREFIX: prefix,
      CLARION_PLUGINS: '@clarion/plugin-webhook',
      CLARION_WEBHOOK_SECRET: SECRET,
      // The sandbox receiver listens on 127.0.0.1.
      CLARION_OUTBOUND_ALLOW_PRIVATE: 'true',
      CLARION_MIGRATE_ON_START: 'false',
      LOG_LEVEL: args['log-level'],
      // One key drives the whole load: the per-key quota is a production safety net, not what is measured here.
      CLARION_API_QUOTA: '1000000000',
      NODE_OPTIONS: withImageHeapCap(process.env.NODE_OPTIONS),
    };
    migrate(serverMain, env);

    const roles: ('api' | 'worker' | 'all')[] =
      args.roles === 'all'
        ? ['all']
        : ['api', ...Array.from({ length: Number(args.workers) }, () => 'worker' as const)];
    for (const role of roles)
      processes.push(await startClarionProcess({ main: serverMain, role, env, nodeArgs: imageNodeArgs() }));
    const api = processes[0]!.url;
    const named = <T>(value: (p: ClarionProcess) => T) => byProcess(roles, processes, value);

    const created = await fetch(`${api}/admin/apps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', settings: { webhookUrl: `${sandbox.url}/webhook/bench` } }),
    });
    if (!created.ok) throw new Error(`create app: ${created.status} ${await created.text()}`);
    const { app, key } = (await created.json()) as {
      app: { id: string };
      key: { appKey: string; appSecret: string };
    };
    const auth = `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`;

    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query(
      `INSERT INTO users (id, app_id, external_id) SELECT gen_random_uuid(), $1, 'user-' || g FROM generate_series(1, $2::int) g`,
      [app.id, USERS],
    );
    log(
      `${USERS} users loaded; roles: ${roles.join(' + ')}; ${TOTAL} notifications at concurrency ${CONCURRENCY}`,
    );
    const vacuum = await AutovacuumStandIn.start(pg, log);

    // End-to-end latency: each message carries the time its request was sent and the phase it belongs to;
    // the receiver's clock is the same machine's.
    const phases = new Map<string, { latencies: number[]; lastReceipt: number }>();
    sandbox.recorder.on('record', (r: SandboxRecord) => {
      const content = (r.payload as { content?: { phase?: string; t?: number } }).content;
      const phase = content?.phase === undefined ? undefined : phases.get(content.phase);
      if (r.outcome !== 'accepted' || !phase || typeof content?.t !== 'number') return;
      const at = Date.parse(r.receivedAt);
      phase.latencies.push(at - content.t);
      phase.lastReceipt = Math.max(phase.lastReceipt, at);
    });
    const body = (phase: string) => (i: number) => ({
      to: { userId: `user-${(i % USERS) + 1}` },
      content: { webhook: { json: { phase, t: Date.now(), i } } },
    });

    // Both routes the run measures, so each process's hot code is compiled before it is timed.
    const warm = await drive(api, auth, WARMUP, CONCURRENCY, body('warmup'));
    const warmBulk =
      SCENARIO === 'bulk'
        ? await driveBatches(api, auth, WARMUP, BATCH_SIZE, BATCH_CONCURRENCY, body('warmup'))
        : undefined;
    await waitFor(
      'warm-up deliveries',
      () => sandbox.recorder.count({ outcome: 'accepted' }) >= warm.accepted + (warmBulk?.accepted ?? 0),
      { timeoutMs: 300_000 },
    );
    log(
      `warmed up: ${warm.accepted} single${warmBulk ? ` and ${warmBulk.accepted} batch` : ''} notifications`,
    );

    /** Drives one phase's load, waits for all of it at the receiver, and logs where the CPU went. */
    const measure = async (phase: string, send: (body: (i: number) => unknown) => Promise<LoadResult>) => {
      const seen = { latencies: [] as number[], lastReceipt: 0 };
      phases.set(phase, seen);
      const { latencies } = seen;
      let rssPeak = 0;
      const sampler = setInterval(async () => {
        const total = (await Promise.all(processes.map((p) => p.rss()))).reduce((a, b) => a + b, 0);
        rssPeak = Math.max(rssPeak, total);
      }, 250);
      // CPU of every process on the path (PostgreSQL and Redis when they run on this machine).
      const cpu = new CpuMeter({
        ...named((p) => () => [p.child.pid!]),
        'bench (driver + receiver)': () => [process.pid],
        postgres: () => pidsNamed('postgres'),
        redis: () => pidsNamed('redis-server'),
      });
      // PostgreSQL's backends come and go with the pools: each is read while it lives.
      const cpuSampler = setInterval(() => cpu.sample(), 1000);
      const machine = new MachineBusy();
      const gc = await GcMeter.start(named((p) => p.url));
      const peakRss = new PeakRss({ ...named((p) => p.child.pid!), bench: process.pid });
      // WAL written meanwhile (the whole cluster's: on a shared server, other databases' writes count too).
      const walLsn = async () =>
        ((await pg.query(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows as [{ lsn: string }])[0].lsn;
      const walStart = await walLsn();
      const walMeter = await DatabaseWalMeter.start(pg);
      const started = Date.now();
      const load = await send(body(phase));
      await waitFor('every accepted notification at the receiver', () => latencies.length >= load.accepted, {
        timeoutMs: 600_000,
        intervalMs: 50,
      });
      clearInterval(sampler);
      clearInterval(cpuSampler);
      const peaks = peakRss.stop();
      const cpuUsed = cpu.used();
      const gcUsed = await gc.used();
      const usage = machine.usage();
      const [{ wal }] = (
        await pg.query(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::float8 AS wal`, [walStart])
      ).rows as [{ wal: number }];
      const walOwn = await walMeter?.bytes();

      const [{ sent }] = (
        await pg.query(`SELECT count(*)::int AS sent FROM deliveries WHERE status = 'sent'`)
      ).rows as [{ sent: number }];
      // Disk per delivery: heap, TOAST and indexes of each table (every partition), over the deliveries kept.
      const [disk] = (
        await pg.query(
          `SELECT (SELECT count(*) FROM deliveries)::float8 AS n,
                  (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('deliveries'))::float8 AS d,
                  (SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree('delivery_events'))::float8 AS e,
                  pg_total_relation_size('notifications')::float8 AS nt`,
        )
      ).rows as [{ n: number; d: number; e: number; nt: number }];
      if (walOwn)
        log(
          `${phase}: WAL per delivery by table/index (bytes): ${walOwn.byRelation
            .slice(0, 14)
            .map(([name, b]) => `${name} ${Math.round(b / latencies.length)}`)
            .join(', ')}`,
        );
      if (walOwn)
        log(
          `${phase}: WAL records per delivery: ${(walOwn.records / latencies.length).toFixed(1)}; by kind (records, bytes per delivery): ${walPerDelivery(walOwn.byKind, latencies.length, 14)}`,
        );
      if (walOwn)
        log(
          `${phase}: WAL per delivery by table/index and kind (records, bytes): ${walPerDelivery(walOwn.byRelationKind, latencies.length, 24)}`,
        );
      log(
        `${phase}: PostgreSQL disk per delivery (${disk.n} deliveries, heap + indexes): deliveries ${Math.round(disk.d / disk.n)} B, events ${Math.round(disk.e / disk.n)} B, notifications ${Math.round(disk.nt / disk.n)} B`,
      );
      const sorted = [...latencies].sort((a, b) => a - b);
      const acceptedPerS = load.accepted / (load.elapsedMs / 1000);
      const deliveredPerS = latencies.length / ((seen.lastReceipt - started) / 1000);
      log(
        `${phase}: accepted ${load.accepted} in ${(load.elapsedMs / 1000).toFixed(2)} s; rejected ${JSON.stringify(load.rejected)}`,
      );
      log(
        `${phase}: delivered ${latencies.length} (receiver), last at +${((seen.lastReceipt - started) / 1000).toFixed(2)} s; ${sent} deliveries 'sent' in PostgreSQL (incl. earlier phases)`,
      );

      const perDelivery = Object.entries(cpuUsed).map(([name, ms]) => [name, ms / latencies.length] as const);
      const cpuTotal = perDelivery.reduce((sum, [, ms]) => sum + ms, 0);
      log(
        `${phase}: CPU per delivery (ms): ${perDelivery.map(([name, ms]) => `${name} ${ms.toFixed(3)}`).join(', ')}; total ${cpuTotal.toFixed(3)} on ${availableParallelism()} cores (${cpuTotal > 0 ? Math.round((1000 * availableParallelism()) / cpuTotal) : '-'} deliveries/s if every core did only this)${usage === undefined ? '' : `; the cores were ${Math.round(100 * usage.busy)} % busy, ${Math.round(100 * usage.steal)} % stolen`}`,
      );
      if (usage !== undefined) {
        // Busy time the processes above do not account for: the kernel's own work (loopback
        // networking) and anything else running on the machine. Large, it means the run was shared.
        // Both sides are tick-sampled, so a run with nothing else about reads 0.00–0.03 ms.
        const otherMs = Math.max(0, usage.busyMs / latencies.length - cpuTotal);
        log(
          `${phase}: CPU per delivery outside those processes (kernel, other programs): ${otherMs.toFixed(2)} ms${otherMs > 0.25 * cpuTotal ? ' — something else used the cores during this run; its figures are low' : ''}`,
        );
      }
      log(
        `${phase}: PostgreSQL WAL per delivery: ${(wal / latencies.length / 1024).toFixed(2)} KB (cluster-wide)${walOwn === undefined ? '' : `, ${(walOwn.total / latencies.length / 1024).toFixed(2)} KB of this database's own records (pg_waldump), of which ${(walOwn.pageImages / latencies.length / 1024).toFixed(2)} KB full-page images (these depend on checkpoint timing)`}`,
      );
      return {
        accepted_per_s: Math.round(acceptedPerS),
        delivered_per_s: Math.round(deliveredPerS),
        e2e_p50_ms: quantile(sorted, 0.5),
        e2e_p99_ms: quantile(sorted, 0.99),
        rss_mb: Math.round(rssPeak / 1024 / 1024),
        // Cluster-wide WAL over the phase divided by deliveries: other databases' writes inflate it.
        wal_bytes_per_delivery: Math.round(wal / latencies.length),
        // This database's own WAL records (pg_waldump), when the server's WAL is readable here.
        ...(walOwn === undefined
          ? {}
          : {
              wal_db_bytes_per_delivery: Math.round(walOwn.total / latencies.length),
              wal_db_page_image_bytes_per_delivery: Math.round(walOwn.pageImages / latencies.length),
              wal_db_records_per_delivery: Math.round((10 * walOwn.records) / latencies.length) / 10,
            }),
        pg_bytes_per_delivery: Math.round((disk.d + disk.e + disk.nt) / disk.n),
        ...cpuPerDeliveryFields(perDelivery),
        ...Object.fromEntries(Object.entries(peaks).map(([name, mb]) => [`peak_rss_mb_${name}`, mb])),
        ...gcFields(gcUsed, latencies.length),
      };
    };

    const single = await measure('measure', (b) => drive(api, auth, TOTAL, CONCURRENCY, b));
    // The same number of deliveries through the batch route, in the same run (same processes and machine state).
    const bulk =
      SCENARIO === 'bulk'
        ? await measure('bulk', (b) => driveBatches(api, auth, TOTAL, BATCH_SIZE, BATCH_CONCURRENCY, b))
        : undefined;
    vacuum?.stop();
    await pg.end();

    log('measuring the raw BullMQ ceiling (addBulk + no-op worker, one process)');
    const ceiling = await bullmqCeiling(TEST_REDIS_URL, prefix, Number(args['ceiling-jobs']), WARMUP);
    // Per-job figures need enough jobs to drown the fixed costs (connections, the first script loads).
    if (Number(args['ceiling-jobs']) >= 5000) {
      const exchange = await httpExchangeCpuMs(20_000, CONCURRENCY, JSON.stringify(body('floor')(0)));
      const job = ceiling.cpuMsPerJob.client + ceiling.cpuMsPerJob.redis;
      log(
        `floor per delivery (ms of CPU): a bare BullMQ job ${job.toFixed(3)} (client ${ceiling.cpuMsPerJob.client.toFixed(3)}, Redis ${ceiling.cpuMsPerJob.redis.toFixed(3)}) + two bare HTTP exchanges ${(2 * exchange).toFixed(3)} (node:http + undici, both ends) = ${(job + 2 * exchange).toFixed(3)}, before PostgreSQL and any of Clarion's own work`,
      );
    }

    return {
      ...single,
      bullmq_ceiling_per_s: Math.round(ceiling.perSecond),
      ...(bulk
        ? {
            bulk_accepted_per_s: bulk.accepted_per_s,
            bulk_delivered_per_s: bulk.delivered_per_s,
            bulk_e2e_p50_ms: bulk.e2e_p50_ms,
            bulk_e2e_p99_ms: bulk.e2e_p99_ms,
            bulk_rss_mb: bulk.rss_mb,
            bulk_wal_bytes_per_delivery: bulk.wal_bytes_per_delivery,
            ...Object.fromEntries(
              Object.entries(bulk)
                .filter(([k]) => /^(cpu_ms_|peak_rss_|gc_ms_|scavenges_)/.test(k))
                .map(([k, v]) => [`bulk_${k}`, v]),
            ),
            bulk_to_single_ratio: Math.round((100 * bulk.delivered_per_s) / single.delivered_per_s) / 100,
          }
        : {}),
    };
  } finally {
    // The servers log at warn: anything they said during the run explains an odd figure.
    for (const p of processes) for (const line of p.lines()) log(`${p.role}: ${line}`);
    for (const p of processes) await p.stop('SIGTERM');
    await sandbox.stop();
    const redis = testRedis();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    if (!process.env.BENCH_KEEP_DB) await db.drop();
    else log(`database kept: ${db.url}`);
  }
}

async function main(): Promise<void> {
  const runs = Number(args.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number of runs, 1 or more');
  const results: Record<string, number | undefined>[] = [];
  for (let run = 1; run <= runs; run++) {
    if (runs > 1) log(`run ${run} of ${runs}`);
    results.push(
      SCENARIO === 'campaign' || SCENARIO === 'million'
        ? await runCampaign({
            scenario: SCENARIO,
            recipients: RECIPIENTS,
            email: args.email as 'sendgrid' | 'smtp',
            workers: Number(args.workers),
            htmlKb: Number(args['html-kb']),
            logLevel: args['log-level'],
            ceilingJobs: Number(args['ceiling-jobs']),
            ceilingWarmup: WARMUP,
            campaignWarmup: WARMUP,
            serverMain,
            log,
          })
        : SCENARIO === 'provider-floor'
          ? await runProviderFloor({
              recipients: RECIPIENTS,
              fakes: args.fakes as 'child' | 'inprocess',
              log,
            })
          : await runOnce(),
    );
    if (runs > 1) log(`run ${run}: ${JSON.stringify(results.at(-1))}`);
  }
  // Each figure's own median (with one run, that run's figures).
  const keys = Object.keys(results[0]!);
  const medians: Record<string, number | string | undefined> = { scenario: SCENARIO, ...results[0]! };
  for (const k of keys) medians[k] = median(results.map((r) => r[k] ?? 0));
  if (runs > 1) log(`medians of ${runs} runs follow`);
  process.stdout.write(`${JSON.stringify(medians)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
