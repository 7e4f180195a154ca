import { createHash } from 'node:crypto';
import { PermanentError } from '@clarion/plugin-sdk';
import apn from '@parse/node-apn';
import type { ApnsConfig, ApnsCredential } from './config';

/**
 * One `apn.Provider` (one HTTP/2 session to Apple, multiplexing every concurrent send) per
 * distinct credential, created on first use and kept for the life of the worker. Creating one
 * per send would cost a TLS handshake each time, and Apple treats rapid reconnects as abuse.
 */
export class ProviderPool {
  private readonly providers = new Map<string, apn.Provider>();

  constructor(
    private readonly config: ApnsConfig,
    private readonly onCreate: () => void,
  ) {}

  get size(): number {
    return this.providers.size;
  }

  get(credential: ApnsCredential): apn.Provider {
    // The topic is a per-request header, not part of the connection: apps sharing a key share a session.
    const { topic: _topic, ...identity } = credential;
    const key = createHash('sha256').update(JSON.stringify(identity)).digest('hex');
    let provider = this.providers.get(key);
    if (!provider) {
      provider = new apn.Provider(this.options(credential));
      this.providers.set(key, provider);
      this.onCreate();
    }
    return provider;
  }

  private options(credential: ApnsCredential): apn.ProviderOptions {
    const c = this.config;
    const auth: apn.ProviderOptions = credential.signingKey
      ? {
          token: {
            key: credential.signingKey,
            keyId: credential.keyId ?? '',
            teamId: credential.teamId ?? '',
          },
        }
      : credential.pfx
        ? {
            pfx: Buffer.from(credential.pfx, 'base64'),
            ...(credential.passphrase ? { passphrase: credential.passphrase } : {}),
          }
        : {
            cert: credential.certificate ?? '',
            key: credential.privateKey ?? '',
            ...(credential.passphrase ? { passphrase: credential.passphrase } : {}),
          };
    if (credential.signingKey && (!credential.keyId || !credential.teamId)) {
      throw new PermanentError('APNs token auth needs keyId and teamId with the signing key', {
        configuration: true,
        code: 'incomplete_credential',
      });
    }
    return {
      ...auth,
      production: credential.production ?? false,
      ...(c.address !== undefined ? { address: c.address } : {}),
      ...(c.port !== undefined ? { port: c.port } : {}),
      ...(c.caPem !== undefined ? { ca: [c.caPem] } : {}),
      requestTimeout: c.requestTimeoutMs,
      // The library would retry 429/5xx immediately (it never sees Retry-After, see PROVIDERS.md A1);
      // Clarion's BullMQ backoff decides instead, so one send is one request.
      connectionRetryLimit: 0,
    };
  }

  async close(): Promise<void> {
    const all = [...this.providers.values()];
    this.providers.clear();
    await Promise.all(all.map((p) => new Promise<void>((resolve) => p.shutdown(() => resolve()))));
  }
}

/** The credential a send uses: the app's own when it has one, else the server-wide one. */
export function pickCredential(config: ApnsConfig, app: ApnsCredential | undefined): ApnsCredential {
  const hasOwn =
    app && (app.signingKey !== undefined || app.certificate !== undefined || app.pfx !== undefined);
  const base: ApnsCredential = hasOwn
    ? { ...app }
    : {
        keyId: config.keyId,
        teamId: config.teamId,
        signingKey: config.signingKey,
        certificate: config.certificate,
        privateKey: config.privateKey,
        pfx: config.pfx,
        passphrase: config.passphrase,
        production: config.production,
      };
  const topic = app?.topic ?? config.topic;
  const production = app?.production ?? config.production;
  const out: ApnsCredential = {};
  for (const [k, v] of Object.entries({ ...base, topic, production }))
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  if (!out.signingKey && !out.certificate && !out.pfx) {
    throw new PermanentError('no APNs credential: set a signing key (token auth) or a certificate', {
      configuration: true,
      code: 'missing_credential',
    });
  }
  if (!out.topic)
    throw new PermanentError('no APNs topic (bundle id) configured', {
      configuration: true,
      code: 'MissingTopic',
    });
  return out;
}
