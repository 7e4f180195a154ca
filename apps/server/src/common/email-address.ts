import { z } from 'zod';

const CONTROL = /\p{Cc}/u;
const ANGLE = /^(.*?)\s*<([^<>\s]+)>$/s;
/** An unquoted display name: words, spaces and dots (RFC 5322 phrase, with RFC 6532 UTF-8), no specials. */
const PHRASE = /^[^"<>,;:@\\()[\]]+$/u;
const QUOTED = /^"(?:[^"\\]|\\.)*"$/s;
const addressOnly = z.email();

export interface Mailbox {
  name?: string;
  /** Lowercased, for comparisons. */
  address: string;
}

/**
 * One RFC 5322 mailbox: `a@b.example`, `Name <a@b.example>` or `"Name, Inc." <a@b.example>`.
 * No CR, LF or other control character anywhere: those would end the header and start another.
 */
export function parseMailbox(value: string): Mailbox | null {
  if (CONTROL.test(value)) return null;
  const trimmed = value.trim();
  const angle = ANGLE.exec(trimmed);
  const address = angle ? angle[2]! : trimmed;
  if (!addressOnly.safeParse(address).success) return null;
  const name = angle?.[1]?.trim() ?? '';
  if (name !== '' && !PHRASE.test(name) && !QUOTED.test(name)) return null;
  return { ...(name ? { name } : {}), address: address.toLowerCase() };
}

export const mailboxSchema = z
  .string()
  .max(320)
  .refine(
    (v) => parseMailbox(v) !== null,
    'one e-mail address, optionally with a display name ("Name <a@b.example>"); no line breaks',
  );
