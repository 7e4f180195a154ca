import { z } from 'zod';

/** A plugin's queue-wide send rate: at most `max` sends per `durationMs`, shared by all its workers (BullMQ limiter). */
export interface PluginRateLimit {
  max: number;
  durationMs: number;
}

const ENTRY = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)=(\d+)\/(\d+)(ms|s|m)?$/;
/** Shorthand: `twilio=30` is 30 sends a second; `vonage=0.5` one every 2 s. */
const PER_SECOND = /^([a-z][a-z0-9]*(?:-[a-z0-9]+)*)=(\d+(?:\.\d+)?)$/;
const UNIT = { ms: 1, s: 1000, m: 60_000 } as const;

/** BullMQ's limiter counts whole jobs per window: a fractional rate becomes 1 per 1/rate seconds. */
function perSecond(rate: number): PluginRateLimit {
  return rate >= 1
    ? { max: Math.round(rate), durationMs: 1000 }
    : { max: 1, durationMs: Math.round(1000 / rate) };
}

/**
 * `CLARION_PLUGIN_RATE_LIMITS`: `twilio=100/1s,apns=4000/1s,webhook=50/500ms`, or per second
 * `twilio=30,vonage=0.5` (set it to the sender's throughput: 1/s for a US long code). One variable for
 * every plugin rather than `CLARION_<PLUGIN>_RATE_LIMIT`: that prefix is the plugin's own config
 * namespace, and setting it would mark an unconfigured built-in as configured (see plugin-loader).
 */
export const pluginRateLimitsSchema = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const out: Record<string, PluginRateLimit> = {};
    for (const part of value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const short = PER_SECOND.exec(part);
      if (short && Number(short[2]) > 0) {
        out[short[1]!] = perSecond(Number(short[2]));
        continue;
      }
      const m = ENTRY.exec(part);
      const max = Number(m?.[2]);
      const durationMs = Number(m?.[3]) * UNIT[(m?.[4] ?? 'ms') as keyof typeof UNIT];
      if (!m || max < 1 || durationMs < 1) {
        ctx.addIssue({
          code: 'custom',
          message: `"${part}" is not plugin=max/duration or plugin=per-second (e.g. twilio=100/1s, vonage=10)`,
        });
        return z.NEVER;
      }
      out[m[1]!] = { max, durationMs };
    }
    return out;
  });

/** A limit for a plugin this process did not load is a typo: refuse to start rather than ignore it. */
export function assertLimitedPluginsLoaded(limits: Record<string, PluginRateLimit>, loaded: string[]): void {
  const unknown = Object.keys(limits).filter((n) => !loaded.includes(n));
  if (unknown.length > 0)
    throw new Error(`CLARION_PLUGIN_RATE_LIMITS names plugins that are not loaded: ${unknown.join(', ')}`);
}
