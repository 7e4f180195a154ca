/** Answers of the notifications API, for the OpenAPI document (merged in ops/openapi.ts). */
const nullableString = { type: ['string', 'null'] };

export const notificationsOpenApi = {
  schemas: {
    NotificationAccepted: {
      type: 'object',
      required: ['id', 'status'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        status: {
          type: 'string',
          enum: ['accepted', 'scheduled', 'fanout', 'duplicate'],
          description: '`fanout`: a topic or a large list, expanded in the background (no counts yet)',
        },
        duplicate: { type: 'boolean', description: 'A repeat of an eventId: nothing was sent again' },
        deliveries: { type: 'integer', description: 'Deliveries queued' },
        suppressed: { type: 'integer', description: 'Deliveries not sent (preferences, opt-outs, caps…)' },
      },
    },
    DeliveryEvent: {
      type: 'object',
      required: ['status', 'at'],
      properties: {
        status: { type: 'string' },
        at: { type: 'string', format: 'date-time' },
        attempt: { type: ['integer', 'null'] },
        detail: {},
      },
    },
    NotificationDelivery: {
      type: 'object',
      required: ['id', 'channel', 'plugin', 'status', 'attempts', 'events'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        userId: nullableString,
        channel: { type: 'string' },
        plugin: { type: 'string' },
        status: {
          type: 'string',
          description:
            'pending, queued, sent, delivered, opened, clicked, failed, suppressed, expired or canceled',
        },
        reason: nullableString,
        attempts: { type: 'integer' },
        providerMessageId: nullableString,
        errorCode: nullableString,
        errorMessage: nullableString,
        heldUntil: nullableString,
        createdAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
        events: { type: 'array', items: { $ref: '#/components/schemas/DeliveryEvent' } },
      },
    },
    Notification: {
      type: 'object',
      required: ['id', 'status', 'summary', 'deliveries', 'nextCursor'],
      properties: {
        id: { type: 'string', format: 'uuid' },
        eventId: nullableString,
        status: { type: 'string' },
        category: nullableString,
        priority: { type: 'string' },
        sendAt: nullableString,
        expiresAt: nullableString,
        recipients: {},
        createdAt: { type: 'string', format: 'date-time' },
        canceledAt: nullableString,
        template: {
          type: ['object', 'null'],
          properties: { key: { type: 'string' }, version: { type: ['integer', 'null'] } },
        },
        summary: {
          type: 'object',
          additionalProperties: { type: 'integer' },
          description: 'Deliveries per status',
        },
        deliveries: { type: 'array', items: { $ref: '#/components/schemas/NotificationDelivery' } },
        nextCursor: {
          ...nullableString,
          description: 'Pass as ?cursor= for the next page; null on the last',
        },
      },
    },
  },
};
