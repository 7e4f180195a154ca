import { z } from 'zod';
import { named, type RouteContract, timestamp, uuid } from '../../contract/route-contract';
import { deadListQuery, redriveBody } from './deliveries.controller';

const deadDelivery = z.object({
  id: uuid,
  notificationId: uuid,
  userId: z.string().nullable(),
  contactId: uuid.nullable(),
  channel: z.string(),
  plugin: z.string().nullable(),
  status: z.enum(['failed', 'expired']),
  reason: z.string().nullable(),
  attempts: z.int(),
  errorCode: z.string().nullable(),
  errorMessage: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});

const redriveResult = z
  .object({
    dryRun: z.boolean(),
    matched: z.int().meta({ description: 'Deliveries matched (up to the limit)' }),
    redriven: z.int().meta({ description: 'Queued again as new attempts' }),
    suppressed: z
      .int()
      .meta({ description: 'Recorded suppressed: preferences, contacts or settings now stop them' }),
    skipped: z
      .int()
      .meta({ description: 'Left as they were: changed meanwhile, or their notification is gone' }),
    nextCursor: uuid
      .nullable()
      .meta({ description: 'Continue with this and the same filter; null when done' }),
  })
  .meta({
    examples: [{ dryRun: false, matched: 120, redriven: 118, suppressed: 2, skipped: 0, nextCursor: null }],
  });

/** The dead-letter view and the re-drive. */
export const redriveRoutes: RouteContract[] = [
  {
    method: 'get',
    path: '/v1/deliveries',
    summary:
      'The app’s failed or expired deliveries, oldest first (filter by status, plugin, channel, from/to on when they ended; keyset-paged with cursor)',
    auth: 'app',
    query: deadListQuery,
    answers: {
      200: {
        description: 'A page; pass nextCursor as ?cursor= for the next',
        body: z.object({ deliveries: z.array(deadDelivery), nextCursor: uuid.nullable() }).meta({
          examples: [
            {
              deliveries: [
                {
                  id: '0193a1c2-7b8f-7c3d-9f00-1a2b3c4d5e6f',
                  notificationId: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e6f',
                  userId: 'alice',
                  contactId: '0193a1c2-6f00-7c3d-9f00-1a2b3c4d5e6f',
                  channel: 'sms',
                  plugin: 'twilio',
                  status: 'failed',
                  reason: 'retries_exhausted',
                  attempts: 5,
                  errorCode: '503',
                  errorMessage: 'Twilio 503: Service Unavailable',
                  createdAt: '2026-01-02T03:04:05.000Z',
                  updatedAt: '2026-01-02T04:10:41.000Z',
                },
              ],
              nextCursor: '0193a1c2-7b8f-7c3d-9f00-1a2b3c4d5e6f',
            },
          ],
        }),
      },
    },
  },
  {
    method: 'post',
    path: '/v1/deliveries/redrive',
    summary:
      'Send failed or expired deliveries again (a filter, or ids), as new attempts planned with the user’s current preferences; at most 10,000 per request',
    auth: 'app',
    body: named('Redrive', redriveBody),
    bodyRequired: false,
    bodyExample: {
      status: 'failed',
      plugin: 'twilio',
      from: '2026-01-02T00:00:00.000Z',
      to: '2026-01-03T00:00:00.000Z',
      dryRun: true,
    },
    answers: {
      200: { description: 'What was (or, in a dry run, would be) sent again', body: redriveResult },
    },
  },
];
