import { readFileSync } from 'node:fs';
import { outboundPolicy } from '@clarion/plugin-sdk';
import { z } from 'zod';
import { pluginRateLimitsSchema } from './plugin-rate-limits';
import { providerOrderSchema } from './provider-order';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

/** `host:port,host:port`, IPv6 hosts in brackets, `defaultPort` where a port is left out. */
function hostPortList(defaultPort: number) {
  return z.string().transform((v, ctx) => {
    const nodes: { host: string; port: number }[] = [];
    for (const item of v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(item);
      const port = Number(m?.[2] ?? defaultPort);
      if (!m || port < 1 || port > 65535) {
        ctx.addIssue({ code: 'custom', message: `"${item}" is not host:port` });
        return z.NEVER;
      }
      nodes.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
    }
    if (nodes.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'comma-separated host:port list' });
      return z.NEVER;
    }
    return nodes;
  });
}

/**
 * Every environment variable the server reads, with its default. README's configuration
 * reference is written from this list; keep them in step.
 */
export const envSchema = z.object({
  CLARION_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  /** Serve /metrics on this port instead of PORT (the chart: 9464, so scrapes stay off the public Service). */
  CLARION_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(20),
  /** Hot statements as named prepared statements; `false` behind PgBouncer in transaction mode. */
  CLARION_DATABASE_PREPARED_STATEMENTS: bool.default(true),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  /**
   * Sentinels to ask for the master, `host:port,host:port` (port 26379 when left out). Set, the
   * server connects to the master they name and follows failovers; REDIS_URL then gives only the
   * master's user, password, database and TLS (its host and port are not used).
   */
  REDIS_SENTINELS: hostPortList(26379).optional(),
  /**
   * Seed nodes of a Redis Cluster, `host:port,host:port` (port 6379 when left out); any few
   * masters or replicas will do, the client learns the rest. Set, the server talks to the cluster
   * and gives each queue its own hash tag; REDIS_URL then gives only the user, password and TLS.
   */
  REDIS_CLUSTER_NODES: hostPortList(6379).optional(),
  /** The master's name in the Sentinels' `sentinel monitor` line. */
  REDIS_SENTINEL_MASTER: z.string().min(1).default('mymaster'),
  /** Password of the Sentinels themselves (their `requirepass`), when they have one. */
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  CLARION_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  CLARION_ENCRYPTION_KEY: z
    .string()
    .refine(
      (v) => Buffer.from(v, 'base64').length === 32,
      'must be 32 bytes, base64 (openssl rand -base64 32)',
    ),
  CLARION_PUBLIC_URL: z.url().default('http://localhost:3000'),
  /**
   * Whether X-Forwarded-For/-Proto/-Host are believed: `false` (default), `true` (any hop), or a
   * comma-separated list of proxy addresses/CIDRs. Nothing signed depends on it (callbacks use CLARION_PUBLIC_URL).
   */
  CLARION_TRUST_PROXY: z
    .string()
    .default('false')
    .transform((v): boolean | string[] => {
      const t = v.trim().toLowerCase();
      if (['false', '0', 'no', ''].includes(t)) return false;
      if (['true', '1', 'yes'].includes(t)) return true;
      return t
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }),
  CLARION_PLUGINS: csv.default([]),
  CLARION_PLUGIN_PATH: z.string().default('/app/plugins-extra/node_modules'),
  /** A folder of files named CLARION_<PLUGIN>_<KEY> holding plugin settings (the environment wins). */
  CLARION_PLUGIN_SETTINGS_DIR: z.string().optional(),
  CLARION_WORKER_PLUGINS: csv.default([]),
  /** Default provider order per channel for apps without their own (`sms=twilio,vonage;email=sendgrid,smtp`). */
  CLARION_PROVIDERS: providerOrderSchema,
  CLARION_WORKER_CONCURRENCY: z.coerce.number().int().positive().optional(),
  CLARION_QUEUE_PREFIX: z
    .string()
    .regex(/^\{[^{}:]+\}$/, 'must be a Redis hash tag such as {clarion}')
    .default('{clarion}'),
  CLARION_MIGRATE_ON_START: bool.optional(),
  CLARION_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /** After SIGTERM the API fails readiness but keeps serving this long (out of rotation first), then closes. */
  CLARION_SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(5000),
  CLARION_DEDUP_WINDOW_HOURS: z.coerce.number().positive().default(168),
  /** How long an `Idempotency-Key` answer is replayed (hours; at most 30 days), and how often expired ones are deleted. */
  CLARION_IDEMPOTENCY_WINDOW_HOURS: z.coerce.number().positive().max(720).default(24),
  CLARION_IDEMPOTENCY_PURGE_INTERVAL_MS: z.coerce.number().int().positive().default(600_000),
  /** How often expired eventId claims are deleted, and how many rows per DELETE. */
  CLARION_DEDUP_PURGE_INTERVAL_MS: z.coerce.number().int().positive().default(600_000),
  CLARION_DEDUP_PURGE_BATCH: z.coerce.number().int().positive().max(100_000).default(5000),
  /** How often the relay moves due scheduled notifications on (and re-adds their jobs if Redis lost them): relay/relay-settings.ts. */
  CLARION_SCHEDULE_CHECK_INTERVAL_MS: z.coerce.number().int().positive().default(5000),
  CLARION_FANOUT_THRESHOLD: z.coerce.number().int().positive().default(1000),
  /**
   * A fan-out waits while a plugin queue it feeds holds more deliveries than this, waiting jobs
   * counted as full batches of 50 (0: never waits).
   */
  CLARION_FANOUT_MAX_BACKLOG: z.coerce.number().int().min(0).default(100_000),
  /**
   * The same limit in bytes: a plugin queue may hold at most this many MB of a campaign's jobs
   * (estimated from its content before rendering) before the fan-out waits (0: no byte limit).
   * A campaign's jobs carry their rendered content, a newsletter's HTML 50 KB each: at 100,000
   * deliveries that would be 5 GB of Redis.
   */
  CLARION_FANOUT_MAX_BACKLOG_MB: z.coerce.number().int().min(0).default(256),
  /**
   * How often the relay looks for work left behind (deliveries left `pending`, `queued` ones whose job
   * Redis lost or never got, fan-outs without a job), and how old it must be: deliveries accepted while Redis was
   * down are enqueued at most interval + after (15 s) after they were accepted. See relay/relay-settings.ts.
   */
  CLARION_SWEEP_INTERVAL_MS: z.coerce.number().int().positive().default(5000),
  CLARION_SWEEP_AFTER_MS: z.coerce.number().int().positive().default(10_000),
  /**
   * TEST ONLY (never set in production): a worker closing a digest stops for good right after it
   * claimed it, or right after its message was accepted, so a test can SIGKILL it at that point.
   */
  CLARION_TEST_DIGEST_STALL: z.enum(['after-claim', 'after-accept']).optional(),
  /** A job whose worker died runs again 0.5–1.25× this after (BullMQ lock; stalled check every quarter). */
  CLARION_JOB_LOCK_MS: z.coerce.number().int().min(1000).default(10_000),
  /** How long a process trusts its cached "latest version" of a template (publishes elsewhere show up after this). */
  CLARION_TEMPLATE_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5000),
  /** Compiled template versions (and latest-version entries) kept in memory per process. */
  CLARION_TEMPLATE_CACHE_SIZE: z.coerce.number().int().positive().default(1000),
  /** Requests per key (per signed-in user for client keys) per window on /v1; apps may override in settings. */
  // 5,000 requests/s per key: above what one API pod absorbs, so it stops a runaway caller, not a burst.
  CLARION_API_QUOTA: z.coerce.number().int().positive().default(300_000),
  CLARION_API_QUOTA_WINDOW_SECONDS: z.coerce.number().int().positive().default(60),
  /** How many later windows a `defer` cap looks into for room before suppressing (`rate_limited`). */
  CLARION_CAP_DEFER_MAX_WINDOWS: z.coerce.number().int().min(1).max(1000).default(24),
  /** Queue-wide send rate per plugin: `twilio=100/1s,apns=4000/1s` (BullMQ limiter, all workers together). */
  CLARION_PLUGIN_RATE_LIMITS: pluginRateLimitsSchema,
  /** Times a job may lose its worker (crash, kill) and still run again; then it is recorded failed (reason `stalled`). */
  CLARION_JOB_MAX_STALLS: z.coerce.number().int().min(0).default(3),
  // Tracking: tracked links, retention, status webhooks. The CLARION_CALLBACK_* names are read by
  // plugins/callback-settings.ts as stand-ins for the plugins' own callback settings.
  /** Stands for CLARION_TWILIO_CALLBACK_AUTH_TOKEN (default: the twilio plugin's authToken). */
  CLARION_CALLBACK_TWILIO_AUTH_TOKEN: z.string().min(1).optional(),
  /** Stands for CLARION_SENDGRID_CALLBACK_PUBLIC_KEY. */
  CLARION_CALLBACK_SENDGRID_PUBLIC_KEY: z.string().min(1).optional(),
  /** Stands for CLARION_SENDGRID_CALLBACK_MAX_AGE_SECONDS and CLARION_VONAGE_CALLBACK_MAX_AGE_SECONDS. */
  CLARION_CALLBACK_MAX_AGE_SECONDS: z.coerce.number().int().positive().default(300),
  /** Stands for CLARION_MAILCHIMP_CALLBACK_KEY. */
  CLARION_CALLBACK_MAILCHIMP_KEY: z.string().min(1).optional(),
  /** Stand for CLARION_VONAGE_CALLBACK_SECRET and CLARION_VONAGE_CALLBACK_ALGORITHM. */
  CLARION_CALLBACK_VONAGE_SECRET: z.string().min(1).optional(),
  CLARION_CALLBACK_VONAGE_ALGORITHM: z
    .enum(['md5hash', 'md5', 'sha1', 'sha256', 'sha512'])
    .default('md5hash'),
  /** Origin of tracked links and the open pixel (`/t/...`); default CLARION_PUBLIC_URL. */
  CLARION_TRACKING_URL: z.url().optional(),
  /** Delete deliveries, their events, notifications and event ids older than this many days (0: keep forever). */
  CLARION_RETENTION_DAYS: z.coerce.number().min(0).default(30),
  CLARION_RETENTION_INTERVAL_MS: z.coerce.number().int().positive().default(3_600_000),
  /** How often each process checks whether today's day partitions doubled since their last ANALYZE (deliveries/partition-statistics.ts); 0: never. */
  CLARION_PARTITION_ANALYZE_INTERVAL_MS: z.coerce.number().int().min(0).default(5000),
  /** Rows per DELETE: small enough that no statement holds locks on the hot tables for long. */
  CLARION_RETENTION_BATCH: z.coerce.number().int().positive().default(5000),
  /** The hourly stats rollups (GET /v1/stats) are kept longer than deliveries; 0 keeps them forever. */
  CLARION_STATS_RETENTION_DAYS: z.coerce.number().min(0).default(400),
  /** How often a worker derives the closed hours' per-dimension stats rows (tracking/stats-dims-rollup.ts). */
  CLARION_STATS_ROLLUP_INTERVAL_MS: z.coerce.number().int().positive().default(60_000),
  /** In-app inbox messages older than this many days are deleted in the same pass; 0 keeps them forever. */
  CLARION_INBOX_RETENTION_DAYS: z.coerce.number().min(0).default(90),
  /** Outbound status webhooks: attempts per event (exponential backoff from 1 s), and each post's timeout. */
  CLARION_STATUS_WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(30).default(12),
  CLARION_STATUS_WEBHOOK_BACKOFF_MS: z.coerce.number().int().positive().default(1000),
  CLARION_STATUS_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  /** Every delivery plugin's retry backoff (first delay and cap, ms) instead of the plugin's own; unset: the plugin's. */
  CLARION_RETRY_BACKOFF_BASE_MS: z.coerce.number().int().positive().optional(),
  CLARION_RETRY_BACKOFF_MAX_MS: z.coerce.number().int().positive().optional(),
  /** Provider fallback: a delivery with a next provider moves on after this many provider-side failures. */
  CLARION_FALLBACK_AFTER_ATTEMPTS: z.coerce.number().int().min(1).default(3),
  /** Times a provider may throttle one delivery (429: queue paused, or only that delivery delayed for a per-address limit) before it fails with reason `throttled`. */
  CLARION_THROTTLE_MAX_RETRIES: z.coerce.number().int().min(0).default(50),
  /** Circuit breaker per plugin and process: this many provider-side failures within the window open it (0: off). */
  CLARION_CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(0).default(5),
  CLARION_CIRCUIT_WINDOW_MS: z.coerce.number().int().positive().default(30_000),
  /** How long an open circuit sends nothing before one probe is let through. */
  CLARION_CIRCUIT_COOLDOWN_MS: z.coerce.number().int().positive().default(30_000),
  /**
   * Webhooks, Web Push and status webhooks may also connect to loopback, private (RFC 1918, IPv6
   * ULA), link-local and CGNAT addresses. Off: only public addresses (tenants and end users choose these URLs).
   */
  CLARION_OUTBOUND_ALLOW_PRIVATE: bool.default(false),
  /** CIDRs, IPs and host names those clients may reach whatever their range, e.g. `10.1.0.0/16,hooks.internal`. */
  CLARION_OUTBOUND_ALLOW: csv
    .refine((list) => {
      try {
        outboundPolicy({ allow: list });
        return true;
      } catch {
        return false;
      }
    }, 'comma-separated CIDRs, IPs or host names')
    .default([]),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

/** Variables that may instead be given as `<NAME>_FILE` (Kubernetes secrets mounted as files). */
const FILE_VARS = [
  'DATABASE_URL',
  'REDIS_URL',
  'REDIS_SENTINEL_PASSWORD',
  'CLARION_ADMIN_TOKEN',
  'CLARION_ENCRYPTION_KEY',
] as const;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'EnvError';
  }
}

/** The variables of `keys` as given, each from `<NAME>_FILE` where that is set; unreadable files are problems. */
function gather(
  source: NodeJS.ProcessEnv,
  keys: readonly string[],
): { raw: Record<string, string | undefined>; problems: string[] } {
  const raw: Record<string, string | undefined> = {};
  const problems: string[] = [];
  for (const key of keys) {
    const value = source[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const key of FILE_VARS) {
    const file = source[`${key}_FILE`];
    if (file && keys.includes(key)) {
      try {
        raw[key] = readFileSync(file, 'utf8').trim();
      } catch (error) {
        problems.push(`${key}_FILE: cannot read ${file}: ${(error as Error).message}`);
      }
    }
  }
  return { raw, problems };
}

/** Gathers the schema's variables from `source` and validates them; every problem names its variable. */
function validated<S extends z.ZodObject>(schema: S, source: NodeJS.ProcessEnv): z.infer<S> {
  const { raw, problems } = gather(source, Object.keys(schema.shape));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]);
      problems.push(`${key}: ${raw[key] === undefined ? 'is required' : issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new EnvError(problems);
  return parsed.data;
}

/** Reads and validates the environment once at start. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const env = validated(envSchema, source);
  if (env.REDIS_SENTINELS && env.REDIS_CLUSTER_NODES)
    throw new EnvError([
      'REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS (a cluster fails over by itself)',
    ]);
  return env;
}

/**
 * DATABASE_URL alone (or DATABASE_URL_FILE, as the Helm chart's migration job passes it),
 * validated like at start: for the commands that need only the database.
 */
export function loadDatabaseUrl(source: NodeJS.ProcessEnv = process.env): string {
  return validated(envSchema.pick({ DATABASE_URL: true }), source).DATABASE_URL;
}

/** CLARION_ENCRYPTION_KEY (or its _FILE), validated like at start: for commands that seal secrets. */
export function loadEncryptionKey(source: NodeJS.ProcessEnv = process.env): string {
  return validated(envSchema.pick({ CLARION_ENCRYPTION_KEY: true }), source).CLARION_ENCRYPTION_KEY;
}

/** The variables that say which plugins load and how they are ordered: for `clarion plugins`. */
export function loadPluginEnv(source: NodeJS.ProcessEnv = process.env) {
  return validated(
    envSchema.pick({
      CLARION_PLUGINS: true,
      CLARION_PLUGIN_PATH: true,
      CLARION_PLUGIN_SETTINGS_DIR: true,
      CLARION_PROVIDERS: true,
    }),
    source,
  );
}

/** CLARION_ADMIN_TOKEN (or its _FILE): for commands that call a running server's admin API. */
export function loadAdminToken(source: NodeJS.ProcessEnv = process.env): string {
  return validated(envSchema.pick({ CLARION_ADMIN_TOKEN: true }), source).CLARION_ADMIN_TOKEN;
}

/** The drain window of this process: only a process that serves the API has traffic to drain. */
export function shutdownDrainMs(env: Env): number {
  return env.CLARION_ROLE === 'worker' ? 0 : env.CLARION_SHUTDOWN_DRAIN_MS;
}

/** Migrations run at start in role `all` unless disabled; api/worker pods rely on the migration Job. */
export function migrateOnStart(env: Env): boolean {
  return env.CLARION_MIGRATE_ON_START ?? env.CLARION_ROLE === 'all';
}
