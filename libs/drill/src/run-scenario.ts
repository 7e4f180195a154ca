import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OwnPostgres } from '@clarion/testkit';
import { Client } from 'pg';
import { DrillClient } from './client';
import { Cluster } from './cluster';
import { Receiver } from './receiver';
import { RedisServer } from './redis-server';
import type { Scenario } from './scenarios';

export interface DrillOptions {
  notifications: number;
  /** Requests in flight. */
  concurrency: number;
  /** Requests per second at most: spreads the load so the faults land mid-stream. */
  rate: number;
  users: number;
  /** How long after the client finished the drill waits for every delivery to end. */
  drainTimeoutMs: number;
  /** Extra wait after the drain, for late second copies. */
  settleMs: number;
  log: (line: string) => void;
}

export interface ScenarioResult {
  scenario: string;
  /** Notifications the API acknowledged (202, or 200 for a retried eventId). */
  accepted: number;
  /** Their deliveries the receiver accepted at least once. */
  receivedUnique: number;
  /** Acknowledged deliveries never received (and acknowledged notifications missing from PostgreSQL). */
  lost: number;
  /** Deliveries received more than once. */
  duplicated: number;
  /**
   * Of those, the ones whose first copy arrived within a second of a worker's SIGKILL and whose
   * second came after it: sends in flight or not yet recorded when the process died (the
   * at-least-once window). A request the dying worker had written still reaches the receiver,
   * so the first copy often arrives just after the signal.
   */
  duplicatedAtKill: number;
  /** Worker SIGKILLs in the scenario. */
  kills: number;
  /** Deliveries still pending, queued or retrying after the drain. */
  stuck: number;
  /** Client-visible errors by status (`network`: refused, reset, timed out); retried with the same eventId. */
  errors: Record<string, number>;
  /** From the end of the last fault until every delivery was received and final; undefined: not within the drain timeout. */
  drainMs: number | undefined;
  /** From the client's last answer until drained: what was still queued or being recovered then. */
  drainAfterClientMs: number | undefined;
  /** Requests refused by the receiver for a bad signature. */
  badSignatures: number;
}

const OPEN = ['pending', 'queued', 'retrying'];
/** A duplicate whose first copy came this close to a SIGKILL (and its second after it) is counted as the kill's. */
const KILL_WINDOW_MS = 1000;

/**
 * One scenario on a fresh database (in the drill's PostgreSQL cluster), a fresh Redis and fresh
 * API and worker processes: the client sends while the scenario injects its faults, then the drill
 * waits for the deliveries to drain and counts, per delivery id, what the receiver got.
 */
export async function runScenario(
  pg: OwnPostgres,
  scenario: Scenario,
  options: DrillOptions,
): Promise<ScenarioResult> {
  const database = await freshDatabase(pg, scenario.name);
  const redis = await RedisServer.start(scenario.redis);
  const receiver = await Receiver.start();
  const cluster = new Cluster(database, redis.url);
  try {
    await cluster.start();
    const auth = await createApp(cluster, database, receiver.url, options.users);
    const client = new DrillClient({
      apiUrl: cluster.apiUrl,
      auth,
      total: options.notifications,
      concurrency: options.concurrency,
      rate: options.rate,
      users: options.users,
    });
    options.log(`${scenario.name}: sending ${options.notifications} notifications; ${scenario.description}`);
    const started = Date.now();
    let lastFaultAt = started;
    let clientDone = false;
    const sending = client.run().finally(() => {
      clientDone = true;
    });
    await scenario.run({
      pg,
      redis,
      cluster,
      receiver,
      atAccepted: async (share) => {
        // A client that gave up on some eventIds never reaches the share: then the fault comes at its end.
        while (client.acceptedCount < share * options.notifications && !clientDone) await sleep(10);
      },
      recovered: () => {
        lastFaultAt = Date.now();
      },
    });
    const sent = await sending;
    const clientDoneAt = Date.now();
    options.log(
      `${scenario.name}: client done (${sent.accepted.size} acknowledged, ${((Date.now() - started) / 1000).toFixed(1)} s); draining`,
    );

    const db = new Client({ connectionString: database });
    db.on('error', () => undefined);
    await db.connect();
    try {
      const ids = [...sent.accepted];
      const deliveries = async () =>
        (
          await db.query<{ id: string; status: string }>(
            'SELECT id, status FROM deliveries WHERE notification_id = ANY($1::uuid[])',
            [ids],
          )
        ).rows;
      const deadline = Date.now() + options.drainTimeoutMs;
      let drainMs: number | undefined;
      let drainAfterClientMs: number | undefined;
      for (;;) {
        const rows = await deliveries();
        const done =
          rows.length >= ids.length &&
          rows.every((r) => !OPEN.includes(r.status) && (receiver.byDelivery.get(r.id) ?? 0) > 0);
        if (done) {
          drainMs = Date.now() - lastFaultAt;
          drainAfterClientMs = Date.now() - clientDoneAt;
          break;
        }
        if (Date.now() > deadline) break;
        await sleep(250);
      }
      await sleep(options.settleMs);
      const rows = await deliveries();
      const stored = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM notifications WHERE id = ANY($1::uuid[])',
        [ids],
      );
      const received = rows.filter((r) => (receiver.byDelivery.get(r.id) ?? 0) > 0).length;
      const duplicates = rows.filter((r) => (receiver.byDelivery.get(r.id) ?? 0) > 1);
      const timing = duplicates.map((r) => duplicateTiming(receiver.arrivals.get(r.id) ?? [], cluster.kills));
      if (duplicates.length > 0) options.log(`${scenario.name}: ${describeDuplicates(timing)}`);
      if (process.env.DRILL_LOG_FILE)
        appendFileSync(
          process.env.DRILL_LOG_FILE,
          cluster
            .logLines()
            .map((l) => `${scenario.name} ${l}\n`)
            .join(''),
        );
      const lockLines = cluster.logLines().filter((line) => /missing lock|lock mismatch|stalled/i.test(line));
      if (lockLines.length > 0)
        options.log(
          `${scenario.name}: ${lockLines.length} log lines about missing or stalled job locks, e.g. ${lockLines[0]!.slice(0, 200)}`,
        );
      return {
        scenario: scenario.name,
        accepted: ids.length,
        receivedUnique: received,
        lost: rows.length - received + (ids.length - (stored.rows[0]?.n ?? 0)),
        duplicated: duplicates.length,
        duplicatedAtKill: timing.filter((t) => t.atKillMs !== undefined).length,
        kills: cluster.kills.length,
        stuck: rows.filter((r) => OPEN.includes(r.status)).length,
        errors: { ...sent.errors, ...(sent.abandoned > 0 ? { abandoned: sent.abandoned } : {}) },
        drainMs,
        drainAfterClientMs,
        badSignatures: receiver.badSignatures,
      };
    } finally {
      await db.end();
    }
  } finally {
    await cluster.stop();
    await receiver.stop();
    await redis.remove();
  }
}

interface DuplicateTiming {
  /** From the SIGKILL to the first copy (negative: before it), if within KILL_WINDOW_MS and the second copy after it. */
  atKillMs: number | undefined;
  /** From the first copy to the second. */
  gapMs: number;
  /** From the nearest SIGKILL to the first copy (negative: before it); undefined without kills. */
  fromKillMs: number | undefined;
}

function duplicateTiming(arrivals: number[], kills: number[]): DuplicateTiming {
  const [first = 0, second = 0] = arrivals;
  const kill = kills.find((k) => Math.abs(first - k) <= KILL_WINDOW_MS && second > k);
  const nearest = kills.reduce<number | undefined>(
    (best, k) => (best === undefined || Math.abs(first - k) < Math.abs(first - best) ? k : best),
    undefined,
  );
  return {
    atKillMs: kill === undefined ? undefined : first - kill,
    gapMs: second - first,
    fromKillMs: nearest === undefined ? undefined : first - nearest,
  };
}

/** One log line: how the duplicates fall around the kills (which window produced them). */
function describeDuplicates(timing: DuplicateTiming[]): string {
  const range = (values: number[]) => `${Math.min(...values)}–${Math.max(...values)} ms`;
  const atKill = timing.filter((t) => t.atKillMs !== undefined);
  const others = timing.filter((t) => t.atKillMs === undefined);
  const parts = [`${timing.length} duplicated`];
  if (atKill.length > 0)
    parts.push(
      `${atKill.length} at a SIGKILL (first copy ${range(atKill.map((t) => t.atKillMs!))} from the signal, ` +
        `second ${range(atKill.map((t) => t.gapMs))} later)`,
    );
  if (others.length > 0) {
    const fromKill = others.flatMap((t) => (t.fromKillMs === undefined ? [] : [t.fromKillMs]));
    parts.push(
      `${others.length} otherwise (second copy ${range(others.map((t) => t.gapMs))} after the first` +
        `${fromKill.length > 0 ? `; first copy ${range(fromKill)} from the nearest kill` : ''})`,
    );
  }
  return parts.join('; ');
}

async function freshDatabase(pg: OwnPostgres, label: string): Promise<string> {
  const name = `drill_${label.replace(/[^a-z0-9]/gi, '_')}_${Date.now()}`;
  const admin = new Client({ connectionString: pg.url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(pg.url);
  url.pathname = `/${name}`;
  return url.toString();
}

/** An app whose webhook is the receiver, and `users` users; returns its Basic auth header. */
async function createApp(
  cluster: Cluster,
  database: string,
  webhookUrl: string,
  users: number,
): Promise<string> {
  const res = await fetch(`${cluster.apiUrl}/admin/apps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${cluster.admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'drill', settings: { webhookUrl } }),
  });
  if (!res.ok) throw new Error(`create app: ${res.status} ${await res.text()}`);
  const { app, key } = (await res.json()) as {
    app: { id: string };
    key: { appKey: string; appSecret: string };
  };
  const db = new Client({ connectionString: database });
  await db.connect();
  try {
    await db.query(
      `INSERT INTO users (id, app_id, external_id) SELECT gen_random_uuid(), $1, 'user-' || g FROM generate_series(1, $2::int) g`,
      [app.id, users],
    );
  } finally {
    await db.end();
  }
  return `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`;
}
