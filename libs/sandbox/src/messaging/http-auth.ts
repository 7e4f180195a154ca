/** `Authorization: Basic base64(user:pass)` → {user, pass}, or undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { user: string; pass: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

/** Constant-time-enough comparison for test credentials (lengths leak; these are not real secrets). */
export function sameSecret(a: string | undefined, b: string): boolean {
  return a !== undefined && a.length === b.length && Buffer.from(a).equals(Buffer.from(b));
}
