import type { AuthContext } from '../apps/auth-context';
import { badRequest, forbidden } from '../common/api-error';

/** Whose inbox a request reads: the signed-in user of a client key, or the `userId` a server key names. */
export function inboxUser(auth: AuthContext, userId: string | undefined): string {
  if (auth.kind === 'client') {
    if (userId !== undefined && userId !== auth.userExternalId)
      throw forbidden('client keys may only act for the signed-in user');
    return auth.userExternalId!;
  }
  if (userId === undefined)
    throw badRequest('a server key must name the user: ?userId=', [
      { path: 'query.userId', message: 'Required' },
    ]);
  return userId;
}
