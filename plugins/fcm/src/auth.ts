import { PermanentError, RetryableError } from '@clarion/plugin-sdk';
import { JWT } from 'google-auth-library';
import { type Agent, fetch as undiciFetch } from 'undici';
import type { ServiceAccount } from './config';

const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** google-auth-library posts the JWT-bearer grant here, hard-coded (gtoken/getToken.js). */
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/**
 * OAuth access tokens for one service account, from google-auth-library's JWT client: it signs
 * the grant, caches the token and refreshes it five minutes before expiry, sharing one refresh
 * among concurrent callers. `tokenUrl` redirects the (hard-coded) token endpoint to the sandbox
 * through a gaxios request interceptor, with `tokenDispatcher` trusting the sandbox CA.
 */
export class AccessTokens {
  private readonly jwt: JWT;

  constructor(
    account: ServiceAccount,
    options: { tokenUrl?: string; tokenDispatcher?: Agent; onRefresh?: () => void },
  ) {
    this.jwt = new JWT({
      email: account.client_email,
      key: account.private_key,
      ...(account.private_key_id ? { keyId: account.private_key_id } : {}),
      scopes: [FCM_SCOPE],
    });
    if (options.onRefresh) this.jwt.on('tokens', options.onRefresh);
    const { tokenUrl, tokenDispatcher } = options;
    if (tokenUrl) {
      this.jwt.transporter.interceptors.request.add({
        resolved: async (request) => {
          if (String(request.url) === GOOGLE_TOKEN_URL) {
            request.url = new URL(tokenUrl);
            if (tokenDispatcher) {
              request.fetchImplementation = ((
                input: Parameters<typeof undiciFetch>[0],
                init: Parameters<typeof undiciFetch>[1],
              ) =>
                undiciFetch(input, {
                  ...init,
                  dispatcher: tokenDispatcher,
                })) as unknown as typeof request.fetchImplementation;
            }
          }
          return request;
        },
      });
    }
  }

  /** A valid access token; throws PermanentError(configuration) when Google refuses the key. */
  async get(): Promise<string> {
    try {
      const { token } = await this.jwt.getAccessToken();
      if (!token)
        throw new RetryableError('OAuth token endpoint returned no access token', { code: 'oauth_no_token' });
      return token;
    } catch (error) {
      if (error instanceof RetryableError) throw error;
      const status = (error as { status?: number; response?: { status?: number } }).response?.status;
      const text = (error as Error).message ?? String(error);
      if (status !== undefined && status >= 400 && status < 500) {
        // invalid_grant / invalid_scope: a revoked or wrong service account key.
        throw new PermanentError(`FCM OAuth: ${text}`, {
          configuration: true,
          code: 'oauth_invalid_grant',
          status,
          cause: error,
        });
      }
      throw new RetryableError(`FCM OAuth: ${text}`, {
        code: 'oauth_unavailable',
        ...(status !== undefined ? { status } : {}),
        cause: error,
      });
    }
  }

  /** Forget the cached token (after a 401): the next `get` fetches a new one. */
  invalidate(): void {
    // JWT's own initial state: a placeholder refresh token and an expiry in the past force a new grant.
    this.jwt.credentials = { refresh_token: 'jwt-placeholder', expiry_date: 1 };
  }
}
