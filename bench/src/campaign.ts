/**
 * `--scenario campaign` and `--scenario million`: one request to a topic of N subscribers, each
 * with an Android device and an e-mail, delivered through the FCM plugin and the SendGrid (or
 * SMTP) plugin to the sandbox's fakes. Measures the time from the 202 to the last `sent` written
 * in PostgreSQL, deliveries/s, CPU per delivery and peak RSS per process, and the raw BullMQ
 * ceiling in the same run.
 */
import { randomBytes } from 'node:crypto';
import {
  fcmFake,
  type Recorder,
  Sandbox,
  type SandboxRecord,
  sendgridFake,
  smtpFake,
} from '@clarion/sandbox';
import {
  type ClarionProcess,
  clearPrefix,
  createTestDatabase,
  startClarionProcess,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
} from '@clarion/testkit';
import { Client } from 'pg';
import { AutovacuumStandIn } from './autovacuum-stand-in';
import { bullmqCeiling } from './bullmq-ceiling';
import { byProcess } from './by-process';
import { campaignHtml } from './campaign-html';
import { CpuMeter, cpuPerDeliveryFields, MachineBusy, pidsNamed } from './cpu';
import { GcMeter, gcFields } from './gc-meter';
import { imageNodeArgs, withImageHeapCap } from './image-heap-cap';
import { migrate } from './migrate';
import { PeakRss } from './peak-rss';
import { RedisMemoryPeak } from './redis-memory-peak';
import { seedTopic } from './seed-topic';
import { DatabaseWalMeter, walPerDelivery } from './wal-by-database';

export interface CampaignOptions {
  scenario: 'campaign' | 'million';
  recipients: number;
  email: 'sendgrid' | 'smtp';
  workers: number;
  /** The e-mail's HTML body in KiB (campaign-html.ts); 0: a text e-mail of one line. */
  htmlKb: number;
  logLevel: string;
  ceilingJobs: number;
  /** Jobs run before the ceiling is timed (main.ts's `--warmup`). */
  ceilingWarmup: number;
  /**
   * Subscribers of a first, untimed campaign of another app (main.ts's `--warmup`, at most
   * `recipients`), so the measured one meets hot code as a server that has run for a while does; 0: cold.
   */
  campaignWarmup: number;
  serverMain: string;
  log: (line: string) => void;
}

export type CampaignResult = Record<string, number>;

const TOPIC = 'bench-campaign';
/** How often the warm-up campaign's deliveries are counted. */
const WARMUP_POLL_MS = 500;
/** The campaign's WAL is measured up to this many deliveries (`wal_db_bytes_per_delivery`). */
const WAL_MAX_DELIVERIES = 100_000;
/** How often PostgreSQL is counted while the fakes have not yet received every message. */
const PROGRESS_COUNT_MS = 10_000;

/** The plugin's env variable for a config key, as @clarion/plugin-sdk's pluginEnvName spells it. */
const pluginEnvName = (plugin: string, key: string) =>
  `CLARION_${plugin.toUpperCase()}_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;

/**
 * The fakes record every message in memory (a bounded array that shifts once full); at a million
 * that bookkeeping would cost the bench more than the fakes' real work. Only counts are kept.
 */
export function countOnly(recorder: Recorder): Map<string, number> {
  const counts = new Map<string, number>();
  recorder.add = (record) => {
    const key = `${record.provider} ${record.outcome}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return { id: '', receivedAt: '', ...record } as SandboxRecord;
  };
  return counts;
}

/** An app's deliveries sent, and settled (sent or ended otherwise), as PostgreSQL has them. */
async function countOf(pg: Client, appId: string): Promise<{ sent: number; settled: number }> {
  return (
    await pg.query(
      `SELECT count(*) FILTER (WHERE sent_at IS NOT NULL)::int AS sent,
              count(*) FILTER (WHERE sent_at IS NOT NULL OR status IN ('failed', 'suppressed', 'canceled', 'expired'))::int AS settled
         FROM deliveries WHERE app_id = $1`,
      [appId],
    )
  ).rows[0] as { sent: number; settled: number };
}

/** Waits until `expected` deliveries of the app are settled; throws after two minutes without progress. */
async function settledOf(pg: Client, appId: string, expected: number): Promise<void> {
  let settled = -1;
  let lastChange = Date.now();
  for (;;) {
    const now = (await countOf(pg, appId)).settled;
    if (now >= expected) return;
    if (now !== settled) {
      settled = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 120_000)
      throw new Error(`warm-up campaign: no progress for 2 minutes at ${settled} of ${expected}`);
    await new Promise((r) => setTimeout(r, WARMUP_POLL_MS));
  }
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const db = await createTestDatabase('bench');
  const prefix = testPrefix('bench');
  const email = o.email === 'smtp' ? smtpFake() : sendgridFake();
  const sandbox = await Sandbox.start({ fakes: [fcmFake(), email] });
  const received = countOnly(sandbox.recorder);
  const processes: ClarionProcess[] = [];
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  try {
    const pluginEnv: Record<string, string> = {};
    for (const [name, config] of Object.entries(sandbox.pluginConfigs()))
      for (const [key, value] of Object.entries(config)) pluginEnv[pluginEnvName(name, key)] = String(value);
    const admin = randomBytes(18).toString('base64url');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...pluginEnv,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      CLARION_ADMIN_TOKEN: admin,
      CLARION_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      CLARION_QUEUE_PREFIX: prefix,
      CLARION_PLUGINS: `@clarion/plugin-fcm,@clarion/plugin-${o.email}`,
      CLARION_OUTBOUND_ALLOW_PRIVATE: 'true',
      CLARION_MIGRATE_ON_START: 'false',
      LOG_LEVEL: o.logLevel,
      CLARION_API_QUOTA: '1000000000',
      NODE_OPTIONS: withImageHeapCap(process.env.NODE_OPTIONS),
    };
    migrate(o.serverMain, env);
    const roles = ['api' as const, ...Array.from({ length: o.workers }, () => 'worker' as const)];
    for (const role of roles)
      processes.push(
        await startClarionProcess({
          main: o.serverMain,
          role,
          env,
          output: 'capture',
          nodeArgs: imageNodeArgs(),
        }),
      );
    const api = processes[0]!.url;

    const createApp = async (name: string): Promise<{ id: string; auth: string }> => {
      const created = await fetch(`${api}/admin/apps`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (!created.ok) throw new Error(`create app: ${created.status} ${await created.text()}`);
      const { app, key } = (await created.json()) as {
        app: { id: string };
        key: { appKey: string; appSecret: string };
      };
      return {
        id: app.id,
        auth: `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`,
      };
    };
    const sendCampaign = async (auth: string): Promise<void> => {
      const res = await fetch(`${api}/v1/notifications`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          to: { topic: TOPIC },
          content: {
            push: { title: 'Spring sale', body: 'Everything 20 % off until Sunday' },
            email: {
              subject: 'Spring sale',
              text: 'Everything 20 % off until Sunday.',
              ...(o.htmlKb > 0 ? { html: campaignHtml(o.htmlKb) } : {}),
            },
          },
        }),
      });
      if (res.status !== 202) throw new Error(`campaign request: ${res.status} ${await res.text()}`);
      await res.body?.cancel();
    };

    const warmup = Math.min(o.campaignWarmup, o.recipients);
    if (warmup > 0) {
      // Another app, so the measured campaign's counts, statuses and rows are its own.
      const warm = await createApp('bench-campaign-warmup');
      await seedTopic(pg, warm.id, TOPIC, warmup);
      const started = Date.now();
      await sendCampaign(warm.auth);
      await settledOf(pg, warm.id, 2 * warmup);
      o.log(
        `${o.scenario}: warm-up campaign of ${warmup} subscribers (${2 * warmup} deliveries, another app) settled in ${((Date.now() - started) / 1000).toFixed(1)} s, untimed`,
      );
    }
    const { id: appId, auth } = await createApp('bench-campaign');

    const seedStarted = Date.now();
    await seedTopic(pg, appId, TOPIC, o.recipients);
    const seedS = (Date.now() - seedStarted) / 1000;
    const expected = 2 * o.recipients;
    o.log(
      `${o.scenario}: ${o.recipients} subscribers seeded in ${seedS.toFixed(1)} s (device + ${o.email} e-mail each, ${expected} deliveries); roles ${roles.join(' + ')}`,
    );

    const rss = new PeakRss({ ...byProcess(roles, processes, (p) => p.child.pid!), bench: process.pid });
    // PostgreSQL backends serving this run's database only: other programs on a shared machine use
    // the same server. Redis is one process for everyone, so its figure includes their work.
    let backends: number[] = [];
    const readBackends = async () => {
      const rows = (
        await pg.query(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        )
      ).rows as { pid: number }[];
      backends = [...new Set([...backends, ...rows.map((r) => r.pid)])];
    };
    await readBackends();
    const cpu = new CpuMeter({
      ...byProcess(roles, processes, (p) => () => [p.child.pid!]),
      bench: () => [process.pid],
      postgres: () => backends,
      redis: () => pidsNamed('redis-server'),
    });
    const machine = new MachineBusy();
    const gc = await GcMeter.start(byProcess(roles, processes, (p) => p.url));
    // This database's WAL over the campaign (pg_waldump): read only up to WAL_MAX_DELIVERIES,
    // whose dump (several million lines) is still read in seconds.
    const walMeter = expected <= WAL_MAX_DELIVERIES ? await DatabaseWalMeter.start(pg) : undefined;
    // What the campaign holds in Redis at its peak (queued jobs carry each delivery's content) and
    // adds to the database (rows, indexes, TOAST), over what was there before the request.
    const redisMemory = await RedisMemoryPeak.start(TEST_REDIS_URL);
    const databaseBytes = async () =>
      Number((await pg.query(`SELECT pg_database_size(current_database()) AS n`)).rows[0].n);
    const databaseBefore = await databaseBytes();

    await sendCampaign(auth);
    const acceptedAt = Date.now();

    // Ends on PostgreSQL (what a user sees through the API), where `sent` is written last. Counting
    // every delivery there costs the machine (0.4 s a call at a million: 59 s of one core over a
    // run, on the cores being measured), so it is asked every 10 s until the fakes have received
    // every message, then every pollMs until the last `sent` is written.
    const pollMs = o.recipients >= 500_000 ? 2000 : 1000;
    const receivedBefore = new Map(received);
    const receivedNow = () => [...received].map(([k, n]) => [k, n - (receivedBefore.get(k) ?? 0)] as const);
    const fakesReceived = () => receivedNow().reduce((a, [, n]) => a + n, 0);
    const vacuum = await AutovacuumStandIn.start(pg, o.log);
    let sent = 0;
    let settled = 0;
    let lastChange = Date.now();
    let lastLog = Date.now();
    let lastCount = Date.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, pollMs));
      // Backends come and go with the pools: each is read while it lives (CpuMeter keeps its last reading).
      await readBackends();
      cpu.sample();
      await redisMemory.sample();
      if (fakesReceived() < expected && Date.now() - lastCount < PROGRESS_COUNT_MS) continue;
      lastCount = Date.now();
      const row = await countOf(pg, appId);
      if (row.settled !== settled) lastChange = Date.now();
      ({ sent, settled } = row);
      if (settled >= expected) break;
      if (Date.now() - lastLog >= 10_000) {
        lastLog = Date.now();
        o.log(
          `${o.scenario}: +${((Date.now() - acceptedAt) / 1000).toFixed(0)} s: ${sent} sent, ${settled} settled of ${expected}`,
        );
      }
      if (Date.now() - lastChange > 120_000) {
        o.log(`${o.scenario}: no progress for 2 minutes at ${settled} of ${expected}; stopping`);
        break;
      }
    }
    // The last row written tells when the fan-out ended: the sends cannot end before it.
    vacuum?.stop();
    const [{ last, written }] = (
      await pg.query(
        `SELECT (extract(epoch FROM max(sent_at)) * 1000)::float8 AS last,
                (extract(epoch FROM max(created_at)) * 1000)::float8 AS written FROM deliveries WHERE app_id = $1`,
        [appId],
      )
    ).rows as [{ last: number | null; written: number | null }];
    await readBackends();
    const cpuUsed = cpu.used();
    const gcUsed = await gc.used();
    const usage = machine.usage();
    const peaks = rss.stop();
    const seconds = ((last ?? Date.now()) - acceptedAt) / 1000;
    const fanoutS = ((written ?? Date.now()) - acceptedAt) / 1000;
    const perS = sent / seconds;
    const byStatus = (
      await pg.query(
        `SELECT status, count(*)::int AS n FROM deliveries WHERE app_id = $1 GROUP BY status ORDER BY status`,
        [appId],
      )
    ).rows as { status: string; n: number }[];
    // Which plugin's sends end the campaign: each plugin's deliveries sent per 5 s after the 202.
    const byPlugin = (
      await pg.query(
        `SELECT plugin, string_agg(n::text, ' ' ORDER BY slot) AS per_slot, max(last) AS last FROM (
           SELECT plugin, floor((extract(epoch FROM sent_at) * 1000 - $2) / 5000)::int AS slot, count(*) AS n,
                  max(extract(epoch FROM sent_at) * 1000 - $2) / 1000 AS last
             FROM deliveries WHERE app_id = $1 AND sent_at IS NOT NULL GROUP BY 1, 2) s
          GROUP BY plugin ORDER BY plugin`,
        [appId, acceptedAt],
      )
    ).rows as { plugin: string; per_slot: string; last: number }[];
    for (const p of byPlugin)
      o.log(
        `${o.scenario}: ${p.plugin}: sent per 5 s after the 202: ${p.per_slot}; the last ${Number(p.last).toFixed(2)} s after it`,
      );
    const wal = await walMeter?.bytes();
    const redisPeakMb = await redisMemory.stop();
    const databaseMbAdded = ((await databaseBytes()) - databaseBefore) / 2 ** 20;
    o.log(
      `${o.scenario}: Redis peak ${redisPeakMb.toFixed(0)} MB over its start; database grew ${databaseMbAdded.toFixed(0)} MB (${((databaseMbAdded * 2 ** 20) / Math.max(1, sent)).toFixed(0)} B per delivery)`,
    );
    if (wal)
      o.log(
        `${o.scenario}: WAL per delivery ${(wal.total / Math.max(1, sent)).toFixed(0)} B (${(wal.records / Math.max(1, sent)).toFixed(1)} records); by table/index and kind: ${walPerDelivery(wal.byRelationKind, sent, 12)}`,
      );
    o.log(
      `${o.scenario}: ${sent} of ${expected} sent, the last ${seconds.toFixed(2)} s after the 202 (${Math.round(perS)} deliveries/s), the last written ${fanoutS.toFixed(2)} s after it; statuses ${byStatus.map((s) => `${s.status} ${s.n}`).join(', ')}; the fakes received ${receivedNow()
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    const perDelivery = Object.entries(cpuUsed).map(([name, ms]) => [name, ms / Math.max(1, sent)] as const);
    o.log(
      `${o.scenario}: CPU per delivery (ms): ${perDelivery.map(([n, ms]) => `${n} ${ms.toFixed(3)}`).join(', ')}; CPU seconds: ${Object.entries(
        cpuUsed,
      )
        .map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)}`)
        .join(
          ', ',
        )} over ${seconds.toFixed(1)} s${usage === undefined ? '' : `; cores ${Math.round(100 * usage.busy)} % busy, ${Math.round(100 * usage.steal)} % stolen`}`,
    );
    o.log(
      `${o.scenario}: garbage collection: ${Object.entries(gcUsed)
        .map(
          ([n, t]) =>
            `${n} ${(t.ms / 1000).toFixed(1)} s of pauses, ${t.scavenges} scavenges and ${t.full} full collections`,
        )
        .join('; ')}`,
    );
    o.log(
      `${o.scenario}: peak RSS (MB): ${Object.entries(peaks)
        .map(([n, mb]) => `${n} ${mb}`)
        .join(', ')}`,
    );

    o.log('measuring the raw BullMQ ceiling (addBulk + no-op worker, one process)');
    const ceiling = await bullmqCeiling(TEST_REDIS_URL, prefix, o.ceilingJobs, o.ceilingWarmup);
    const result: CampaignResult = {
      recipients: o.recipients,
      deliveries: sent,
      seed_s: Math.round(seedS * 10) / 10,
      time_to_last_sent_s: Math.round(seconds * 100) / 100,
      time_to_last_written_s: Math.round(fanoutS * 100) / 100,
      delivered_per_s: Math.round(perS),
      bullmq_ceiling_per_s: Math.round(ceiling.perSecond),
      ratio_to_ceiling: Math.round((100 * perS) / ceiling.perSecond) / 100,
      ...(wal === undefined ? {} : { wal_db_bytes_per_delivery: Math.round(wal.total / Math.max(1, sent)) }),
      ...(usage === undefined ? {} : { cores_busy_pct: Math.round(100 * usage.busy) }),
      html_kb: o.htmlKb,
      redis_peak_mb: Math.round(redisPeakMb),
      database_bytes_per_delivery: Math.round((databaseMbAdded * 2 ** 20) / Math.max(1, sent)),
    };
    Object.assign(result, cpuPerDeliveryFields(perDelivery));
    for (const [name, mb] of Object.entries(peaks)) result[`peak_rss_mb_${name}`] = mb;
    Object.assign(result, gcFields(gcUsed, sent));
    return result;
  } finally {
    for (const p of processes) for (const line of p.lines().slice(-20)) o.log(`${p.role}: ${line}`);
    for (const p of processes) await p.stop('SIGTERM');
    await pg.end();
    await sandbox.stop();
    const redis = testRedis();
    await clearPrefix(redis, prefix);
    redis.disconnect();
    if (!process.env.BENCH_KEEP_DB) await db.drop();
    else o.log(`database kept: ${db.url}`);
  }
}
