/**
 * The fakes' own count of SMS parts, written independently of the plugin SDK's counter so a
 * test comparing the two cross-checks both. GSM-7: 160/153 septets, extension chars take 2.
 * Otherwise UCS-2: 70/67 UTF-16 code units.
 */
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXT = new Set('\f^{}\\[~]|€');

export function isGsmText(text: string): boolean {
  return [...text].every((c) => GSM_BASIC.has(c) || GSM_EXT.has(c));
}

export function smsParts(text: string): { parts: number; unicode: boolean } {
  const unicode = !isGsmText(text);
  const single = unicode ? 70 : 160;
  const multi = unicode ? 67 : 153;
  const sizes = [...text].map((c) => (unicode ? c.length : GSM_EXT.has(c) ? 2 : 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return { parts: 0, unicode };
  if (total <= single) return { parts: 1, unicode };
  let parts = 1;
  let room = multi;
  for (const s of sizes) {
    if (s > room) {
      parts += 1;
      room = multi;
    }
    room -= s;
  }
  return { parts, unicode };
}

/** What a handset shows for GSM-7-sent text: characters outside the alphabet arrive as `?`. */
export function asGsmOnHandset(text: string): string {
  return [...text].map((c) => (GSM_BASIC.has(c) || GSM_EXT.has(c) ? c : '?')).join('');
}
