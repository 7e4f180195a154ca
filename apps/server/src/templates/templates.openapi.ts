import { z } from 'zod';
import { previewSchema, publishTemplateSchema } from './template-schemas';

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
const body = (ref: string) => ({
  required: true,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const key = {
  name: 'key',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$' },
};
const common = {
  400: { description: 'Invalid input' },
  401: { description: 'Missing or wrong credentials' },
  403: { description: 'Client keys cannot manage templates' },
};

/** The templates API's part of the OpenAPI document (merged in ops/openapi.ts), from the validating zod schemas. */
export const templatesOpenApi = {
  schemas: {
    PublishTemplate: schema(publishTemplateSchema),
    PreviewTemplate: schema(previewSchema),
  },
  paths: {
    '/v1/templates': {
      get: {
        summary:
          'Templates of this app, latest version each, by key (`?includeArchived=true`, `limit`, `after`)',
        responses: { 200: { description: '`{templates, nextCursor}`' }, ...common },
      },
    },
    '/v1/templates/{key}': {
      put: {
        summary:
          'Publish a new version (content per channel, locale variants); checks Liquid syntax, push sizes, SMS segments',
        parameters: [key],
        requestBody: body('PublishTemplate'),
        responses: {
          201: {
            description:
              'The new version, with `checks` (payload sizes, SMS encoding and segments per locale)',
          },
          422: {
            description:
              '`template_syntax_error` (path, line, column) or `payload_too_large` (provider, bytes, limit)',
          },
          ...common,
        },
      },
      get: {
        summary: 'The latest version (also when archived: `archivedAt` is set)',
        parameters: [key],
        responses: { 200: { description: 'Found' }, 404: { description: 'Not found' }, ...common },
      },
      delete: {
        summary: 'Archive: new notifications get 422 unknown_template; versions stay readable',
        parameters: [key],
        responses: { 204: { description: 'Archived' }, 404: { description: 'Not found' }, ...common },
      },
    },
    '/v1/templates/{key}/versions/{version}': {
      get: {
        summary: 'One published version',
        parameters: [
          key,
          { name: 'version', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } },
        ],
        responses: { 200: { description: 'Found' }, 404: { description: 'Not found' }, ...common },
      },
    },
    '/v1/templates/{key}/preview': {
      post: {
        summary: 'Render for a stored user or an inline profile, a locale and data, without sending',
        parameters: [key],
        requestBody: body('PreviewTemplate'),
        responses: {
          200: {
            description:
              '`{key, version, locales, content, checks}`: rendered content per channel and its sizes/segments',
          },
          404: { description: 'Unknown template, version or user' },
          422: { description: 'A variable is missing (named in details.variable)' },
          ...common,
        },
      },
    },
  },
};
