/** Answers of the users API, for the OpenAPI document (merged in ops/openapi.ts). */
const nullableString = { type: ['string', 'null'] };
const disabledState = {
  disabled: {
    type: 'boolean',
    description: 'A provider declared it dead; deliveries skip it until it is set again',
  },
  disabledReason: nullableString,
  disabledAt: nullableString,
};

export const usersOpenApi = {
  schemas: {
    User: {
      type: 'object',
      required: ['userId', 'contacts', 'devices', 'topics'],
      properties: {
        userId: { type: 'string' },
        locale: nullableString,
        timezone: nullableString,
        attributes: { type: 'object' },
        email: nullableString,
        phone: nullableString,
        webhookUrl: nullableString,
        addresses: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: 'Addresses on the channels loaded plugins add, by channel (e.g. `slack`)',
        },
        createdAt: { type: 'string', format: 'date-time' },
        updatedAt: { type: 'string', format: 'date-time' },
        contacts: {
          type: 'array',
          items: {
            type: 'object',
            required: ['field', 'address', 'disabled'],
            properties: {
              field: {
                type: 'string',
                description: '`email`, `phone`, `webhookUrl` or `addresses.<channel>`',
              },
              channel: { type: 'string', description: 'For an address on a plugin channel' },
              address: { type: 'string' },
              ...disabledState,
            },
          },
        },
        devices: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id', 'platform', 'token', 'disabled'],
            properties: {
              id: { type: 'string', format: 'uuid' },
              platform: nullableString,
              token: { type: 'string', description: 'The last 8 characters only' },
              ...disabledState,
            },
          },
        },
        topics: { type: 'array', items: { type: 'string' } },
      },
    },
  },
};
