import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { backoffDelay, retryAfterDelay } from './backoff';
import { InvalidAddressError, PermanentError, RetryableError, type SendError, isSendError } from './errors';
import { type PluginLogger, silentLogger } from './logger';
import type { DeliveryJob } from './message';
import { pluginMetricsFactory, standardPluginMetrics, type StandardPluginMetrics } from './metrics';
import type { DeliveryOutcome, DeliveryReporter, FailureReason, OutcomeError } from './outcome';
import { type AnyChannelPlugin, DEFAULT_PROCESSOR, type ProcessorSettings, type Sender } from './plugin';
import { DEFAULT_QUEUE_PREFIX, pluginQueueName } from './queues';
import { SentLedger } from './sent-ledger';
import { AppConfigCache, type AppConfigResolver } from './app-config-cache';

export interface PluginRuntimeOptions {
  plugin: AnyChannelPlugin;
  /** Already validated against `plugin.config` (see pluginConfigFromEnv). */
  config: unknown;
  /** A connection for the worker; BullMQ requires `maxRetriesPerRequest: null` on it. */
  connection: Redis;
  prefix?: string;
  registry: Registry;
  reporter: DeliveryReporter;
  log?: PluginLogger;
  resolveAppConfig?: AppConfigResolver;
  /** Overrides of the plugin's own processor settings (a worker pool's concurrency, say). */
  processor?: ProcessorSettings;
  /** BullMQ lock duration: a job whose worker stops renewing it is recovered after this long. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /**
   * How many times a job may lose its worker (crash, kill, OOM) and still be run again; past that
   * BullMQ fails it without running it, and the runtime records the delivery `failed` (reason `stalled`).
   */
  maxStalledCount?: number;
}

export interface PluginHealth {
  healthy: boolean;
  reason?: string;
}

/** Turns a channel plugin into a BullMQ worker on its own queue, with standard metrics and status reporting. */
export class PluginRuntime {
  private health: PluginHealth = { healthy: true };
  private closed = false;

  private constructor(
    readonly plugin: AnyChannelPlugin,
    private readonly worker: Worker<DeliveryJob>,
    private readonly sender: Sender<unknown>,
    private readonly ledgerConnection: Redis,
  ) {}

  static async start(options: PluginRuntimeOptions): Promise<PluginRuntime> {
    const { plugin, registry } = options;
    const prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
    const log = (options.log ?? silentLogger).child({ plugin: plugin.name });
    const settings = { ...DEFAULT_PROCESSOR, ...plugin.processor, ...options.processor };
    const metrics = standardPluginMetrics(registry);
    const own = plugin.metrics?.(pluginMetricsFactory(registry, plugin.name));
    const sender = await plugin.createSender({ config: options.config, log, metrics: own });
    const ledgerConnection = options.connection.duplicate({ maxRetriesPerRequest: 3 });
    ledgerConnection.on('error', () => undefined); // failures surface on the ledger calls; no unhandled 'error' event
    const ledger = new SentLedger(ledgerConnection, prefix);
    const appConfigs = new AppConfigCache(plugin, options.resolveAppConfig);

    let runtime: PluginRuntime | undefined;
    const processJob = (job: Job<DeliveryJob>) =>
      runtime!.process(job, { ledger, appConfigs, metrics, reporter: options.reporter, log });

    const worker = new Worker<DeliveryJob>(pluginQueueName(plugin.name), processJob, {
      connection: options.connection,
      prefix,
      concurrency: settings.concurrency,
      ...(settings.limiter ? { limiter: { max: settings.limiter.max, duration: settings.limiter.durationMs } } : {}),
      ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
      ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
      ...(options.maxStalledCount !== undefined ? { maxStalledCount: options.maxStalledCount } : {}),
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error) =>
          err instanceof RetryableError && err.retryAfterMs !== undefined
            ? retryAfterDelay(err.retryAfterMs)
            : backoffDelay(attemptsMade, settings.backoff.baseMs, settings.backoff.maxMs),
      },
    });
    worker.on('error', (error) => log.error({ err: error }, 'worker error'));
    // A job failed by BullMQ itself (stalled too often) never reached our processor: record it, or the
    // delivery would stay `queued` forever.
    worker.on('failed', (job, error) => {
      if (!job || !/more than allowable limit/.test(error.message)) return;
      log.warn({ deliveryId: job.data.deliveryId, err: error.message }, 'delivery failed: its job stalled too often');
      metrics.attempts.inc({ plugin: plugin.name, channel: job.data.channel, result: 'stalled' });
      void Promise.resolve(
        options.reporter.report({
          type: 'failed',
          job: job.data,
          attempt: job.attemptsMade + 1,
          at: new Date(),
          reason: 'stalled',
          error: { kind: 'retryable', message: error.message },
        }),
      ).catch((err: unknown) => log.error({ err }, 'could not record a stalled delivery'));
    });
    runtime = new PluginRuntime(plugin, worker, sender, ledgerConnection);
    metrics.healthy.set({ plugin: plugin.name }, 1);
    runtime.metrics = metrics;
    await worker.waitUntilReady();
    log.info({ queue: pluginQueueName(plugin.name), concurrency: settings.concurrency }, 'plugin worker started');
    return runtime;
  }

  private metrics: StandardPluginMetrics | undefined;

  getHealth(): PluginHealth {
    return { ...this.health };
  }

  private setHealth(health: PluginHealth): void {
    this.health = health;
    this.metrics?.healthy.set({ plugin: this.plugin.name }, health.healthy ? 1 : 0);
  }

  private async process(
    job: Job<DeliveryJob>,
    deps: {
      ledger: SentLedger;
      appConfigs: AppConfigCache;
      metrics: StandardPluginMetrics;
      reporter: DeliveryReporter;
      log: PluginLogger;
    },
  ): Promise<string> {
    const delivery = job.data;
    const attempt = job.attemptsMade + 1;
    const labels = { plugin: this.plugin.name, channel: delivery.channel };
    const log = deps.log.child({ deliveryId: delivery.deliveryId, notificationId: delivery.notificationId, attempt });
    const report = (outcome: DeliveryOutcome) => deps.reporter.report(outcome);

    const already = await deps.ledger.lookup(delivery.deliveryId);
    if (already !== null) {
      // Sent before a crash or a lost ack: record it again (idempotent), never resend.
      await report({ type: 'sent', job: delivery, attempt, at: new Date(), ...(already ? { providerMessageId: already } : {}) });
      return 'sent';
    }
    if (delivery.expiresAt !== undefined && Date.parse(delivery.expiresAt) <= Date.now()) {
      deps.metrics.attempts.inc({ ...labels, result: 'expired' });
      await report({ type: 'expired', job: delivery, attempt, at: new Date() });
      return 'expired';
    }

    const started = process.hrtime.bigint();
    deps.metrics.inFlight.inc({ plugin: this.plugin.name });
    try {
      const appConfig = await deps.appConfigs.get(delivery.appId);
      const result = await this.sender.send(delivery, { appConfig, attempt, log });
      // The provider has it: a ledger write that fails (Redis away) must not turn this into a retry,
      // which would send it again. PostgreSQL records the `sent` below either way.
      await deps.ledger.record(delivery.deliveryId, result.providerMessageId).catch((error: unknown) => {
        log.warn({ err: (error as Error).message }, 'sent, but the sent ledger could not note it (Redis away)');
      });
      deps.metrics.attempts.inc({ ...labels, result: 'sent' });
      deps.metrics.endToEnd.observe(labels, Math.max(0, Date.now() - Date.parse(delivery.acceptedAt)) / 1000);
      if (!this.health.healthy) this.setHealth({ healthy: true });
      await report({
        type: 'sent',
        job: delivery,
        attempt,
        at: new Date(),
        ...(result.providerMessageId !== undefined ? { providerMessageId: result.providerMessageId } : {}),
        ...(result.details !== undefined ? { details: result.details } : {}),
      });
      return 'sent';
    } catch (thrown) {
      const error: SendError = isSendError(thrown)
        ? thrown
        : new RetryableError((thrown as Error)?.message ?? String(thrown), { cause: thrown });
      return await this.handleFailure(job, error, attempt, { ...deps, log, labels, report });
    } finally {
      deps.metrics.inFlight.dec({ plugin: this.plugin.name });
      deps.metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private async handleFailure(
    job: Job<DeliveryJob>,
    error: SendError,
    attempt: number,
    deps: {
      metrics: StandardPluginMetrics;
      log: PluginLogger;
      labels: { plugin: string; channel: string };
      report: (o: DeliveryOutcome) => Promise<void>;
    },
  ): Promise<string> {
    const delivery = job.data;
    const info = outcomeError(error);
    if (error instanceof RetryableError) {
      if (error.throttled) {
        // Provider throttles the account: pause the whole queue, the job keeps its attempt.
        deps.metrics.attempts.inc({ ...deps.labels, result: 'throttled' });
        deps.log.warn({ code: error.code, retryAfterMs: error.retryAfterMs }, 'provider throttled; pausing queue');
        await this.worker.rateLimit(retryAfterDelay(error.retryAfterMs ?? 1000));
        throw Worker.RateLimitError();
      }
      const maxAttempts = job.opts.attempts ?? 1;
      if (attempt < maxAttempts) {
        deps.metrics.attempts.inc({ ...deps.labels, result: 'retry' });
        deps.log.warn({ code: error.code, status: error.status, err: error.message }, 'send failed; will retry');
        await deps.report({ type: 'retrying', job: delivery, attempt, at: new Date(), error: info });
        throw error; // BullMQ schedules the retry through the backoff strategy
      }
      return this.fail(delivery, attempt, 'retries_exhausted', info, deps, error);
    }
    if (error instanceof PermanentError && error.configuration) {
      this.setHealth({ healthy: false, reason: `${error.code ?? 'configuration'}: ${error.message}` });
      return this.fail(delivery, attempt, 'configuration', info, deps, error);
    }
    return this.fail(delivery, attempt, error.kind === 'invalid_address' ? 'invalid_address' : 'permanent', info, deps, error);
  }

  private async fail(
    delivery: DeliveryJob,
    attempt: number,
    reason: FailureReason,
    info: OutcomeError,
    deps: { metrics: StandardPluginMetrics; log: PluginLogger; labels: { plugin: string; channel: string }; report: (o: DeliveryOutcome) => Promise<void> },
    error: SendError,
  ): Promise<never> {
    deps.metrics.attempts.inc({ ...deps.labels, result: reason === 'retries_exhausted' ? 'retry' : reason });
    deps.log.warn({ reason, code: error.code, status: error.status, err: error.message }, 'delivery failed');
    await deps.report({ type: 'failed', job: delivery, attempt, at: new Date(), reason, error: info });
    // Final: the job lands in BullMQ's failed set (the dead-letter view) without further retries.
    throw new UnrecoverableError(`${reason}: ${error.message}`);
  }

  /** Stops taking jobs, waits for the in-flight ones (graceful drain), then closes the sender. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.close();
    await this.sender.close();
    this.ledgerConnection.disconnect();
  }
}

function outcomeError(error: SendError): OutcomeError {
  const info: OutcomeError = { kind: error.kind, message: error.message.slice(0, 500) };
  if (error.code !== undefined) info.code = error.code;
  if (error.status !== undefined) info.status = error.status;
  if (error instanceof InvalidAddressError) {
    info.addressReason = error.reason;
    if (error.invalidSince) info.invalidSince = error.invalidSince.toISOString();
  }
  return info;
}

