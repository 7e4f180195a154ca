import type { AuthContext } from '../apps/auth-context';
import { forbidden } from '../common/api-error';
import { validate } from '../common/validate';
import { userIdParam } from './user-schemas';

/** The `:userId` of a route, checked: client keys act only for the user their token proves. */
export function ownUser(auth: AuthContext, rawId: string): string {
  const id = validate(userIdParam, rawId, 'userId');
  if (auth.kind === 'client' && auth.userExternalId !== id)
    throw forbidden('client keys may only act for the signed-in user');
  return id;
}
