import type { PreferenceCentreTokens } from './preference-centre-token';

const DAY = 24 * 3600;

/** How long a preference-page link works unless the caller says otherwise (the link endpoint's default). */
export const PREFERENCE_LINK_DEFAULT_SECONDS = 30 * DAY;
export const PREFERENCE_LINK_MAX_SECONDS = 365 * DAY;

/**
 * The signed URL of one user's hosted preference page, shared by `POST /v1/users/:userId/preferences/link`
 * and the `links.preferences` template variable so both hand out the same kind of link.
 */
export function preferencePageLink(
  tokens: PreferenceCentreTokens,
  publicUrl: string,
  claim: { appId: string; userId: string },
  expiresIn = PREFERENCE_LINK_DEFAULT_SECONDS,
  now = Date.now(),
): { url: string; expiresAt: Date } {
  // Whole seconds: the token stores seconds, so the answer's expiresAt is exactly the token's.
  const expiresAt = new Date((Math.floor(now / 1000) + expiresIn) * 1000);
  const token = tokens.sign({ ...claim, expiresAt });
  return { url: `${publicUrl.replace(/\/+$/, '')}/v1/preferences/page?token=${token}`, expiresAt };
}
