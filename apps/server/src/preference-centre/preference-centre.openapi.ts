import { z } from 'zod';
import { preferenceLinkSchema } from './preference-centre-link.controller';

const html = (description: string) => ({
  description,
  content: { 'text/html': { schema: { type: 'string' } } },
});
const token = { name: 'token', in: 'query', required: false, schema: { type: 'string' } };
const pageErrors = {
  400: html('Malformed link, or a refused save (the form again, with the reason)'),
  401: html('Link not issued by this server'),
  404: html('The link’s user no longer exists'),
  410: html('Link expired'),
};

/** The hosted preference centre's part of the OpenAPI document (merged in ops/openapi.ts). */
export const preferenceCentreOpenApi = {
  schemas: {
    PreferenceLink: z.toJSONSchema(preferenceLinkSchema, { io: 'input' }) as Record<string, unknown>,
  },
  paths: {
    '/v1/users/{userId}/preferences/link': {
      post: {
        summary: 'A signed, expiring link to the user’s hosted preference page (server keys)',
        parameters: [{ name: 'userId', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/PreferenceLink' } } },
        },
        responses: {
          200: { description: '`{url, expiresAt}`' },
          400: { description: 'Invalid input' },
          401: { description: 'Missing or wrong credentials' },
          403: { description: 'Not allowed for this key' },
          404: { description: 'Unknown user' },
        },
      },
    },
    '/v1/preferences/page': {
      get: {
        summary: 'Hosted preference page (HTML) for the user of a signed link',
        security: [],
        parameters: [token],
        responses: { 200: html('The form'), ...pageErrors },
      },
      post: {
        summary: 'Save the preference page’s form (form-encoded; the token in the form)',
        security: [],
        parameters: [token],
        requestBody: {
          content: {
            'application/x-www-form-urlencoded': {
              schema: {
                type: 'object',
                properties: {
                  token: { type: 'string' },
                  shown: { type: 'string', description: 'The toggles the page showed, `channel:category` …' },
                  quiet: { type: 'string', enum: ['1'] },
                  quietStart: { type: 'string', example: '22:00' },
                  quietEnd: { type: 'string', example: '07:00' },
                },
                additionalProperties: {
                  type: 'string',
                  description: '`on:channel:category=1` per ticked toggle',
                },
              },
            },
          },
        },
        responses: { 200: html('Saved; the form again'), ...pageErrors },
      },
    },
  },
};
