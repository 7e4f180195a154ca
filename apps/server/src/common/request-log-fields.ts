import type { ServerResponse } from 'node:http';

/**
 * Fields a handler adds to its request's "request completed" log line (the notification id it
 * created, say). pino-http reads them through `customProps` when the response finishes; keyed by
 * the response so nothing leaks between requests and nothing depends on async context.
 */
const fields = new WeakMap<ServerResponse, Record<string, string>>();

export function addLogFields(res: ServerResponse, extra: Record<string, string>): void {
  fields.set(res, { ...fields.get(res), ...extra });
}

export function logFieldsOf(res: ServerResponse): Record<string, string> {
  return fields.get(res) ?? {};
}
