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

// The examples' numbers are what the server's checks (template-checks.ts) give for this content.
const CONTENT_EXAMPLE = {
  email: {
    subject: 'Order {{ data.order.id }} has shipped',
    html: '<p>Hi {{ user.name }}, order {{ data.order.id }} is on its way.</p>',
  },
  push: { title: 'Shipped', body: 'Order {{ data.order.id }} is on its way' },
  sms: { text: 'Shop: order {{ data.order.id }} has shipped. Track it: {{ data.order.trackingUrl }}' },
};
const VERSION_EXAMPLE = {
  key: 'order-shipped',
  version: 3,
  latestVersion: 3,
  description: 'Sent when an order leaves the warehouse',
  defaultLocale: 'en',
  content: CONTENT_EXAMPLE,
  locales: {
    'pt-BR': {
      email: { subject: 'O pedido {{ data.order.id }} foi enviado' },
      push: { title: 'Enviado', body: 'O pedido {{ data.order.id }} está a caminho' },
      sms: {
        text: 'Shop: o pedido {{ data.order.id }} foi enviado. Acompanhe: {{ data.order.trackingUrl }}',
      },
    },
  },
  checks: {
    basis: 'static',
    locales: {
      default: {
        push: { apns: { bytes: 144, limit: 4096, ok: true }, fcm: { bytes: 98, limit: 4096, ok: true } },
        sms: { encoding: 'GSM-7', segments: 1, units: 36, perSegment: 160 },
      },
      'pt-BR': {
        push: { apns: { bytes: 149, limit: 4096, ok: true }, fcm: { bytes: 103, limit: 4096, ok: true } },
        sms: { encoding: 'GSM-7', segments: 1, units: 40, perSegment: 160 },
      },
    },
  },
  createdAt: '2026-01-02T03:04:05.000Z',
  archivedAt: null,
};

const templateVersion = named(
  'TemplateVersion',
  z
    .object({
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
    })
    .meta({ examples: [VERSION_EXAMPLE] }),
);

const preview = z
  .object({
    key: z.string(),
    version: z.int(),
    locales: z
      .record(z.string(), z.string().nullable())
      .meta({ description: 'Per channel: the locale variant used (null: the default content)' }),
    content: channelContents,
    checks: channelChecks,
  })
  .meta({
    examples: [
      {
        key: 'order-shipped',
        version: 3,
        locales: { email: null, push: null, sms: null },
        content: {
          email: { subject: 'Order 1042 has shipped', html: '<p>Hi Alice, order 1042 is on its way.</p>' },
          push: { title: 'Shipped', body: 'Order 1042 is on its way' },
          sms: { text: 'Shop: order 1042 has shipped. Track it: https://shop.example.com/t/1042' },
        },
        checks: {
          push: { apns: { bytes: 148, limit: 4096, ok: true }, fcm: { bytes: 102, limit: 4096, ok: true } },
          sms: { encoding: 'GSM-7', segments: 1, units: 71, perSegment: 160 },
        },
      },
    ],
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
        body: z
          .object({ templates: z.array(templateVersion), nextCursor: z.string().nullable() })
          .meta({ examples: [{ templates: [VERSION_EXAMPLE], nextCursor: null }] }),
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
    bodyExample: {
      description: VERSION_EXAMPLE.description,
      defaultLocale: VERSION_EXAMPLE.defaultLocale,
      content: VERSION_EXAMPLE.content,
      locales: VERSION_EXAMPLE.locales,
    },
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
    bodyExample: {
      user: { id: 'alice', locale: 'en', attributes: { name: 'Alice' } },
      data: { order: { id: 1042, trackingUrl: 'https://shop.example.com/t/1042' } },
    },
    answers: {
      200: { description: 'Rendered content per channel and its sizes/segments', body: preview },
    },
    errors: {
      422: '`template_error`: a variable is missing (named in details.variable) or a value does not render',
    },
  },
];
