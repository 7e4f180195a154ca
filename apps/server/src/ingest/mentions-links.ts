/**
 * Whether any string in a content tree mentions `links`, the render-scope variable with signed
 * per-user URLs. Checked once per notification so that content which never reads it (nearly all)
 * gives each recipient a shared empty `links`, not a per-recipient object with a getter: building
 * one costs about a microsecond, on the planner's hot path, for every recipient of a campaign.
 * A false "yes" (the word in plain text) only costs that microsecond; the signing itself still
 * happens only when Liquid reads `links.preferences`.
 */
export function mentionsLinks(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('links');
  if (Array.isArray(value)) return value.some(mentionsLinks);
  if (value !== null && typeof value === 'object') return Object.values(value).some(mentionsLinks);
  return false;
}
