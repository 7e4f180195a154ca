import type { AppSettings } from '../apps/app-settings';
import { userAllows } from '../contacts/preference-rules';
import { quietHoursApply, quietHoursEnd } from '../contacts/quiet-hours';
import type { Recipient } from '../contacts/recipient';

export type SuppressionReason = 'opted_out' | 'category_opt_in_required';

/** Critical categories (app settings) pass preferences, quiet hours and caps. A removed contact still stops them. */
export function isCritical(settings: AppSettings, category: string | null | undefined): boolean {
  return category !== null && category !== undefined && settings.criticalCategories.includes(category);
}

/**
 * Why a user's preferences silence `channel` for `category`, or null if they allow it.
 * Precedence: the user's most specific rule; when they said nothing, the app's category
 * default (an `opt_in` category needs the user's yes).
 */
export function preferenceSuppression(
  settings: AppSettings,
  recipient: Recipient,
  channel: string,
  category: string | null,
): SuppressionReason | null {
  if (isCritical(settings, category)) return null;
  const said = userAllows(recipient.preferences, channel, category);
  if (said === false) return 'opted_out';
  if (said === undefined && category !== null && settings.categoryDefaults[category] === 'opt_in')
    return 'category_opt_in_required';
  return null;
}

/** Until when quiet hours hold this user's notification (not critical, window applies), or null. */
export function quietHold(
  settings: AppSettings,
  recipient: Recipient,
  category: string | null,
  at: Date,
): Date | null {
  const qh = recipient.quietHours;
  if (!qh || isCritical(settings, category) || !quietHoursApply(qh, category)) return null;
  return quietHoursEnd(qh, recipient.timezone, at);
}
