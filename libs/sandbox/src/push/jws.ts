import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/** A compact JWS split into its parts, header and claims decoded. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Decodes a compact JWT without verifying it; undefined when it is not one. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as unknown;
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    if (!isObject(header) || !isObject(claims)) return undefined;
    return {
      header,
      claims,
      signingInput: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Verifies the signature of a decoded JWT with the algorithm its header names, restricted to
 * the one the provider accepts (ES256 for APNs and VAPID, RS256 for Google service accounts).
 * JOSE ECDSA signatures are raw r||s (IEEE P1363), not DER.
 */
export function verifyJwtSignature(
  jwt: DecodedJwt,
  alg: 'ES256' | 'RS256',
  key: KeyObject | string,
): boolean {
  if (jwt.header.alg !== alg) return false;
  const publicKey = typeof key === 'string' ? createPublicKey(key) : key;
  try {
    return verify(
      'sha256',
      Buffer.from(jwt.signingInput),
      alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' } : publicKey,
      jwt.signature,
    );
  } catch {
    return false;
  }
}
