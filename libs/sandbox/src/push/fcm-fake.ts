import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { sleep } from '../behaviors';
import type { Fake, FakeContext } from '../fake';
import { fcmErrorBody, fcmNamedError } from './fcm-errors';
import { validateFcmBody } from './fcm-message';
import { decodeJwt, verifyJwtSignature } from './jws';
import { ConnectionTracker, sandboxTls } from './tls';

/** The fields of a Google service account key file Clarion and google-auth-library use. */
export interface ServiceAccountJson {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

export interface FcmTestAccount {
  json: ServiceAccountJson;
  publicKeyPem: string;
}

/** A throwaway service account (fresh RSA key) for a Firebase project, as the console would hand out. */
export function fcmTestServiceAccount(projectId: string, name = 'clarion'): FcmTestAccount {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    json: {
      type: 'service_account',
      project_id: projectId,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: `${name}@${projectId}.iam.gserviceaccount.com`,
      client_id: String(100000000000000000000n + BigInt(Math.floor(Math.random() * 1e15))),
      token_uri: 'https://oauth2.googleapis.com/token',
    },
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** A service account the fake trusts: its public key, and the project it may send for. */
export interface FcmAccount {
  projectId: string;
  clientEmail: string;
  publicKeyPem: string;
}

export interface FcmFakeOptions {
  accounts?: FcmAccount[];
  port?: number;
  /** Lifetime of issued access tokens (Google: 3600 s). */
  tokenTtlSeconds?: number;
}

export interface FcmFake extends Fake {
  connections(): number;
  resetConnections(): void;
  addAccount(account: FcmAccount): void;
  /** Access tokens issued so far (each is one OAuth exchange). */
  tokensIssued(): number;
  /** Makes every issued access token invalid, as a revoked key would. */
  revokeTokens(): void;
  baseUrl(): string;
  caPem(): string;
}

export const SANDBOX_FCM_PROJECT = 'clarion-sandbox';
const FCM_SCOPES = [
  'https://www.googleapis.com/auth/firebase.messaging',
  'https://www.googleapis.com/auth/cloud-platform',
];
const GOOGLE_TOKEN_AUD = 'https://oauth2.googleapis.com/token';
const SEND_PATH = /^\/v1\/projects\/([^/]+)\/messages:send$/;

/** fcm.googleapis.com speaks HTTP/2 and HTTP/1.1 (firebase-admin's `send` uses 1.1); so does the fake. */
type Req = http2.Http2ServerRequest;
type Res = http2.Http2ServerResponse;

/**
 * Fake FCM HTTP v1 on its own HTTPS listener (HTTP/1.1 keep-alive, as fcm.googleapis.com serves
 * firebase-admin's `send`). It also plays Google's OAuth token endpoint: `POST /token` with a
 * JWT-bearer assertion signed by a registered service account (RS256, aud, scope, lifetime)
 * yields an access token; `messages:send` requires one issued for the project in the path.
 */
export function fcmFake(options: FcmFakeOptions = {}): FcmFake {
  const accounts = new Map<string, FcmAccount>();
  const tokens = new Map<string, { clientEmail: string; expires: number }>();
  let issued = 0;
  const sandboxAccount = fcmTestServiceAccount(SANDBOX_FCM_PROJECT, 'sandbox');
  const addAccount = (a: FcmAccount) => accounts.set(a.clientEmail, a);
  addAccount({
    projectId: SANDBOX_FCM_PROJECT,
    clientEmail: sandboxAccount.json.client_email,
    publicKeyPem: sandboxAccount.publicKeyPem,
  });
  for (const a of options.accounts ?? []) addAccount(a);
  const tracker = new ConnectionTracker();
  let server: http2.Http2SecureServer | undefined;
  let ca = '';
  let publicHost = '127.0.0.1';
  const base = () => `https://${publicHost}:${(server?.address() as AddressInfo | null)?.port ?? 0}`;

  const json = (res: Res, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(body);
  };

  function issueToken(res: Res, raw: string) {
    const form = new URLSearchParams(raw);
    const invalidGrant = (description: string) =>
      json(res, 400, JSON.stringify({ error: 'invalid_grant', error_description: description }));
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return json(
        res,
        400,
        JSON.stringify({ error: 'unsupported_grant_type', error_description: 'Invalid grant_type' }),
      );
    }
    const jwt = decodeJwt(form.get('assertion') ?? '');
    if (!jwt) return invalidGrant('Invalid JWT: not a JWT');
    const account = typeof jwt.claims.iss === 'string' ? accounts.get(jwt.claims.iss) : undefined;
    if (!account) return invalidGrant('Invalid grant: account not found');
    if (!verifyJwtSignature(jwt, 'RS256', account.publicKeyPem))
      return invalidGrant('Invalid JWT Signature.');
    const { aud, iat, exp, scope } = jwt.claims;
    const now = Date.now() / 1000;
    if (aud !== GOOGLE_TOKEN_AUD) return invalidGrant('Invalid JWT: Failed audience check.');
    if (
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      exp <= now ||
      exp - iat > 3600 ||
      iat > now + 300
    ) {
      return invalidGrant(
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.',
      );
    }
    if (typeof scope !== 'string' || !scope.split(' ').some((s) => FCM_SCOPES.includes(s))) {
      return json(
        res,
        400,
        JSON.stringify({
          error: 'invalid_scope',
          error_description: 'Invalid OAuth scope or ID token audience provided.',
        }),
      );
    }
    const ttl = options.tokenTtlSeconds ?? 3600;
    const accessToken = `ya29.sandbox-${randomBytes(24).toString('base64url')}`;
    tokens.set(accessToken, { clientEmail: account.clientEmail, expires: Date.now() + ttl * 1000 });
    issued += 1;
    json(res, 200, JSON.stringify({ access_token: accessToken, expires_in: ttl, token_type: 'Bearer' }));
  }

  async function send(ctx: FakeContext, req: Req, res: Res, projectId: string, raw: string): Promise<void> {
    const bearer = /^Bearer (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const grant = bearer ? tokens.get(bearer) : undefined;
    if (!grant || grant.expires < Date.now()) {
      return json(
        res,
        401,
        fcmErrorBody(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        ),
      );
    }
    if (accounts.get(grant.clientEmail)?.projectId !== projectId) {
      return json(
        res,
        403,
        fcmErrorBody(
          403,
          'PERMISSION_DENIED',
          `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${projectId}' (or it may not exist).`,
        ),
      );
    }
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return json(
        res,
        400,
        fcmErrorBody(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.', 'INVALID_ARGUMENT'),
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return json(
        res,
        400,
        fcmErrorBody(
          400,
          'INVALID_ARGUMENT',
          'Invalid JSON payload received. Unexpected token.',
          'INVALID_ARGUMENT',
        ),
      );
    }
    const { violations, message, badToken } = validateFcmBody(body);
    const to =
      typeof message.token === 'string' ? message.token : String(message.topic ?? message.condition ?? '');
    const rule = violations.length > 0 ? undefined : ctx.behaviors.take('fcm', to);
    if (rule?.delayMs) await sleep(rule.delayMs);
    if (rule?.drop) {
      // Drop the whole connection, as a reset or a load balancer would.
      // HTTP/1.1 requests (allowHTTP1) come without a stream.
      const session = (req as Partial<Req>).stream?.session;
      if (session) session.destroy();
      else req.socket.destroy();
      return;
    }
    const notification = (message.notification ?? {}) as Record<string, unknown>;
    const android = (message.android ?? {}) as Record<string, unknown>;
    const messageId = `projects/${projectId}/messages/0:${Date.now()}%${randomUUID().slice(0, 8)}`;
    let status = 200;
    let answer = JSON.stringify({ name: messageId });
    let outcome = 'accepted';
    const headers: Record<string, string> = {};
    if (violations.length > 0) {
      status = 400;
      const first = violations[0]!;
      answer = fcmErrorBody(400, 'INVALID_ARGUMENT', first.description, 'INVALID_ARGUMENT', violations);
      outcome = badToken ? 'INVALID_ARGUMENT(token)' : 'INVALID_ARGUMENT';
    } else if (rule?.fail) {
      const named = fcmNamedError(rule.fail);
      status = named.httpStatus;
      answer = named.body;
      outcome = rule.fail;
      if (rule.retryAfterSeconds !== undefined) headers['retry-after'] = String(rule.retryAfterSeconds);
    }
    ctx.recorder.add({
      provider: 'fcm',
      channel: 'push',
      to,
      payload: {
        title: notification.title,
        body: notification.body,
        image: notification.image,
        data: message.data,
        android,
        projectId,
        raw: message,
      },
      outcome,
      ...(status === 200 ? { providerMessageId: messageId } : {}),
    });
    json(res, status, answer, headers);
  }

  return {
    name: 'fcm',
    channel: 'push',
    connections: () => tracker.count,
    resetConnections: () => tracker.reset(),
    addAccount,
    tokensIssued: () => issued,
    revokeTokens: () => tokens.clear(),
    baseUrl: base,
    caPem: () => ca,
    async start(ctx) {
      publicHost = ctx.publicHost;
      const tls = await sandboxTls(ctx.publicHost);
      ca = tls.cert;
      server = http2.createSecureServer({ key: tls.key, cert: tls.cert, allowHTTP1: true }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const url = req.url ?? '';
          const match = SEND_PATH.exec(url);
          const done =
            req.method === 'POST' && url === '/token'
              ? Promise.resolve(issueToken(res, raw))
              : req.method === 'POST' && match
                ? send(ctx, req, res, decodeURIComponent(match[1]!), raw)
                : Promise.resolve(
                    json(
                      res,
                      404,
                      fcmErrorBody(
                        404,
                        'NOT_FOUND',
                        `The requested URL ${url} was not found on this server.`,
                      ),
                    ),
                  );
          done.catch(() => {
            if (!res.headersSent)
              json(res, 500, fcmErrorBody(500, 'INTERNAL', 'Internal error encountered.', 'INTERNAL'));
          });
        });
      });
      tracker.attach(server);
      await new Promise<void>((resolve) => server!.listen(options.port ?? 0, ctx.host, resolve));
    },
    async stop() {
      if (!server) return;
      const s = server;
      server = undefined;
      tracker.destroyAll();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    pluginConfig: () => ({
      serviceAccountJson: JSON.stringify(sandboxAccount.json),
      baseUrl: base(),
      tokenUrl: `${base()}/token`,
      caPem: ca,
    }),
  };
}
