/** A job's delay for work due at `at` (a send time, the end of a hold): 0 when due already or never held. */
export function delayUntil(at: Date | string | null | undefined): number {
  if (at === null || at === undefined) return 0;
  return Math.max(0, (typeof at === 'string' ? Date.parse(at) : at.getTime()) - Date.now());
}
