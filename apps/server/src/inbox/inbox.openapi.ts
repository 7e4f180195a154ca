import { z } from 'zod';
import { named, type RouteContract, timestamp } from '../contract/route-contract';
import { inboxChangeBody, inboxListQuery, inboxMessageParams, inboxUserQuery } from './inbox-schemas';

const message = named(
  'InboxMessage',
  z.object({
    id: z.string().meta({ description: 'The delivery id of the `inbox` delivery' }),
    notificationId: z.string(),
    category: z.string().nullable(),
    title: z.string(),
    body: z.string(),
    url: z.string().nullable(),
    data: z.record(z.string(), z.unknown()).nullable(),
    createdAt: timestamp,
    readAt: timestamp.nullable(),
    archivedAt: timestamp.nullable(),
  }),
);

const NO_USER = '`not_found`: the app has no such user';

const unread = z.number().int().meta({ description: 'Unread messages not archived' });

/** The in-app inbox of a user. */
export const inboxRoutes: RouteContract[] = [
  {
    method: 'get',
    path: '/v1/inbox/messages',
    summary:
      'A user’s inbox messages, newest first, a page at a time (client key + user token, or a server key with ?userId=)',
    auth: 'app',
    query: inboxListQuery,
    errors: { 404: NO_USER },
    answers: {
      200: {
        description: 'One page',
        body: named(
          'InboxPage',
          z.object({
            messages: z.array(message),
            nextCursor: z
              .string()
              .nullable()
              .meta({ description: 'Pass as `cursor` for the next page; null at the end' }),
            unread,
          }),
        ),
      },
    },
  },
  {
    method: 'get',
    path: '/v1/inbox/unread-count',
    summary: 'How many inbox messages the user has not read',
    auth: 'app',
    query: inboxUserQuery,
    errors: { 404: NO_USER },
    answers: { 200: { description: 'The count', body: z.object({ unread }) } },
  },
  {
    method: 'patch',
    path: '/v1/inbox/messages/{id}',
    summary: 'Mark one message read / unread / archived / unarchived; the first read records `opened`',
    auth: 'app',
    params: inboxMessageParams,
    query: inboxUserQuery,
    body: named('InboxChange', inboxChangeBody),
    bodyRequired: true,
    errors: { 404: '`not_found`: no such user, or no such message of this user' },
    answers: { 200: { description: 'The message after the change', body: z.object({ message, unread }) } },
  },
  {
    method: 'post',
    path: '/v1/inbox/messages/mark-all',
    summary: 'Mark every message of the user read / unread / archived / unarchived',
    auth: 'app',
    query: inboxUserQuery,
    body: inboxChangeBody,
    bodyRequired: true,
    errors: { 404: NO_USER },
    answers: {
      200: {
        description: 'How many messages changed',
        body: z.object({ updated: z.number().int(), unread }),
      },
    },
  },
  {
    method: 'get',
    path: '/v1/inbox/stream',
    summary:
      'Live updates as Server-Sent Events: `unread` ({unread}) at once and after each change, `message` (an InboxMessage) for each new one',
    auth: 'app',
    query: inboxUserQuery,
    errors: { 404: NO_USER },
    answers: { 200: { description: 'An event stream (kept open)', type: 'text/event-stream' } },
  },
];
