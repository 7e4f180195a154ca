/** The loose check providers apply to an address before accepting it: local@domain.tld, no spaces. */
export function isEmailAddress(value: unknown): value is string {
  return typeof value === 'string' && /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(value);
}
