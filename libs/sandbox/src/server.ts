import type { AddressInfo } from 'node:net';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { type BehaviorRule, Behaviors } from './behaviors';
import type { Fake, FakeContext } from './fake';
import { renderInbox } from './inbox-page';
import { Recorder } from './recorder';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body exactly as received, for signature checks. */
    rawBody?: string;
  }
}

export interface SandboxOptions {
  fakes: Fake[];
  /** Port of the shared HTTP server; 0 picks a free one. */
  port?: number;
  /** Address every listener binds; default 127.0.0.1 (0.0.0.0 in a container). */
  host?: string;
  /** Name clients reach the sandbox by (compose: the service name); default 127.0.0.1. */
  publicHost?: string;
}

/**
 * A set of fake providers behind one control API:
 *   GET    /                         inbox page: what each channel received
 *   GET    /_sandbox/messages        recorded messages (?provider=&channel=&to=&outcome=)
 *   DELETE /_sandbox/messages        forget them
 *   GET    /_sandbox/behaviors       active rules;  POST adds one (BehaviorRule JSON);  DELETE clears
 *   GET    /_sandbox/config          each fake's plugin config (endpoints, test credentials)
 */
export class Sandbox {
  readonly recorder = new Recorder();
  readonly behaviors = new Behaviors();
  private readonly http: FastifyInstance;
  private base = '';

  private constructor(private readonly options: SandboxOptions) {
    this.http = Fastify({ logger: false, bodyLimit: 50 * 1024 * 1024, keepAliveTimeout: 65_000 });
  }

  static async start(options: SandboxOptions): Promise<Sandbox> {
    const sandbox = new Sandbox(options);
    await sandbox.listen();
    return sandbox;
  }

  private context(): FakeContext {
    return {
      recorder: this.recorder,
      behaviors: this.behaviors,
      http: this.http,
      baseUrl: () => this.base,
      host: this.options.host ?? '127.0.0.1',
      publicHost: this.options.publicHost ?? '127.0.0.1',
    };
  }

  private async listen(): Promise<void> {
    const http = this.http;
    http.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      const text = String(body);
      request.rawBody = text;
      if (text.length === 0) return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        const error = new Error('body is not valid JSON') as Error & { statusCode: number };
        error.statusCode = 400;
        done(error, undefined);
      }
    });
    await http.register(formbody);
    http.get('/', async (_req, reply) =>
      reply.type('text/html; charset=utf-8').send(renderInbox(this.recorder.list())),
    );
    http.get<{ Querystring: Record<string, string> }>('/_sandbox/messages', async (req) => ({
      messages: this.recorder.list(req.query),
    }));
    http.delete('/_sandbox/messages', async () => {
      this.recorder.clear();
      return { ok: true };
    });
    http.get('/_sandbox/behaviors', async () => ({ behaviors: this.behaviors.list() }));
    http.post<{ Body: BehaviorRule }>('/_sandbox/behaviors', async (req, reply) => {
      const rule = req.body;
      if (!rule || typeof rule.provider !== 'string' || typeof rule.to !== 'string') {
        return reply.code(400).send({ error: 'a rule needs provider and to' });
      }
      this.behaviors.add(rule);
      return reply.code(201).send({ ok: true });
    });
    http.delete('/_sandbox/behaviors', async () => {
      this.behaviors.clear();
      return { ok: true };
    });
    http.get('/_sandbox/config', async () => this.pluginConfigs());

    const ctx = this.context();
    for (const fake of this.options.fakes) await fake.register?.(ctx);
    const address = await http.listen({
      port: this.options.port ?? 0,
      host: this.options.host ?? '127.0.0.1',
    });
    const port = (http.server.address() as AddressInfo).port;
    this.base = this.options.publicHost
      ? `http://${this.options.publicHost}:${port}`
      : address.replace('[::1]', '127.0.0.1');
    for (const fake of this.options.fakes) await fake.start?.(ctx);
  }

  /** Base URL of the shared HTTP server (control API, inbox page, HTTP/1.1 fakes). */
  get url(): string {
    return this.base;
  }

  fake(name: string): Fake | undefined {
    return this.options.fakes.find((f) => f.name === name);
  }

  /** Plugin config per fake name, to point each Clarion plugin at its fake. */
  pluginConfigs(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const fake of this.options.fakes) if (fake.pluginConfig) out[fake.name] = fake.pluginConfig();
    return out;
  }

  async stop(): Promise<void> {
    for (const fake of this.options.fakes) await fake.stop?.();
    await this.http.close();
  }
}
