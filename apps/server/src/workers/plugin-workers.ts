import { type PluginHealth, PluginRuntime, type RedisConnection } from '@clarion/plugin-sdk';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { IntegrationsService } from '../apps/integrations.service';
import { outboundPolicyOf } from '../common/outbound-urls';
import type { Env } from '../config/env';
import { assertLimitedPluginsLoaded } from '../config/plugin-rate-limits';
import { ENV, METRICS_REGISTRY } from '../config/tokens';
import { OutcomeRouter } from '../delivery/outcome-router';
import { StatusWriter } from '../delivery/status-writer';
import { PluginRegistry } from '../plugins/plugin-registry';
import { KeyLayout } from '../redis/key-layout';
import { WORKER_REDIS } from '../redis/redis.module';
import { circuitSettings, jobLockSettings, workerProcessor } from './worker-settings';

/** Worker role: one BullMQ worker per plugin this process runs (CLARION_WORKER_PLUGINS, default all). */
@Injectable()
export class PluginWorkers implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('workers');
  private runtimes: PluginRuntime[] = [];
  private readonly pluginLog;

  constructor(
    @Inject(ENV) private readonly env: Env,
    @Inject(WORKER_REDIS) private readonly connection: RedisConnection,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    private readonly plugins: PluginRegistry,
    private readonly router: OutcomeRouter,
    private readonly writer: StatusWriter,
    private readonly integrations: IntegrationsService,
  ) {
    // Plugins log through pino directly (JSON, same format as the HTTP logs), bound to plugin and delivery ids.
    this.pluginLog = pino({ level: env.LOG_LEVEL, base: { role: env.CLARION_ROLE } });
  }

  async onApplicationBootstrap(): Promise<void> {
    const wanted = this.env.CLARION_WORKER_PLUGINS;
    const unknown = wanted.filter((n) => !this.plugins.get(n));
    if (unknown.length > 0)
      throw new Error(`CLARION_WORKER_PLUGINS names plugins that are not loaded: ${unknown.join(', ')}`);
    assertLimitedPluginsLoaded(this.env.CLARION_PLUGIN_RATE_LIMITS, this.plugins.names());
    const run = this.plugins.loaded.filter((l) => wanted.length === 0 || wanted.includes(l.plugin.name));
    for (const l of run) {
      this.runtimes.push(
        await PluginRuntime.start({
          plugin: l.plugin,
          config: l.config,
          connection: this.connection,
          // Its queue's own prefix: on a Redis Cluster, a hash tag of its own.
          prefix: new KeyLayout(this.env).plugin(l.plugin.name),
          registry: this.registry,
          reporter: this.router,
          // PostgreSQL decides whether a delivery was sent; Redis's sent mark is its cache.
          records: this.writer,
          resolveAppConfig: this.integrations.resolve,
          log: this.pluginLog,
          ...jobLockSettings(this.env),
          processor: workerProcessor(this.env, l.plugin.name),
          fallbackAfterAttempts: this.env.CLARION_FALLBACK_AFTER_ATTEMPTS,
          maxThrottledRetries: this.env.CLARION_THROTTLE_MAX_RETRIES,
          circuit: circuitSettings(this.env),
          outbound: outboundPolicyOf(this.env),
        }),
      );
    }
    this.log.log(`running plugins: ${run.map((l) => l.plugin.name).join(', ') || '(none)'}`);
  }

  health(): Record<string, PluginHealth> {
    return Object.fromEntries(this.runtimes.map((r) => [r.plugin.name, r.getHealth()]));
  }

  /** Graceful: stop taking jobs, finish in-flight sends, then flush their statuses. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.runtimes.map((r) => r.close()));
    await this.router.drain();
    this.runtimes = [];
  }
}
