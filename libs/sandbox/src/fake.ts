import type { FastifyInstance } from 'fastify';
import type { Behaviors } from './behaviors';
import type { Recorder } from './recorder';

/** What every fake gets from the sandbox. */
export interface FakeContext {
  recorder: Recorder;
  behaviors: Behaviors;
  /** The shared HTTP server (plain HTTP on 127.0.0.1): fakes that speak HTTP/1.1 mount routes here. */
  http: FastifyInstance;
  /** Base URL of the shared HTTP server, e.g. http://127.0.0.1:4010 (known after listen). */
  baseUrl: () => string;
  /** Address the fakes' own listeners bind (127.0.0.1 unless the sandbox runs in its own container). */
  host: string;
  /** Host name or address clients reach the sandbox by: in plugin configs, endpoints and the TLS certificate. */
  publicHost: string;
}

/**
 * A fake provider. Fakes that need their own listener (APNs over HTTP/2+TLS, SMTP) open it in
 * `start`; the others only register routes on `ctx.http`.
 */
export interface Fake {
  name: string;
  channel: string;
  /** Called before the shared server listens: register routes here. */
  register?(ctx: FakeContext): Promise<void> | void;
  /** Called after the shared server listens: open own listeners here. */
  start?(ctx: FakeContext): Promise<void>;
  stop?(): Promise<void>;
  /**
   * Config for the matching Clarion plugin that points it at this fake (endpoint, test
   * credentials), keyed like the plugin's config schema. Used by dev mode, tests and bench.
   */
  pluginConfig?(): Record<string, unknown>;
}
