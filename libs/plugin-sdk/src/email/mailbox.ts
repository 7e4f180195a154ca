/**
 * Splits a `from` / `replyTo` the core validated as one RFC 5322 mailbox (`a@b.example`,
 * `Name <a@b.example>`, `"Name, Inc." <a@b.example>`) into the parts provider APIs take.
 */
export function splitMailbox(value: string): { email: string; name?: string } {
  const match = /^\s*(.*?)\s*<([^<>\s]+)>\s*$/s.exec(value);
  if (!match) return { email: value.trim() };
  const raw = match[1]!;
  const name = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  return { email: match[2]!, ...(name ? { name } : {}) };
}
