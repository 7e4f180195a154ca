import { jwtVerify, SignJWT } from 'jose';

/**
 * Client keys act for one signed-in user, proven by a short-lived HS256 JWT the product's
 * backend signs with the app's user-token secret: `sub` = the app's user id.
 */
export async function verifyUserToken(token: string, secret: string): Promise<string | null> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(secret), {
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'exp'],
    });
    return typeof payload.sub === 'string' && payload.sub.length > 0 ? payload.sub : null;
  } catch {
    return null;
  }
}

/** The user a token names if any of `secrets` signed it (after a rotation: the new secret and, for a while, the old). */
export async function verifyUserTokenWithAny(token: string, secrets: string[]): Promise<string | null> {
  for (const secret of secrets) {
    const user = await verifyUserToken(token, secret);
    if (user) return user;
  }
  return null;
}

/** What a product's backend does (documented in the README; used by tests). */
export async function signUserToken(userId: string, secret: string, ttlSeconds = 3600): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(secret));
}
