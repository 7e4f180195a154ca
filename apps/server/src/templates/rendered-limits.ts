import type { MessageContent } from '@clarion/plugin-sdk';
import { jsonBytesBound } from './json-bytes-bound';
import { contentTooLarge } from './liquid-renderer';
import { payloadSizeFor } from './push-payload-size';

/** What one delivery's rendered content may come to, per channel and in all. */
export const RENDERED_LIMITS = {
  /** An SMS's text, in characters (10 concatenated segments). */
  smsChars: 1_600,
  /** An e-mail's html and its text, each, in UTF-8 bytes. */
  emailBodyBytes: 1_000_000,
  /** An e-mail's subject, in characters (RFC 5322's line length). */
  emailSubjectChars: 998,
  /** A webhook's `json`, as compact JSON in bytes. */
  webhookBytes: 256 * 1024,
  /** Everything a delivery carries, as JSON in bytes. */
  deliveryBytes: 2 * 1024 * 1024,
} as const;

const bytes = (text: string) => Buffer.byteLength(text);

/**
 * Refuses content rendered past its channel's limit (a RenderError `content_too_large` naming the field):
 * checked where deliveries are planned, so an oversized render is refused or suppressed there
 * instead of being stored, queued and sent.
 */
export function checkRenderedSize(channel: string, content: MessageContent, field: string): void {
  const { text, html, subject } = content as { text?: string; html?: string; subject?: string };
  if (channel === 'sms' && text !== undefined && text.length > RENDERED_LIMITS.smsChars)
    throw contentTooLarge(
      `${field}.text`,
      `${text.length} characters`,
      `${RENDERED_LIMITS.smsChars}-character`,
    );
  if (channel === 'email') {
    if (subject !== undefined && subject.length > RENDERED_LIMITS.emailSubjectChars)
      throw contentTooLarge(
        `${field}.subject`,
        `${subject.length} characters`,
        `${RENDERED_LIMITS.emailSubjectChars}-character`,
      );
    for (const [name, body] of [
      ['html', html],
      ['text', text],
    ] as const) {
      if (body !== undefined && bytes(body) > RENDERED_LIMITS.emailBodyBytes)
        throw contentTooLarge(
          `${field}.${name}`,
          `${bytes(body)} bytes`,
          `${RENDERED_LIMITS.emailBodyBytes}-byte`,
        );
    }
  }
  if (channel === 'webhook') {
    const size = jsonBytesOver((content as { json?: unknown }).json, RENDERED_LIMITS.webhookBytes);
    if (size !== undefined)
      throw contentTooLarge(`${field}.json`, `${size} bytes`, `${RENDERED_LIMITS.webhookBytes}-byte`);
  }
  const total = jsonBytesOver(content, RENDERED_LIMITS.deliveryBytes);
  if (total !== undefined)
    throw contentTooLarge(field, `${total} bytes`, `${RENDERED_LIMITS.deliveryBytes}-byte`);
}

/**
 * The bytes of `value` as JSON when they exceed `limit`, else undefined. Serialized only when the
 * bound (jsonBytesBound) does not settle it: a 50 KB newsletter, checked once per recipient, is not.
 */
function jsonBytesOver(value: unknown, limit: number): number | undefined {
  if (jsonBytesBound(value) <= limit) return undefined;
  const size = bytes(JSON.stringify(value) ?? '');
  return size > limit ? size : undefined;
}

/** Refuses a push or web push payload over its plugin's limit, measured with the plugin's own builder. */
export function checkPushPayload(plugin: string, content: MessageContent, field: string): void {
  const size = payloadSizeFor(plugin, content);
  if (size && !size.ok)
    throw contentTooLarge(field, `a ${size.bytes}-byte ${plugin} payload`, `${size.limit}-byte`);
}
