/**
 * SMS length rules shared by the SMS plugins: which encoding a text needs, how many
 * segments (billed parts) it takes, and E.164 phone number validation.
 *
 * GSM 03.38: a single message carries 160 septets; a concatenated one loses 7 septets per
 * part to the UDH, leaving 153. Characters from the extension table (€ [ ] { } etc.) take an
 * escape septet plus their own, so they count twice and are never split across parts. A text
 * with any character outside the GSM-7 alphabet is sent as UCS-2: 70 UTF-16 code units single,
 * 67 per concatenated part, and a surrogate pair (most emoji) is never split across parts.
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegmentInfo {
  encoding: SmsEncoding;
  /** Parts the provider bills for; 0 for an empty text. */
  segments: number;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) the text occupies. */
  units: number;
  /** Capacity of one part for this text: 160/153 (GSM-7) or 70/67 (UCS-2). */
  perSegment: number;
}

const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(GSM7_BASIC);
const EXTENSION = new Set(GSM7_EXTENSION);

export const SMS_LIMITS = {
  'GSM-7': { single: 160, multi: 153 },
  'UCS-2': { single: 70, multi: 67 },
} as const;

/** True when every character of `text` is in the GSM-7 basic or extension table. */
export function isGsm7(text: string): boolean {
  for (const ch of text) if (!BASIC.has(ch) && !EXTENSION.has(ch)) return false;
  return true;
}

/** Units each character occupies, in order: 1 or 2 septets (GSM-7), 1 or 2 code units (UCS-2). */
function unitWidths(text: string, encoding: SmsEncoding): number[] {
  const widths: number[] = [];
  // for…of walks code points, so a surrogate pair arrives as one character of length 2.
  for (const ch of text) widths.push(encoding === 'GSM-7' ? (EXTENSION.has(ch) ? 2 : 1) : ch.length);
  return widths;
}

export function countSmsSegments(text: string): SmsSegmentInfo {
  const encoding: SmsEncoding = isGsm7(text) ? 'GSM-7' : 'UCS-2';
  const limits = SMS_LIMITS[encoding];
  const widths = unitWidths(text, encoding);
  const units = widths.reduce((sum, w) => sum + w, 0);
  if (units === 0) return { encoding, segments: 0, units, perSegment: limits.single };
  if (units <= limits.single) return { encoding, segments: 1, units, perSegment: limits.single };
  // Pack greedily: a 2-unit character that does not fit in what is left of a part starts the next one.
  let segments = 1;
  let used = 0;
  for (const w of widths) {
    if (used + w > limits.multi) {
      segments += 1;
      used = 0;
    }
    used += w;
  }
  return { encoding, segments, units, perSegment: limits.multi };
}

/** E.164: a `+`, a non-zero country code digit, at most 15 digits in all. No spaces or punctuation. */
export function isE164(phone: string): boolean {
  return /^\+[1-9]\d{1,14}$/.test(phone);
}
