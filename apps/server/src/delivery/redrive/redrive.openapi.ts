import { z } from 'zod';
import { deadListQuery, redriveBody } from './deliveries.controller';

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
const common = {
  400: { description: 'Invalid input' },
  401: { description: 'Missing or wrong credentials' },
  403: { description: 'Server keys only' },
};
const query = schema(deadListQuery) as { properties: Record<string, Record<string, unknown>> };

/** The dead-letter view and the re-drive in the OpenAPI document (merged in ops/openapi.ts). */
export const redriveOpenApi = {
  schemas: { Redrive: schema(redriveBody) },
  paths: {
    '/v1/deliveries': {
      get: {
        summary:
          'The app’s failed or expired deliveries, oldest first (filter by status, plugin, channel, from/to on when they ended; keyset-paged with cursor)',
        parameters: Object.entries(query.properties).map(([name, s]) => ({ name, in: 'query', schema: s })),
        responses: { 200: { description: '`{deliveries, nextCursor}`' }, ...common },
      },
    },
    '/v1/deliveries/redrive': {
      post: {
        summary:
          'Send failed or expired deliveries again (a filter, or ids), as new attempts planned with the user’s current preferences; at most 10,000 per request',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Redrive' } } },
        },
        responses: {
          200: {
            description:
              '`{dryRun, matched, redriven, suppressed, skipped, nextCursor}`; a dry run only counts; nextCursor continues a bounded run',
          },
          503: { description: 'Redis unreachable: nothing was changed' },
          ...common,
        },
      },
    },
  },
};
