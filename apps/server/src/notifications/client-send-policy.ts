import type { AppRecord } from '../apps/apps.service';
import type { AuthContext } from '../apps/auth-context';
import { badRequest, forbidden } from '../common/api-error';
import type { NotificationRequest } from '../templates/notification-request';

const CLIENT_EVENT_PREFIX = 'client:';

/**
 * What a client key may send. The key ships in every copy of the app and anyone can sign up as a
 * user, so without these limits it would be a free SMS and e-mail relay: only to the signed-in
 * user, only templates the backend listed, and nothing that changes who it is from, how urgent it
 * is, or whether it may bypass the user's preferences (critical categories).
 */
export function assertClientMaySend(
  app: AppRecord,
  auth: AuthContext,
  request: NotificationRequest,
  raw: unknown,
): void {
  if (!app.settings.allowClientSending) throw forbidden('this app does not allow sending with client keys');
  if (request.to.userId !== auth.userExternalId)
    throw forbidden('client keys may only notify the signed-in user');
  if (request.template === undefined)
    throw forbidden(
      'client keys may send only templates listed in the app setting clientTemplates, not content',
    );
  if (!app.settings.clientTemplates.includes(request.template))
    throw forbidden(`template "${request.template}" is not listed in the app setting clientTemplates`);
  if (typeof raw === 'object' && raw !== null && 'priority' in raw)
    throw forbidden('client keys may not set priority');
  // Later steps are planned by the relay, outside the client's SMS budget and link policy.
  if (request.steps !== undefined) throw forbidden('client keys may not send steps');
  if (request.category !== undefined && app.settings.criticalCategories.includes(request.category))
    throw forbidden(`client keys may not send in the critical category "${request.category}"`);
}

/**
 * A client's eventId lives in its own namespace, per signed-in user: it can never match a
 * server's eventId or another user's, so a client can neither squat one nor learn its notification.
 */
export function clientEventId(userId: string, eventId: string): string {
  return `${CLIENT_EVENT_PREFIX}${encodeURIComponent(userId)}:${eventId}`;
}

/** A digest's message carries `digest:<digest id>` (digest/digest-message.ts): nobody else may claim one. */
const DIGEST_EVENT_PREFIX = 'digest:';

/**
 * Server keys may not use the client namespace (a server eventId could otherwise equal a client's),
 * nor the digests' (a squatted one would make a digest's message a "repeat" never sent).
 */
export function assertServerEventId(eventId: string | undefined): void {
  if (eventId?.startsWith(CLIENT_EVENT_PREFIX))
    throw badRequest(`eventId may not start with "${CLIENT_EVENT_PREFIX}" (reserved for client keys)`, [
      { path: 'body.eventId', message: `the prefix "${CLIENT_EVENT_PREFIX}" is reserved` },
    ]);
  if (eventId?.startsWith(DIGEST_EVENT_PREFIX))
    throw badRequest(`eventId may not start with "${DIGEST_EVENT_PREFIX}" (reserved for digests)`, [
      { path: 'body.eventId', message: `the prefix "${DIGEST_EVENT_PREFIX}" is reserved` },
    ]);
}
