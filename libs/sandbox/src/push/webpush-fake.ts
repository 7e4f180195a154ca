import { createECDH, type ECDH, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { sleep } from '../behaviors';
import type { Fake, FakeContext } from '../fake';
import { decodeJwt, verifyJwtSignature } from './jws';
import { ConnectionTracker, sandboxTls } from './tls';
import {
  decryptAes128gcm,
  parseVapidAuthorization,
  vapidPublicKey,
  WebPushDecryptError,
} from './webpush-crypto';

/** What a browser's PushSubscription.toJSON() gives (minus expirationTime). */
export interface FakeWebPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface VapidKeyPair {
  publicKey: string;
  privateKey: string;
}

/** A VAPID key pair in the encoding web-push and browsers use (base64url raw P-256 keys). */
export function vapidTestKeys(): VapidKeyPair {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    publicKey: ecdh.getPublicKey().toString('base64url'),
    privateKey: ecdh.getPrivateKey().toString('base64url'),
  };
}

interface Subscriber {
  ecdh: ECDH;
  auth: Buffer;
  /** The applicationServerKey the page subscribed with; pushes must be signed by it. */
  applicationServerKey?: string;
  unsubscribed: boolean;
}

export interface WebPushFake extends Fake {
  /** Plays a browser's `pushManager.subscribe`: a new endpoint on the fake plus the keys to encrypt for. */
  subscribe(options?: { applicationServerKey?: string }): FakeWebPushSubscription & { id: string };
  /** The user revoked permission: the endpoint now answers 410 Gone. */
  unsubscribe(id: string): void;
  connections(): number;
  resetConnections(): void;
  origin(): string;
  caPem(): string;
}

export interface WebPushFakeOptions {
  port?: number;
  vapid?: VapidKeyPair;
}

const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);
/** RFC 8030: a push service must accept at least 4096 bytes; this one accepts exactly that. */
const MAX_BODY = 4096;
const MAX_VAPID_LIFETIME_S = 24 * 3600;

/**
 * Fake Web Push service (RFC 8030) on its own HTTPS listener, endpoints `/push/<id>`. Checks what
 * push services check: the VAPID JWT (ES256 against `k`, audience = this origin, expiry within
 * 24 h, a mailto:/https: subject, and `k` equal to the key the subscription was made with), the
 * TTL header, urgency and topic, aes128gcm and the 4096-byte limit. It decrypts each message per
 * RFC 8291, so the record holds what the user would see; unlike a real service, which forwards
 * ciphertext blindly, it refuses an undecryptable message with 400 so tests notice.
 */
export function webPushFake(options: WebPushFakeOptions = {}): WebPushFake {
  const subscribers = new Map<string, Subscriber>();
  const tracker = new ConnectionTracker();
  const vapid = options.vapid ?? vapidTestKeys();
  let server: https.Server | undefined;
  let ca = '';
  const origin = () => `https://127.0.0.1:${(server?.address() as AddressInfo | null)?.port ?? 0}`;

  function reply(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
    res.end(text);
  }

  /** The status a push service would give this request, before looking at behaviour rules. */
  function check(
    req: IncomingMessage,
    sub: Subscriber | undefined,
    body: Buffer,
  ): { status: number; why: string } | undefined {
    if (!sub) return { status: 404, why: 'no such subscription' };
    if (sub.unsubscribed) return { status: 410, why: 'subscription expired or unsubscribed' };
    const vapidAuth = parseVapidAuthorization(req.headers.authorization);
    if (!vapidAuth) return { status: 401, why: 'missing or malformed VAPID Authorization (vapid t=…, k=…)' };
    const key = vapidPublicKey(vapidAuth.k);
    const jwt = decodeJwt(vapidAuth.t);
    if (!key || !jwt || !verifyJwtSignature(jwt, 'ES256', key))
      return { status: 401, why: 'VAPID JWT signature does not verify' };
    const { aud, exp, sub: subject } = jwt.claims;
    const now = Date.now() / 1000;
    if (aud !== origin()) return { status: 401, why: `VAPID aud must be ${origin()}, got ${String(aud)}` };
    if (typeof exp !== 'number' || exp <= now || exp > now + MAX_VAPID_LIFETIME_S + 60)
      return { status: 401, why: 'VAPID JWT expired or valid for more than 24 h' };
    if (typeof subject !== 'string' || !/^(mailto:|https:)/.test(subject))
      return { status: 401, why: 'VAPID sub must be a mailto: or https: URI' };
    if (sub.applicationServerKey !== undefined && sub.applicationServerKey !== vapidAuth.k) {
      return { status: 403, why: 'VAPID key does not match the applicationServerKey of the subscription' };
    }
    const ttl = req.headers.ttl;
    if (typeof ttl !== 'string' || !/^\d+$/.test(ttl)) return { status: 400, why: 'TTL header is required' };
    const urgency = req.headers.urgency;
    if (urgency !== undefined && (typeof urgency !== 'string' || !URGENCIES.has(urgency)))
      return { status: 400, why: 'bad Urgency' };
    const topic = req.headers.topic;
    if (topic !== undefined && (typeof topic !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(topic)))
      return { status: 400, why: 'bad Topic' };
    if (body.length > MAX_BODY)
      return { status: 413, why: `payload of ${body.length} bytes exceeds ${MAX_BODY}` };
    if (body.length > 0 && req.headers['content-encoding'] !== 'aes128gcm')
      return { status: 415, why: 'Content-Encoding must be aes128gcm' };
    return undefined;
  }

  async function handle(
    ctx: FakeContext,
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    body: Buffer,
  ): Promise<void> {
    const sub = subscribers.get(id);
    const problem = check(req, sub, body);
    let shown: unknown = null;
    let decryptError: string | undefined;
    if (!problem && sub && body.length > 0) {
      try {
        const plain = decryptAes128gcm(body, sub.ecdh, sub.auth).toString('utf8');
        try {
          shown = JSON.parse(plain);
        } catch {
          shown = plain;
        }
      } catch (error) {
        if (!(error instanceof WebPushDecryptError)) throw error;
        decryptError = error.message;
      }
    }
    const rule = problem || decryptError ? undefined : ctx.behaviors.take('webpush', id);
    if (rule?.delayMs) await sleep(rule.delayMs);
    if (rule?.drop) {
      req.socket.destroy();
      return;
    }
    const status = problem?.status ?? (decryptError ? 400 : rule?.fail ? Number(rule.fail) || 500 : 201);
    const messageId = randomUUID();
    const headers = Object.fromEntries(
      ['ttl', 'urgency', 'topic', 'content-encoding']
        .filter((h) => req.headers[h] !== undefined)
        .map((h) => [h, String(req.headers[h])]),
    );
    ctx.recorder.add({
      provider: 'webpush',
      channel: 'web',
      to: id,
      payload: shown,
      headers,
      outcome:
        status === 201
          ? 'accepted'
          : problem
            ? `${status} ${problem.why}`
            : decryptError
              ? `400 ${decryptError}`
              : `http_${status}`,
      ...(status === 201 ? { providerMessageId: messageId } : {}),
    });
    if (status === 201) return reply(res, 201, '', { location: `${origin()}/message/${messageId}` });
    const extra: Record<string, string> = {};
    if (rule?.retryAfterSeconds !== undefined) extra['retry-after'] = String(rule.retryAfterSeconds);
    reply(res, status, problem?.why ?? decryptError ?? `sandbox told to answer ${status}`, extra);
  }

  const fake: WebPushFake = {
    name: 'webpush',
    channel: 'web',
    register(ctx) {
      // A browser's subscribe for callers in another process (compose, the image test).
      ctx.http.post<{ Body: { applicationServerKey?: string } | undefined }>(
        '/_sandbox/webpush/subscriptions',
        async (req, reply) => {
          const key = req.body?.applicationServerKey;
          reply.code(201).send(fake.subscribe(typeof key === 'string' ? { applicationServerKey: key } : {}));
        },
      );
    },
    subscribe(opts = {}) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const id = randomBytes(12).toString('base64url');
      subscribers.set(id, {
        ecdh,
        auth,
        unsubscribed: false,
        ...(opts.applicationServerKey ? { applicationServerKey: opts.applicationServerKey } : {}),
      });
      return {
        id,
        endpoint: `${origin()}/push/${id}`,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
      };
    },
    unsubscribe(id) {
      const sub = subscribers.get(id);
      if (sub) sub.unsubscribed = true;
    },
    connections: () => tracker.count,
    resetConnections: () => tracker.reset(),
    origin,
    caPem: () => ca,
    async start(ctx) {
      const tls = await sandboxTls();
      ca = tls.cert;
      server = https.createServer({ key: tls.key, cert: tls.cert, keepAliveTimeout: 65_000 }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const match = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
          if (req.method !== 'POST' || !match) return reply(res, 404, 'not found');
          handle(ctx, req, res, match[1]!, Buffer.concat(chunks)).catch(() => {
            if (!res.headersSent) reply(res, 500, 'internal error');
          });
        });
      });
      tracker.attach(server);
      await new Promise<void>((resolve) => server!.listen(options.port ?? 0, '127.0.0.1', resolve));
    },
    async stop() {
      if (!server) return;
      const s = server;
      server = undefined;
      tracker.destroyAll();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    pluginConfig: () => ({
      vapidPublicKey: vapid.publicKey,
      vapidPrivateKey: vapid.privateKey,
      vapidSubject: 'mailto:sandbox@clarion.example',
      caPem: ca,
    }),
  };
  return fake;
}
