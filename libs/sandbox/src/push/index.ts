import type { Fake } from '../fake';

/** Fake APNs, FCM and Web Push services (issue 3). */
export function pushFakes(): Fake[] {
  return [];
}
