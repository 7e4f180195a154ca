import { z } from 'zod';
import type { RouteContract } from '../contract/route-contract';

const checks = z.record(z.string(), z.looseObject({ status: z.enum(['up', 'down']) }));
const readiness = z.looseObject({
  status: z.enum(['ok', 'error']),
  info: checks.optional(),
  error: checks.optional(),
  details: checks.optional(),
});

/** Health, readiness and metrics (no credentials). */
export const opsRoutes: RouteContract[] = [
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    auth: 'none',
    answers: { 200: { description: 'Alive', body: z.object({ status: z.literal('ok') }) } },
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
    answers: { 200: { description: 'Text exposition format', type: 'text/plain' } },
    errors: { 404: '`not_found`: metrics are served on their own port here (`CLARION_METRICS_PORT`)' },
  },
];
