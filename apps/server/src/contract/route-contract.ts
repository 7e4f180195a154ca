import { z } from 'zod';

/** One answer of a route: a JSON body described by a zod schema, or another content type. */
export interface Answer {
  description: string;
  /** The answer's JSON body; omitted for 204 and for answers that are not JSON. */
  body?: z.ZodType;
  /** Content type of a non-JSON answer (an HTML page, a GIF); its body is not checked. */
  type?: string;
  /**
   * The body of a non-JSON answer as text (a page, a stream, TwiML). A JSON answer's examples go
   * on its schema (`.meta({ examples })`), so a named schema's component shows them too.
   */
  example?: unknown;
}

export type Method = 'get' | 'put' | 'post' | 'delete' | 'patch' | 'head';

/**
 * The contract of one route, written with the zod schemas the controller validates with: the
 * OpenAPI document is built from these (contract/openapi-builder.ts) and test answers are checked
 * against that document (testing/contract-check.ts).
 */
export interface RouteContract {
  method: Method;
  /** OpenAPI path template: `/v1/users/{userId}`. */
  path: string;
  summary: string;
  description?: string;
  /** `app`: an app key (Basic); `admin`: the admin token; `none`: public or provider-signed. */
  auth: 'app' | 'admin' | 'none';
  /** Path parameters; each one in the template is a plain string unless given here. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Content types of the body (default JSON); the first one carries `body`'s schema. */
  bodyTypes?: string[];
  bodyRequired?: boolean;
  /**
   * A body this route accepts, shown on its JSON media types. On the route, not on `body`: that
   * schema is the controller's own, and a `.meta()` copy of it would no longer be the schema other
   * named schemas refer to.
   */
  bodyExample?: unknown;
  /** Successful answers by status. */
  answers: Record<number, Answer>;
  /** Error answers specific to this route (the usual 400/401/403/404/413/415/429/503 are added). */
  errors?: Record<number, string>;
  /** Replaces the usual error statuses derived from what the route takes (a page, a pixel). */
  usualErrors?: number[];
}

/** Named schemas: each becomes `#/components/schemas/<id>` and is referenced by name. */
export const contractSchemas = z.registry<{ id: string }>();

/** The same schemas as a list (a registry cannot be iterated). */
export const namedSchemas: z.ZodType[] = [];

export function named<S extends z.ZodType>(id: string, schema: S): S {
  contractSchemas.add(schema, { id });
  namedSchemas.push(schema);
  return schema;
}

/** The one error shape every endpoint answers with. */
export const errorSchema = named(
  'Error',
  z
    .object({
      error: z.object({
        code: z.string().meta({
          description:
            'Stable, machine-readable. Each operation names its own; any request may also get `invalid_request` (400), `not_found` (404, an unknown route or method), `timeout` (408), `payload_too_large` (413), `uri_too_long` (414), `unsupported_media_type` (415), `headers_too_large` (431), `internal` (500) or `unavailable` (503)',
        }),
        message: z.string().meta({ description: 'For people; may change' }),
        details: z.unknown().meta({
          description:
            'Always present: for a 400 the list of `{path, message}` problems, else `[]` or an object',
        }),
      }),
    })
    .meta({
      examples: [
        {
          error: {
            code: 'invalid_request',
            message: 'invalid body: body.to: Invalid input: expected object, received undefined',
            details: [{ path: 'body.to', message: 'Invalid input: expected object, received undefined' }],
          },
        },
      ],
    }),
);

/** An ISO 8601 timestamp as the server writes it (JSON of a Date: UTC, with milliseconds). */
export const timestamp = z.string().meta({ format: 'date-time' });
export const nullableTimestamp = timestamp.nullable();
export const uuid = z.string().meta({ format: 'uuid' });
