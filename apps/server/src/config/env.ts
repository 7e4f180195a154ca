import { readFileSync } from 'node:fs';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const csv = z.string().transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean));

/**
 * Every environment variable the server reads, with its default. README's configuration
 * reference is written from this list; keep them in step.
 */
export const envSchema = z.object({
  CLARION_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(20),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  CLARION_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters'),
  CLARION_ENCRYPTION_KEY: z
    .string()
    .refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes, base64 (openssl rand -base64 32)'),
  CLARION_PUBLIC_URL: z.url().default('http://localhost:3000'),
  CLARION_PLUGINS: csv.default([]),
  CLARION_PLUGIN_PATH: z.string().default('/app/plugins-extra/node_modules'),
  CLARION_WORKER_PLUGINS: csv.default([]),
  CLARION_WORKER_CONCURRENCY: z.coerce.number().int().positive().optional(),
  CLARION_QUEUE_PREFIX: z.string().regex(/^\{[^{}:]+\}$/, 'must be a Redis hash tag such as {clarion}').default('{clarion}'),
  CLARION_MIGRATE_ON_START: bool.optional(),
  CLARION_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  CLARION_DEDUP_WINDOW_HOURS: z.coerce.number().positive().default(168),
  CLARION_FANOUT_THRESHOLD: z.coerce.number().int().positive().default(1000),
  CLARION_SWEEP_INTERVAL_MS: z.coerce.number().int().positive().default(15_000),
  CLARION_SWEEP_AFTER_MS: z.coerce.number().int().positive().default(30_000),
  /** A job whose worker died is retried after this long (BullMQ lock duration and stalled check). */
  CLARION_JOB_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Times a job may lose its worker (crash, kill) and still run again; then it is recorded failed (reason `stalled`). */
  CLARION_JOB_MAX_STALLS: z.coerce.number().int().min(0).default(3),
  CLARION_SANDBOX: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

/** Variables that may instead be given as `<NAME>_FILE` (Kubernetes secrets mounted as files). */
const FILE_VARS = ['DATABASE_URL', 'REDIS_URL', 'CLARION_ADMIN_TOKEN', 'CLARION_ENCRYPTION_KEY'] as const;

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'EnvError';
  }
}

/** Reads and validates the environment once at start; every problem names its variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const raw: Record<string, string | undefined> = {};
  const problems: string[] = [];
  for (const key of Object.keys(envSchema.shape)) {
    const value = source[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (const key of FILE_VARS) {
    const file = source[`${key}_FILE`];
    if (file) {
      try {
        raw[key] = readFileSync(file, 'utf8').trim();
      } catch (error) {
        problems.push(`${key}_FILE: cannot read ${file}: ${(error as Error).message}`);
      }
    }
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0]);
      problems.push(`${key}: ${raw[key] === undefined ? 'is required' : issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new EnvError(problems);
  return parsed.data;
}

/** Migrations run at start in role `all` unless disabled; api/worker pods rely on the migration Job. */
export function migrateOnStart(env: Env): boolean {
  return env.CLARION_MIGRATE_ON_START ?? env.CLARION_ROLE === 'all';
}
