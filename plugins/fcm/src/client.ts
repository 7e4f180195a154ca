import { exchange, PermanentError, RetryableError } from '@clarion/plugin-sdk';
import { Agent, errors, Pool } from 'undici';
import { AccessTokens } from './auth';
import { type FcmConfig, type ServiceAccount, serviceAccount } from './config';
import { classifyFcmError, type FcmFailureKind } from './errors';
import type { FcmMessage } from './message';
import { QuotaPacer } from './quota-pacer';

export interface FcmClientHooks {
  onConnect?: () => void;
  onTokenRefresh?: () => void;
}

interface Project {
  projectId: string;
  tokens: AccessTokens;
  pacer: QuotaPacer;
}

export class FcmSendError extends Error {
  constructor(
    readonly error: RetryableError | PermanentError | Error,
    readonly kind: FcmFailureKind,
  ) {
    super(error.message);
  }
}

/**
 * A thin FCM HTTP v1 client: one keep-alive HTTP/2 pool to FCM shared by every credential (the
 * connection carries no identity; the bearer token does), and one token source per service
 * account. See README "Why not firebase-admin" for the measurements behind this choice.
 */
export class FcmClient {
  private readonly pool: Pool;
  private readonly tokenDispatcher: Agent | undefined;
  /**
   * Projects by service account key file, then by project id override and quota. Looked up on
   * every send, so keyed by the strings themselves (a SHA-256 of the key file per send cost the worker
   * twice what building the message does).
   */
  private readonly projects = new Map<string, Map<string, Project>>();
  /** One pacer per Firebase project id: two keys of one project share its quota. */
  private readonly pacers = new Map<string, QuotaPacer>();
  private readonly base: URL;

  constructor(
    private readonly config: FcmConfig,
    private readonly hooks: FcmClientHooks = {},
  ) {
    this.base = new URL(config.baseUrl);
    const connect = config.caPem ? { ca: config.caPem } : {};
    this.pool = new Pool(this.base.origin, {
      allowH2: true,
      connections: config.connections,
      keepAliveTimeout: 60_000,
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      connect,
    });
    this.pool.on('connect', () => hooks.onConnect?.());
    this.tokenDispatcher = config.tokenUrl && config.caPem ? new Agent({ connect }) : undefined;
  }

  /**
   * The project (its token source and quota pacer) for a service account key file, created once.
   * `quotaPerMinute` overrides the plugin's setting for this project.
   */
  project(
    serviceAccountJson: string | undefined,
    projectIdOverride: string | undefined,
    quotaPerMinute?: number,
  ): Project {
    if (!serviceAccountJson) {
      throw new PermanentError('no FCM service account configured', {
        configuration: true,
        code: 'missing_credential',
      });
    }
    const key = `${projectIdOverride ?? ''}\0${quotaPerMinute ?? ''}`;
    let project = this.projects.get(serviceAccountJson)?.get(key);
    if (!project) {
      let account: ServiceAccount;
      try {
        account = serviceAccount.parse(JSON.parse(serviceAccountJson));
      } catch (error) {
        throw new PermanentError('the FCM service account JSON is not a service account key file', {
          configuration: true,
          code: 'invalid_credential',
          cause: error,
        });
      }
      const projectId = projectIdOverride ?? account.project_id;
      project = {
        projectId,
        pacer: this.pacer(projectId, quotaPerMinute ?? this.config.quotaPerMinute),
        tokens: new AccessTokens(account, {
          ...(this.config.tokenUrl ? { tokenUrl: this.config.tokenUrl } : {}),
          ...(this.tokenDispatcher ? { tokenDispatcher: this.tokenDispatcher } : {}),
          ...(this.hooks.onTokenRefresh ? { onRefresh: this.hooks.onTokenRefresh } : {}),
        }),
      };
      const ofAccount = this.projects.get(serviceAccountJson) ?? new Map<string, Project>();
      ofAccount.set(key, project);
      this.projects.set(serviceAccountJson, ofAccount);
    }
    return project;
  }

  private pacer(projectId: string, perMinute: number): QuotaPacer {
    let pacer = this.pacers.get(projectId);
    if (!pacer || pacer.perMinute !== perMinute) {
      pacer = new QuotaPacer(perMinute);
      this.pacers.set(projectId, pacer);
    }
    return pacer;
  }

  /**
   * Sends one message, paced under its project's quota; returns FCM's message name or throws
   * FcmSendError wrapping a classified error.
   */
  async send(project: Project, message: FcmMessage): Promise<string> {
    const token = await project.tokens.get();
    await project.pacer.acquire();
    let statusCode: number;
    let text: string;
    let retryAfter: string | undefined;
    try {
      const res = await exchange(this.pool, {
        method: 'POST',
        path: `${this.base.pathname.replace(/\/$/, '')}/v1/projects/${encodeURIComponent(project.projectId)}/messages:send`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ message }),
      });
      statusCode = res.statusCode;
      text = res.body.toString('utf8');
      const ra = res.headers['retry-after'];
      retryAfter = Array.isArray(ra) ? ra[0] : ra;
    } catch (error) {
      const timeout = error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError;
      throw new FcmSendError(
        new RetryableError(
          timeout
            ? `FCM timed out after ${this.config.timeoutMs} ms`
            : `FCM unreachable: ${(error as Error).message}`,
          {
            code: timeout ? 'timeout' : 'connection',
            cause: error,
          },
        ),
        'other',
      );
    }
    if (statusCode === 200) {
      try {
        return (JSON.parse(text) as { name: string }).name;
      } catch {
        return '';
      }
    }
    const { error, kind } = classifyFcmError(statusCode, text, retryAfter);
    if (kind === 'unauthenticated') project.tokens.invalidate();
    throw new FcmSendError(error, kind);
  }

  async close(): Promise<void> {
    await this.pool.close();
    await this.tokenDispatcher?.close();
  }
}
