import { generateKeyPairSync, randomUUID, X509Certificate } from 'node:crypto';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { sleep } from '../behaviors';
import type { Fake, FakeContext } from '../fake';
import { APNS_PUSH_TYPES, APNS_REASON_STATUS, apnsPayloadLimit } from './apns-reasons';
import { decodeJwt, verifyJwtSignature } from './jws';
import { ConnectionTracker, sandboxTls } from './tls';

/** A .p8 signing key the fake knows the public half of, and the bundle ids its team may push to. */
export interface ApnsSigningKey {
  keyId: string;
  teamId: string;
  /** PEM (SPKI) public key matching the .p8 the plugin signs with. */
  publicKey: string;
  topics: string[];
}

/** A provider certificate (certificate-based auth) and the topics it is valid for. */
export interface ApnsClientCertificate {
  certPem: string;
  topics: string[];
}

export interface ApnsFakeOptions {
  keys?: ApnsSigningKey[];
  certificates?: ApnsClientCertificate[];
  /** Port of the fake's own HTTP/2 TLS listener; 0 (default) picks a free one. */
  port?: number;
}

/** A test key pair in the shape Apple hands out (.p8 = PKCS#8 PEM of a P-256 key). */
export interface ApnsTestKey {
  keyId: string;
  teamId: string;
  privateKeyPem: string;
  publicKeyPem: string;
}

export function apnsTestKey(keyId: string, teamId: string): ApnsTestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    keyId,
    teamId,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export const SANDBOX_APNS_TOPIC = 'com.clarion.sandbox';

export interface ApnsFake extends Fake {
  /** TCP connections accepted so far (one pooled HTTP/2 session per credential is expected). */
  connections(): number;
  resetConnections(): void;
  addKey(key: ApnsSigningKey): void;
  addCertificate(certificate: ApnsClientCertificate): void;
  port(): number;
  /** The certificate a client must trust to reach the fake. */
  caPem(): string;
}

interface Answer {
  status: number;
  reason?: string;
  headers?: Record<string, string>;
}

const TOKEN_PATTERN = /^[0-9a-fA-F]{64,200}$/;
const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Apple rejects provider tokens older than one hour. */
const PROVIDER_TOKEN_MAX_AGE_S = 3600;

/**
 * Fake APNs: HTTP/2 over TLS on its own port, checking what Apple checks: the ES256 provider
 * token (signature against the registered key, team, age) or the client certificate, the topic
 * the credential may push to, the device token, push type, priority, expiration, collapse id and
 * payload size, answering with Apple's JSON reasons (410 with a timestamp for Unregistered).
 */
export function apnsFake(options: ApnsFakeOptions = {}): ApnsFake {
  const keys = new Map<string, ApnsSigningKey>();
  const certificates = new Map<string, ApnsClientCertificate>();
  const defaultKey = apnsTestKey('SANDBOXK01', 'SANDBOXT01');
  const addKey = (key: ApnsSigningKey) => keys.set(key.keyId, key);
  const addCertificate = (c: ApnsClientCertificate) =>
    certificates.set(new X509Certificate(c.certPem).fingerprint256, c);
  addKey({
    keyId: defaultKey.keyId,
    teamId: defaultKey.teamId,
    publicKey: defaultKey.publicKeyPem,
    topics: [SANDBOX_APNS_TOPIC],
  });
  for (const key of options.keys ?? []) addKey(key);
  for (const c of options.certificates ?? []) addCertificate(c);

  const tracker = new ConnectionTracker();
  let publicHost = '127.0.0.1';
  let server: http2.Http2SecureServer | undefined;
  let ca = '';

  /** Which topics the request's credential may push to, or the auth error Apple would give. */
  function authorize(headers: http2.IncomingHttpHeaders, socket: TLSSocket): { topics: string[] } | Answer {
    const authorization = headers.authorization;
    if (typeof authorization === 'string') {
      const match = /^bearer (.+)$/i.exec(authorization);
      const jwt = match ? decodeJwt(match[1]!) : undefined;
      if (!jwt) return { status: 403, reason: 'InvalidProviderToken' };
      const key = typeof jwt.header.kid === 'string' ? keys.get(jwt.header.kid) : undefined;
      if (!key) return { status: 403, reason: 'InvalidProviderToken' };
      if (jwt.claims.iss !== key.teamId) return { status: 403, reason: 'UnrelatedKeyIdInToken' };
      if (!verifyJwtSignature(jwt, 'ES256', key.publicKey))
        return { status: 403, reason: 'InvalidProviderToken' };
      const iat = jwt.claims.iat;
      const now = Date.now() / 1000;
      if (typeof iat !== 'number' || iat > now + 60) return { status: 403, reason: 'InvalidProviderToken' };
      if (now - iat > PROVIDER_TOKEN_MAX_AGE_S) return { status: 403, reason: 'ExpiredProviderToken' };
      return { topics: key.topics };
    }
    const peer = socket.getPeerCertificate();
    if (peer && 'fingerprint256' in peer && peer.fingerprint256) {
      const cert = certificates.get(peer.fingerprint256);
      if (!cert) return { status: 403, reason: 'BadCertificate' };
      return { topics: cert.topics };
    }
    return { status: 403, reason: 'MissingProviderToken' };
  }

  function validate(
    path: string,
    headers: http2.IncomingHttpHeaders,
    body: Buffer,
    topics: string[],
  ): Answer | undefined {
    const token = path.slice('/3/device/'.length);
    if (token === '') return { status: 400, reason: 'MissingDeviceToken' };
    if (!TOKEN_PATTERN.test(token) || token.length % 2 !== 0)
      return { status: 400, reason: 'BadDeviceToken' };
    const topic = headers['apns-topic'];
    if (typeof topic !== 'string' || topic === '') {
      // Certificate auth may omit the topic when the certificate has one; token auth may not.
      if (headers.authorization !== undefined || topics.length !== 1)
        return { status: 400, reason: 'MissingTopic' };
    } else if (!topics.includes(topic)) {
      return { status: 400, reason: 'TopicDisallowed' };
    }
    const pushType = headers['apns-push-type'];
    if (pushType !== undefined && (typeof pushType !== 'string' || !APNS_PUSH_TYPES.has(pushType))) {
      return { status: 400, reason: 'InvalidPushType' };
    }
    const priority = headers['apns-priority'];
    if (priority !== undefined && !['1', '5', '10'].includes(String(priority)))
      return { status: 400, reason: 'BadPriority' };
    // Apple: a background notification sent with priority 10 is an error.
    if (pushType === 'background' && String(priority ?? '10') === '10')
      return { status: 400, reason: 'BadPriority' };
    const expiration = headers['apns-expiration'];
    if (expiration !== undefined && !/^\d+$/.test(String(expiration)))
      return { status: 400, reason: 'BadExpirationDate' };
    const collapseId = headers['apns-collapse-id'];
    if (collapseId !== undefined && Buffer.byteLength(String(collapseId)) > 64)
      return { status: 400, reason: 'BadCollapseId' };
    const apnsId = headers['apns-id'];
    if (apnsId !== undefined && !UUID_PATTERN.test(String(apnsId)))
      return { status: 400, reason: 'BadMessageId' };
    if (body.length === 0) return { status: 400, reason: 'PayloadEmpty' };
    if (body.length > apnsPayloadLimit(typeof pushType === 'string' ? pushType : undefined)) {
      return { status: 413, reason: 'PayloadTooLarge' };
    }
    return undefined;
  }

  function answer(stream: http2.ServerHttp2Stream, result: Answer): void {
    if (stream.destroyed) return;
    const headers: http2.OutgoingHttpHeaders = { ':status': result.status, ...result.headers };
    if (result.reason === undefined) {
      stream.respond(headers, { endStream: true });
      return;
    }
    const body: Record<string, unknown> = { reason: result.reason };
    if (result.status === 410) body.timestamp = Date.now();
    stream.respond({ ...headers, 'content-type': 'application/json' });
    stream.end(JSON.stringify(body));
  }

  async function handle(
    ctx: FakeContext,
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    body: Buffer,
  ) {
    const path = String(headers[':path'] ?? '');
    const apnsId = typeof headers['apns-id'] === 'string' ? headers['apns-id'] : randomUUID();
    const idHeader = { 'apns-id': apnsId };
    if (!path.startsWith('/3/device/'))
      return answer(stream, { status: 404, reason: 'BadPath', headers: idHeader });
    if (headers[':method'] !== 'POST')
      return answer(stream, { status: 405, reason: 'MethodNotAllowed', headers: idHeader });
    const token = path.slice('/3/device/'.length);
    const auth = authorize(headers, stream.session?.socket as TLSSocket);
    const problem = 'status' in auth ? auth : validate(path, headers, body, auth.topics);

    let payload: Record<string, unknown> = {};
    if (!problem) {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as unknown;
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
          payload = parsed as Record<string, unknown>;
      } catch {
        // Apple documents no reason for a non-JSON body; it refuses it as an empty payload.
        return answer(stream, { status: 400, reason: 'PayloadEmpty', headers: idHeader });
      }
    }

    const rule = problem ? undefined : ctx.behaviors.take('apns', token);
    if (rule?.delayMs) await sleep(rule.delayMs);
    if (rule?.drop) {
      stream.session?.destroy();
      return;
    }
    const result: Answer = problem
      ? { ...problem, headers: idHeader }
      : rule?.fail
        ? {
            status: APNS_REASON_STATUS[rule.fail] ?? (Number(rule.fail) || 500),
            reason: APNS_REASON_STATUS[rule.fail] ? rule.fail : 'InternalServerError',
            headers: {
              ...idHeader,
              ...(rule.retryAfterSeconds !== undefined
                ? { 'retry-after': String(rule.retryAfterSeconds) }
                : {}),
            },
          }
        : { status: 200, headers: idHeader };

    const aps = (payload.aps ?? {}) as Record<string, unknown>;
    const alert =
      typeof aps.alert === 'object' && aps.alert !== null
        ? (aps.alert as Record<string, unknown>)
        : { body: aps.alert };
    const { aps: _aps, ...custom } = payload;
    ctx.recorder.add({
      provider: 'apns',
      channel: 'push',
      to: token,
      payload: {
        title: alert.title,
        subtitle: alert.subtitle,
        body: alert.body,
        badge: aps.badge,
        sound: aps.sound,
        category: aps.category,
        threadId: aps['thread-id'],
        mutableContent: aps['mutable-content'] === 1,
        contentAvailable: aps['content-available'] === 1,
        data: custom,
        raw: payload,
      },
      headers: Object.fromEntries(
        ['apns-topic', 'apns-push-type', 'apns-priority', 'apns-expiration', 'apns-collapse-id', 'apns-id']
          .filter((h) => headers[h] !== undefined)
          .map((h) => [h, String(headers[h])]),
      ),
      outcome: result.status === 200 ? 'accepted' : (result.reason ?? String(result.status)),
      providerMessageId: apnsId,
    });
    answer(stream, result);
  }

  return {
    name: 'apns',
    channel: 'push',
    connections: () => tracker.count,
    resetConnections: () => tracker.reset(),
    addKey,
    addCertificate,
    port: () => (server?.address() as AddressInfo | null)?.port ?? 0,
    caPem: () => ca,
    async start(ctx) {
      publicHost = ctx.publicHost;
      const tls = await sandboxTls(ctx.publicHost);
      ca = tls.cert;
      server = http2.createSecureServer({
        key: tls.key,
        cert: tls.cert,
        // Certificate auth: ask for a client certificate, judge it per request like Apple does.
        requestCert: true,
        rejectUnauthorized: false,
        allowHTTP1: false,
      });
      tracker.attach(server);
      server.on('stream', (stream, headers) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          handle(ctx, stream, headers, Buffer.concat(chunks)).catch(() => {
            if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
          });
        });
        stream.on('error', () => undefined);
      });
      server.on('sessionError', () => undefined);
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
      keyId: defaultKey.keyId,
      teamId: defaultKey.teamId,
      signingKey: defaultKey.privateKeyPem,
      topic: SANDBOX_APNS_TOPIC,
      production: false,
      address: publicHost,
      port: (server?.address() as AddressInfo | null)?.port ?? 0,
      caPem: ca,
    }),
  };
}

/** A throwaway client certificate and key (PEM) for certificate-based APNs auth; register it with `addCertificate`. */
export async function apnsTestCertificate(bundleId: string): Promise<{ certPem: string; keyPem: string }> {
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: `Apple Push Services: ${bundleId}` }], {
    keyType: 'ec',
    curve: 'P-256',
  });
  return { certPem: pems.cert, keyPem: pems.private };
}
