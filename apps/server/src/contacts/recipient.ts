import type { Platform, WebPushSubscription } from '@clarion/plugin-sdk';
import type { PreferenceRule } from './preference-rules';
import type { QuietHours } from './quiet-hours';

export interface ContactRow {
  id: string;
  kind: 'device' | 'email' | 'phone' | 'url';
  platform: Platform | null;
  address: string;
  subscription: WebPushSubscription | null;
  /** The plugin channel this address is for (`slack`); null for the core contacts. */
  channel: string | null;
  disabled: boolean;
}

/** A user as the planner needs them: profile for templates, contacts for addresses. */
export interface Recipient {
  userId: string;
  externalId: string;
  locale: string | null;
  timezone: string | null;
  attributes: Record<string, unknown>;
  contacts: ContactRow[];
  /** The user's own preference rules (empty: app defaults apply). */
  preferences: PreferenceRule[];
  /** The user's quiet window (held, not dropped), or null. */
  quietHours: QuietHours | null;
}
