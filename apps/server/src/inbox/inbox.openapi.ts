import { z } from 'zod';
import { named, type RouteContract, timestamp } from '../contract/route-contract';
import { inboxChangeBody, inboxListQuery, inboxMessageParams, inboxUserQuery } from './inbox-schemas';

const MESSAGE_EXAMPLE = {
  id: '0193a1c2-7b8f-7c3d-9f00-1a2b3c4d5e6f',
  notificationId: '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e6f',
  category: 'orders',
  title: 'Shipped',
  body: 'Order 1042 is on its way',
  url: 'https://shop.example.com/orders/1042',
  data: { orderId: 1042 },
  createdAt: '2026-01-02T03:04:05.000Z',
  readAt: null,
  archivedAt: null,
};

/** A message as the API answers it (inbox-view.ts derives its type from this schema). */
export const message = named(
  'InboxMessage',
  z
    .object({
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
    })
    .meta({ examples: [MESSAGE_EXAMPLE] }),
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
          z
            .object({
              messages: z.array(message),
              nextCursor: z
                .string()
                .nullable()
                .meta({ description: 'Pass as `cursor` for the next page; null at the end' }),
              unread,
            })
            .meta({
              examples: [
                {
                  messages: [MESSAGE_EXAMPLE],
                  nextCursor: MESSAGE_EXAMPLE.id,
                  unread: 1,
                },
              ],
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
    answers: {
      200: { description: 'The count', body: z.object({ unread }).meta({ examples: [{ unread: 3 }] }) },
    },
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
    bodyExample: { read: true },
    errors: { 404: '`not_found`: no such user, or no such message of this user' },
    answers: {
      200: {
        description: 'The message after the change',
        body: z.object({ message, unread }).meta({
          examples: [{ message: { ...MESSAGE_EXAMPLE, readAt: '2026-01-02T08:30:00.000Z' }, unread: 0 }],
        }),
      },
    },
  },
  {
    method: 'post',
    path: '/v1/inbox/messages/mark-all',
    summary: 'Mark every message of the user read / unread / archived / unarchived',
    auth: 'app',
    query: inboxUserQuery,
    body: inboxChangeBody,
    bodyRequired: true,
    bodyExample: { read: true },
    errors: { 404: NO_USER },
    answers: {
      200: {
        description: 'How many messages changed',
        body: z.object({ updated: z.number().int(), unread }).meta({ examples: [{ updated: 4, unread: 0 }] }),
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
    answers: {
      200: {
        description: 'An event stream (kept open)',
        type: 'text/event-stream',
        example: `event: unread\ndata: {"unread":0}\n\nevent: message\nid: ${MESSAGE_EXAMPLE.id}\ndata: ${JSON.stringify(MESSAGE_EXAMPLE)}\n\nevent: unread\ndata: {"unread":1}\n\n: keep-alive\n\n`,
      },
    },
  },
];
