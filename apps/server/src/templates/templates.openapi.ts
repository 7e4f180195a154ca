import { z } from 'zod';
import { named, nullableTimestamp, type RouteContract, timestamp } from '../contract/route-contract';
import {
  listQuery,
  previewSchema,
  publishTemplateSchema,
  templateKeyParam,
  versionParam,
} from './template-schemas';

const payloadSize = z.object({ bytes: z.int(), limit: z.int(), ok: z.boolean() });
const channelChecks = named(
  'ChannelChecks',
  z.object({
    push: z.object({ apns: payloadSize, fcm: payloadSize }).optional(),
    web: z.object({ webpush: payloadSize }).optional(),
    sms: z
      .looseObject({})
      .optional()
      .meta({ description: 'Encoding (GSM-7 or UCS-2), characters and segments' }),
  }),
);
/** Content per channel as published (`email`, `sms`, `push`, `web`, `webhook`…). */
const channelContents = z.record(z.string(), z.unknown());

const templateVersion = named(
  'TemplateVersion',
  z.object({
    key: z.string(),
    version: z.int(),
    latestVersion: z.int(),
    description: z.string().nullable(),
    defaultLocale: z.string().nullable(),
    content: channelContents,
    locales: z.record(z.string(), channelContents),
    checks: z.object({
      basis: z.enum(['static', 'sample']).meta({
        description: '`static`: rendered with every variable empty; `sample`: with the sample given',
      }),
      locales: z
        .record(z.string(), channelChecks)
        .meta({ description: 'Per locale; `default` is the default content' }),
    }),
    createdAt: timestamp,
    archivedAt: nullableTimestamp,
  }),
);

const preview = z.object({
  key: z.string(),
  version: z.int(),
  locales: z
    .record(z.string(), z.string().nullable())
    .meta({ description: 'Per channel: the locale variant used (null: the default content)' }),
  content: channelContents,
  checks: channelChecks,
});

const keyParams = z.object({ key: templateKeyParam });
const versionParams = z.object({ key: templateKeyParam, version: versionParam });

/** The templates API (server keys only). */
export const templatesRoutes: RouteContract[] = [
  {
    method: 'get',
    path: '/v1/templates',
    summary: 'Templates of this app, latest version each, by key (`?includeArchived=true`, `limit`, `after`)',
    auth: 'app',
    query: listQuery,
    answers: {
      200: {
        description: 'A page; pass nextCursor as ?after= for the next',
        body: z.object({ templates: z.array(templateVersion), nextCursor: z.string().nullable() }),
      },
    },
  },
  {
    method: 'put',
    path: '/v1/templates/{key}',
    summary:
      'Publish a new version (content per channel, locale variants); checks Liquid syntax, push sizes, SMS segments',
    auth: 'app',
    params: keyParams,
    body: named('PublishTemplate', publishTemplateSchema),
    answers: {
      201: {
        description: 'The new version, with `checks` (payload sizes, SMS encoding and segments per locale)',
        body: templateVersion,
      },
    },
    errors: {
      422: '`template_syntax_error` (path, line, column), `payload_too_large` (provider, bytes, limit) or `template_too_complex` (over the Liquid limits)',
    },
  },
  {
    method: 'get',
    path: '/v1/templates/{key}',
    summary: 'The latest version (also when archived: `archivedAt` is set)',
    auth: 'app',
    params: keyParams,
    answers: { 200: { description: 'Found', body: templateVersion } },
  },
  {
    method: 'delete',
    path: '/v1/templates/{key}',
    summary: 'Archive: new notifications get 422 unknown_template; versions stay readable',
    auth: 'app',
    params: keyParams,
    answers: { 204: { description: 'Archived' } },
  },
  {
    method: 'get',
    path: '/v1/templates/{key}/versions/{version}',
    summary: 'One published version',
    auth: 'app',
    params: versionParams,
    answers: { 200: { description: 'Found', body: templateVersion } },
  },
  {
    method: 'post',
    path: '/v1/templates/{key}/preview',
    summary: 'Render for a stored user or an inline profile, a locale and data, without sending',
    auth: 'app',
    params: keyParams,
    body: named('PreviewTemplate', previewSchema),
    bodyRequired: false,
    answers: {
      200: { description: 'Rendered content per channel and its sizes/segments', body: preview },
    },
    errors: {
      422: '`template_error`: a variable is missing (named in details.variable) or a value does not render',
    },
  },
];
