import { z } from 'zod';
import type { RouteContract } from '../contract/route-contract';

const checks = z.record(z.string(), z.looseObject({ status: z.enum(['up', 'down']) }));
const up = { status: 'up' };
const pluginsUp = { status: 'up', plugins: { fcm: { healthy: true }, twilio: { healthy: true } } };
const readiness = z
  .looseObject({
    status: z.enum(['ok', 'error']),
    info: checks.optional(),
    error: checks.optional(),
    details: checks.optional(),
  })
  .meta({
    examples: [
      {
        status: 'ok',
        info: { shutdown: up, database: up, redis: up, plugins: pluginsUp },
        error: {},
        details: { shutdown: up, database: up, redis: up, plugins: pluginsUp },
      },
      {
        status: 'error',
        info: { shutdown: up, database: up, plugins: pluginsUp },
        error: { redis: { status: 'down', message: 'no answer in 2000 ms' } },
        details: {
          shutdown: up,
          database: up,
          redis: { status: 'down', message: 'no answer in 2000 ms' },
          plugins: pluginsUp,
        },
      },
    ],
  });

/** An excerpt of the exposition (metrics-registry.ts and the modules that register their own). */
const METRICS_EXAMPLE = `# HELP clarion_http_request_duration_seconds HTTP request duration by route pattern (never the raw URL: ids would explode the series)
# TYPE clarion_http_request_duration_seconds histogram
clarion_http_request_duration_seconds_bucket{le="0.05",method="POST",route="/v1/notifications",status_code="202"} 1187
clarion_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/v1/notifications",status_code="202"} 1200
clarion_http_request_duration_seconds_sum{method="POST",route="/v1/notifications",status_code="202"} 21.7
clarion_http_request_duration_seconds_count{method="POST",route="/v1/notifications",status_code="202"} 1200
# HELP clarion_queue_jobs Jobs per queue and state
# TYPE clarion_queue_jobs gauge
clarion_queue_jobs{queue="clarion.fcm",state="waiting"} 12
clarion_queue_jobs{queue="clarion.fcm",state="active"} 4
# HELP clarion_redis_up Whether this process reaches Redis (PING answered within a second)
# TYPE clarion_redis_up gauge
clarion_redis_up 1
`;

/** Health, readiness and metrics (no credentials). */
export const opsRoutes: RouteContract[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    auth: 'none',
    answers: {
      200: {
        description: 'Alive',
        body: z.object({ status: z.literal('ok') }).meta({ examples: [{ status: 'ok' }] }),
      },
    },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: not stopping, the database; on a worker also Redis and its plugins',
    auth: 'none',
    answers: {
      200: { description: 'Ready', body: readiness },
      503: { description: 'Not ready: `error` names what is down', body: readiness },
    },
    usualErrors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    auth: 'none',
    answers: { 200: { description: 'Text exposition format', type: 'text/plain', example: METRICS_EXAMPLE } },
    errors: { 404: '`not_found`: metrics are served on their own port here (`CLARION_METRICS_PORT`)' },
  },
];
