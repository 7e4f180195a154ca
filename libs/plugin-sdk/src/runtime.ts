import { type Job, Queue, Worker } from 'bullmq';
import pLimit from 'p-limit';
import type { Registry } from 'prom-client';
import { AppConfigCache, type AppConfigResolver } from './app-config-cache';
import { backoffDelay, retryAfterDelay } from './backoff';
import { CIRCUIT_STATE_VALUE, type CircuitSettings } from './circuit-breaker';
import { CircuitBreakers } from './circuit-breakers';
import { BatchedRecordLookup, type DeliveryRecord, type DeliveryRecords } from './delivery-records';
import { batchRun, type DeliveryRun, isBatch, ownJobRun, type SplitOut } from './delivery-run';
import {
  isInvalidAddressError,
  isPermanentError,
  isRetryableError,
  isSendError,
  isThrottledAddressError,
  RetryableError,
  type SendError,
} from './errors';
import { lazyChild } from './lazy-child';
import { type PluginLogger, silentLogger } from './logger';
import type { DeliveryBatch, DeliveryJob } from './message';
import { pluginMetricsFactory, type StandardPluginMetrics, standardPluginMetrics } from './metrics';
import { type OutboundPolicy, STRICT_OUTBOUND } from './outbound/policy';
import type { DeliveryOutcome, DeliveryReporter, FailureReason, OutcomeError, RerouteCause } from './outcome';
import {
  type AnyChannelPlugin,
  DEFAULT_PROCESSOR,
  type ProcessorSettings,
  type Sender,
  type SendResult,
} from './plugin';
import {
  DEFAULT_QUEUE_PREFIX,
  DELIVERY_BATCH_SIZE,
  DELIVERY_JOB_NAME,
  pluginQueueName,
  splitJobOptions,
} from './queues';
import { duplicateConnection, type RedisConnection } from './redis-connection';
import { SendGate } from './send-gate';
import { SentLedger, sentLedgerTtlSeconds } from './sent-ledger';

/** Batch deliveries a worker holds per send slot: enough queued behind the sends to keep them busy. */
const BATCH_DELIVERIES_HELD = 4;

/** BullMQ's own defaults, for what the host leaves unset. */
const BULLMQ_LOCK_DURATION_MS = 30_000;
const BULLMQ_STALLED_INTERVAL_MS = 30_000;
const BULLMQ_MAX_STALLED_COUNT = 1;
/** How long a job waits, without spending an attempt, when the host's record cannot be read (database away). */
const RECORDS_AWAY_DELAY_MS = 2000;

export interface PluginRuntimeOptions {
  plugin: AnyChannelPlugin;
  /** Already validated against `plugin.config` (see pluginConfigFromEnv). */
  config: unknown;
  /**
   * A connection for the worker; BullMQ requires `maxRetriesPerRequest: null` on it (on a
   * Redis Cluster, in its nodes' options).
   */
  connection: RedisConnection;
  /** Key prefix of this plugin's queue, send gate and ledger (see queuePrefix: a tag per queue on a cluster). */
  prefix?: string;
  registry: Registry;
  reporter: DeliveryReporter;
  /**
   * The host's durable record of what was sent (see delivery-records.ts), read before every send
   * where Redis has no sent mark. Without it the Redis mark alone decides, and a Redis that lost
   * writes (failover, restore) makes the runtime send again what it already sent.
   */
  records?: DeliveryRecords;
  log?: PluginLogger;
  resolveAppConfig?: AppConfigResolver;
  /** Overrides of the plugin's own processor settings (a worker pool's concurrency, say). */
  processor?: ProcessorSettings;
  /** BullMQ lock duration: a job whose worker stops renewing it is recovered after this long. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** How long a started delivery counts as in flight for a cancel (default 2 × lock duration, at least 2 minutes). */
  inFlightTtlMs?: number;
  /**
   * A job that names fallback providers moves to the next one after this many attempts failed on
   * the provider's side (never more than the plugin's own `attempts`). Default 3.
   */
  fallbackAfterAttempts?: number;
  /**
   * Circuit breaker for this plugin in this process (see circuit-breaker.ts). Off unless given:
   * the host decides (the Clarion server turns it on with DEFAULT_CIRCUIT-like settings from env).
   */
  circuit?: CircuitSettings | false;
  /** Where plugins that connect to user- or tenant-chosen URLs may connect. Default: strict (public addresses only). */
  outbound?: OutboundPolicy;
  /**
   * How many times a job may lose its worker (crash, kill, OOM) and still be run again; past that
   * BullMQ fails it without running it, and the runtime records the delivery `failed` (reason `stalled`).
   */
  maxStalledCount?: number;
  /**
   * How many times a delivery may be throttled (the queue paused for it, or only it delayed for a
   * ThrottledAddressError; no attempt spent) before it fails with reason `throttled`, or moves to
   * its next provider: a provider answering 429 forever must not hold it forever. Default 50.
   */
  maxThrottledRetries?: number;
}

export const DEFAULT_FALLBACK_AFTER_ATTEMPTS = 3;
export const DEFAULT_MAX_THROTTLED_RETRIES = 50;

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
    private readonly worker: Worker<DeliveryJob | DeliveryBatch>,
    /** Where deliveries split out of a batch get their own jobs. */
    private readonly queue: Queue,
    private readonly settings: Required<Omit<ProcessorSettings, 'limiter'>> & ProcessorSettings,
    private readonly sender: Sender<unknown>,
    private readonly ledgerConnection: RedisConnection,
    private readonly circuits: CircuitBreakers | undefined,
    private readonly fallbackAfterAttempts: number,
    private readonly maxThrottledRetries: number,
  ) {
    this.batchSlots = pLimit(settings.concurrency);
    this.retryDelay = retryDelayOf(settings.backoff);
    this.batchJobsAtOnce = Math.min(
      settings.concurrency,
      Math.max(2, Math.ceil((BATCH_DELIVERIES_HELD * settings.concurrency) / DELIVERY_BATCH_SIZE)),
    );
  }

  /** Sends of batch deliveries in flight at once, across this worker's batch jobs. */
  private readonly batchSlots: pLimit.Limit;
  /**
   * Jobs this worker takes at once while it runs batch jobs. BullMQ's concurrency counts jobs, and
   * 200 batch jobs are 10,000 deliveries held in memory while only 200 are sent at a time (the
   * million run's worker peaked at 414 MB so): a few batches' worth keeps the sends busy.
   */
  private readonly batchJobsAtOnce: number;
  private activeBatches = 0;

  static async start(options: PluginRuntimeOptions): Promise<PluginRuntime> {
    const { plugin, registry } = options;
    const prefix = options.prefix ?? DEFAULT_QUEUE_PREFIX;
    const log = (options.log ?? silentLogger).child({ plugin: plugin.name });
    const settings = { ...DEFAULT_PROCESSOR, ...plugin.processor, ...options.processor };
    const metrics = standardPluginMetrics(registry);
    const own = plugin.metrics?.(pluginMetricsFactory(registry, plugin.name));
    const sender = await plugin.createSender({
      config: options.config,
      log,
      metrics: own,
      outbound: options.outbound ?? STRICT_OUTBOUND,
    });
    // Its own connection for the send gate and ledger, auto-pipelined: concurrent jobs' claims and records share writes.
    const ledgerConnection = duplicateConnection(options.connection, {
      maxRetriesPerRequest: 3,
      enableAutoPipelining: true,
    });
    ledgerConnection.on('error', () => undefined); // failures surface on the ledger calls; no unhandled 'error' event
    const ledger = new SentLedger(
      ledgerConnection,
      prefix,
      sentLedgerTtlSeconds({
        // Jobs carry the plugin's own attempts (deliveryJobOptions); a host override may differ.
        attempts: Math.max(settings.attempts, plugin.processor?.attempts ?? DEFAULT_PROCESSOR.attempts),
        maxBackoffMs: settings.backoff.maxMs,
        lockDurationMs: options.lockDurationMs ?? BULLMQ_LOCK_DURATION_MS,
        stalledIntervalMs: options.stalledIntervalMs ?? BULLMQ_STALLED_INTERVAL_MS,
        maxStalledCount: options.maxStalledCount ?? BULLMQ_MAX_STALLED_COUNT,
      }),
    );
    const gate = new SendGate(
      ledgerConnection,
      prefix,
      options.inFlightTtlMs ?? Math.max(120_000, 2 * (options.lockDurationMs ?? BULLMQ_LOCK_DURATION_MS)),
    );
    const appConfigs = new AppConfigCache(plugin, options.resolveAppConfig);
    const records = options.records ? new BatchedRecordLookup(options.records) : undefined;

    let runtime: PluginRuntime | undefined;
    const deps: RunDeps = { ledger, gate, records, appConfigs, metrics, reporter: options.reporter, log };
    const processJob = (job: Job<DeliveryJob | DeliveryBatch>, token?: string) =>
      isBatch(job.data)
        ? runtime!.processBatch(job as Job<DeliveryBatch>, deps)
        : runtime!.process(ownJobRun(job as Job<DeliveryJob>, token, runtime!.worker), deps);

    const worker = new Worker<DeliveryJob | DeliveryBatch>(pluginQueueName(plugin.name), processJob, {
      connection: options.connection,
      prefix,
      concurrency: settings.concurrency,
      // Seconds an idle worker long-polls for a job. A rate-limited (throttled) queue resumes only when
      // that poll ends, so BullMQ's default of 5 s added up to 5 s to every provider Retry-After.
      drainDelay: 1,
      ...(settings.limiter
        ? { limiter: { max: settings.limiter.max, duration: settings.limiter.durationMs } }
        : {}),
      ...(options.lockDurationMs ? { lockDuration: options.lockDurationMs } : {}),
      ...(options.stalledIntervalMs ? { stalledInterval: options.stalledIntervalMs } : {}),
      ...(options.maxStalledCount !== undefined ? { maxStalledCount: options.maxStalledCount } : {}),
      settings: {
        // A delivery split out of a batch counts the attempts it spent there.
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error, job?: { data?: unknown }) =>
          runtime!.retryDelay(
            attemptsMade + ((job?.data as Partial<DeliveryJob> | undefined)?.priorAttempts ?? 0),
            err,
          ),
      },
    });
    worker.on('error', (error) => log.error({ err: error }, 'worker error'));
    // A job failed by BullMQ itself (stalled too often) never reached our processor: record it, or the
    // delivery would stay `queued` forever.
    worker.on('failed', (job, error) => {
      if (!job || !/more than allowable limit/.test(error.message)) return;
      if (isBatch(job.data)) {
        // A batch whose worker died too often: each delivery gets a job, and a stall budget, of its own.
        void runtime!
          .splitOut(job.data.deliveries.map((d) => ({ delivery: d, delayMs: 0 })))
          .catch((err: unknown) => log.error({ err }, 'could not hand on the deliveries of a stalled batch'));
        return;
      }
      log.warn(
        { deliveryId: job.data.deliveryId, err: error.message },
        'delivery failed: its job stalled too often',
      );
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
    const circuit =
      options.circuit === false || options.circuit === undefined
        ? undefined
        : new CircuitBreakers(options.circuit, (state, destination) => {
            if (destination !== undefined) {
              // One receiver's trouble: its own deliveries wait, the plugin stays healthy.
              log.warn({ circuit: state, destination }, `circuit ${state} for ${destination}`);
              return;
            }
            metrics.circuit.set({ plugin: plugin.name }, CIRCUIT_STATE_VALUE[state]);
            log.warn({ circuit: state }, `circuit ${state}`);
          });
    runtime = new PluginRuntime(
      plugin,
      worker,
      new Queue(pluginQueueName(plugin.name), { connection: options.connection, prefix }),
      settings,
      sender,
      ledgerConnection,
      circuit,
      options.fallbackAfterAttempts ?? DEFAULT_FALLBACK_AFTER_ATTEMPTS,
      options.maxThrottledRetries ?? DEFAULT_MAX_THROTTLED_RETRIES,
    );
    metrics.healthy.set({ plugin: plugin.name }, 1);
    metrics.circuit.set({ plugin: plugin.name }, 0);
    runtime.metrics = metrics;
    await worker.waitUntilReady();
    log.info(
      { queue: pluginQueueName(plugin.name), concurrency: settings.concurrency },
      'plugin worker started',
    );
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

  /** The circuit breaker's state in this process (`closed` when it is turned off). */
  circuitState(): string {
    return this.circuits?.current() ?? 'closed';
  }

  /**
   * A batch job: its deliveries sent concurrently (at most the plugin's concurrency at a time
   * across this worker's batches), each through the same steps as a delivery with a job of its
   * own; those that must wait or retry are then added as jobs of their own. A batch run again (its
   * worker died, or handing those on failed) skips the deliveries that have their own job by now.
   */
  private async processBatch(job: Job<DeliveryBatch>, deps: RunDeps): Promise<string> {
    // Fewer jobs at once while batches run (see batchJobsAtOnce); all of them again once none does.
    if (this.activeBatches++ === 0) this.worker.concurrency = this.batchJobsAtOnce;
    try {
      return await this.sendBatch(job, deps);
    } finally {
      if (--this.activeBatches === 0 && !this.closed) this.worker.concurrency = this.settings.concurrency;
    }
  }

  private async sendBatch(job: Job<DeliveryBatch>, deps: RunDeps): Promise<string> {
    let deliveries = job.data.deliveries;
    if (job.attemptsStarted > 1) deliveries = await this.notSplitYet(deliveries);
    const splits: SplitOut[] = [];
    const maxAttempts = job.opts.attempts ?? this.settings.attempts;
    const ends = await Promise.all(
      deliveries.map(
        (d) =>
          new Promise<string>((ended, failed) => {
            // The slot is held from the gate's claim to the provider's answer (sendEnded), not while
            // the outcome is written: those writes wait on PostgreSQL and Redis, and the provider
            // would sit idle.
            void this.batchSlots(
              () =>
                new Promise<void>((freeSlot) => {
                  const run = batchRun(d, maxAttempts, this.worker, splits, freeSlot);
                  // Shutting down: what has not started goes back to the queue as jobs of its own (no
                  // attempt spent), so a graceful stop waits for the sends in flight, not for whole batches.
                  const end = this.closed
                    ? run.later(0)
                    : // Whatever would have failed a job of its own (the host's write away) retries it alone.
                      this.process(run, deps).catch((error: unknown) =>
                        run.retry(error instanceof Error ? error : new Error(String(error)), this.retryDelay),
                      );
                  end.finally(freeSlot).then(ended, failed);
                }),
            );
          }),
      ),
    );
    await this.splitOut(splits);
    const counts = new Map<string, number>();
    for (const e of ends) counts.set(e, (counts.get(e) ?? 0) + 1);
    return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
  }

  /** The wait before a retry: the provider's Retry-After when it gave one, else the plugin's backoff. */
  private readonly retryDelay: (attemptsMade: number, err?: Error) => number;

  /** Adds deliveries split out of a batch as jobs of their own (one already there is left as it is). */
  private async splitOut(splits: SplitOut[]): Promise<void> {
    if (splits.length === 0) return;
    await this.queue.addBulk(
      splits.map(({ delivery: { batch: _carriedBy, ...own }, delayMs }) => ({
        name: DELIVERY_JOB_NAME,
        data: own,
        opts: splitJobOptions(own, this.settings, delayMs),
      })),
    );
  }

  /** Those of a batch's deliveries that have no job of their own (split out by an earlier run). */
  private async notSplitYet(deliveries: DeliveryJob[]): Promise<DeliveryJob[]> {
    const found = await Promise.all(deliveries.map((d) => this.queue.getJobState(d.deliveryId)));
    return deliveries.filter((_, i) => found[i] === 'unknown');
  }

  private async process(run: DeliveryRun, deps: RunDeps): Promise<string> {
    const { delivery, attempt } = run;
    const labels = { plugin: this.plugin.name, channel: delivery.channel };
    const log = lazyChild(deps.log, {
      deliveryId: delivery.deliveryId,
      notificationId: delivery.notificationId,
      attempt,
    });
    const report = (outcome: DeliveryOutcome) => deps.reporter.report(outcome);

    const gate = await deps.gate.claim(delivery.deliveryId, delivery.notificationId, this.plugin.name);
    if (gate.kind === 'released' && (delivery.fallback ?? []).length > 0) {
      // This plugin already handed the delivery on, but the job ran again (its worker died, or the
      // host's write failed): hand it on again, never send. The host ignores a repeat it already applied.
      log.info(
        { cause: gate.cause },
        'delivery was already handed to a fallback provider; handing it on again',
      );
      return this.reroute(
        delivery,
        attempt,
        gate.cause === 'circuit_open' ? 'circuit_open' : 'provider_failed',
        undefined,
        { ...deps, log, report },
      );
    }
    if (gate.kind === 'sent') {
      // Sent before a crash or a lost ack: never resend. Reported again because the process may have
      // died after the Redis mark and before the database write; the host ignores a repeat.
      await report({
        type: 'sent',
        job: delivery,
        attempt,
        at: new Date(),
        ...(gate.providerMessageId ? { providerMessageId: gate.providerMessageId } : {}),
      });
      return 'sent';
    }
    if (gate.kind === 'canceled') {
      deps.metrics.attempts.inc({ ...labels, result: 'canceled' });
      await report({ type: 'canceled', job: delivery, attempt, at: new Date() });
      return 'canceled';
    }
    if (deps.records) {
      // Redis has no sent mark, but Redis may have lost it: the host's durable record decides. Every
      // first send comes here, so the read is batched (BatchedRecordLookup): one query per batch of
      // concurrent jobs, not one per job.
      let record: DeliveryRecord | undefined;
      try {
        record = await deps.records.get(delivery.deliveryId);
      } catch (error) {
        log.warn(
          { err: (error as Error).message },
          'cannot read whether it was sent (database away); trying again shortly',
        );
        return run.later(RECORDS_AWAY_DELAY_MS);
      }
      const settled = record ? this.settledElsewhere(record) : undefined;
      if (settled) {
        if (settled === 'sent') {
          // Put the mark back into Redis so the next run of this job stops at the gate; best effort.
          await deps.ledger.record(delivery.deliveryId, record?.providerMessageId).catch(() => undefined);
        }
        log.info({ recorded: settled }, 'the database already has this delivery settled; not sending it');
        return settled;
      }
    }
    if (delivery.expiresAt !== undefined && Date.parse(delivery.expiresAt) <= Date.now()) {
      deps.metrics.attempts.inc({ ...labels, result: 'expired' });
      await report({ type: 'expired', job: delivery, attempt, at: new Date() });
      return 'expired';
    }

    // A destination-keyed plugin needs the app's settings to know where the delivery goes.
    let loaded: { appConfig: unknown } | undefined;
    let destination: string | undefined;
    if (this.plugin.circuitKey && this.circuits) {
      try {
        loaded = { appConfig: await deps.appConfigs.get(delivery.appId) };
        destination = this.plugin.circuitKey(delivery, loaded.appConfig);
      } catch {
        // Loaded again below, where a failure is handled like any other send failure.
      }
    }
    const circuit = this.circuits?.get(destination);
    const decision = circuit?.decide() ?? { allow: true as const, probe: false };
    if (!decision.allow) {
      if (delivery.fallback && delivery.fallback.length > 0) {
        return this.reroute(delivery, attempt, 'circuit_open', undefined, { ...deps, log, report });
      }
      // Nowhere else to go: wait out the cooldown without spending an attempt.
      deps.metrics.attempts.inc({ ...labels, result: 'circuit_open' });
      return run.later(decision.retryInMs);
    }

    const started = process.hrtime.bigint();
    deps.metrics.inFlight.inc({ plugin: this.plugin.name });
    let result: SendResult;
    let recorded: Promise<void>;
    try {
      const appConfig = loaded ? loaded.appConfig : await deps.appConfigs.get(delivery.appId);
      result = await this.sender.send(delivery, { appConfig, attempt, log });
      // The provider has it: record that before anything else, both writes at once. Until one of
      // them lands, a crash sends it again (the at-least-once window: the Redis write's round trip).
      recorded = this.recordSent(delivery, attempt, result, { ...deps, log, report });
    } catch (thrown) {
      const error: SendError = isSendError(thrown)
        ? thrown
        : new RetryableError((thrown as Error)?.message ?? String(thrown), { cause: thrown });
      if (providerSide(error)) circuit?.failure();
      else circuit?.neutral();
      return await this.handleFailure(run, error, { ...deps, log, labels, report });
    } finally {
      run.sendEnded?.();
      deps.metrics.inFlight.dec({ plugin: this.plugin.name });
      deps.metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    }
    circuit?.success();
    deps.metrics.attempts.inc({ ...labels, result: 'sent' });
    deps.metrics.endToEnd.observe(labels, Math.max(0, Date.now() - Date.parse(delivery.acceptedAt)) / 1000);
    if (!this.health.healthy) this.setHealth({ healthy: true });
    await recorded;
    return 'sent';
  }

  /**
   * Whether the host's record says this job must not send: `sent` (a provider took it), `rerouted`
   * (another plugin owns it now) or another ending; undefined while it may still be sent.
   */
  private settledElsewhere(record: DeliveryRecord): string | undefined {
    if (record.sent) return 'sent';
    if (!record.open) return 'settled';
    if (record.plugin !== undefined && record.plugin !== this.plugin.name) return 'rerouted';
    return undefined;
  }

  /**
   * Writes the Redis mark and the host's `sent` record together. A failed Redis write must not make
   * this a retry (which would send again); the database write is the one that counts. If that
   * fails, the job runs again and its gate finds the Redis mark (or, Redis lost too, the
   * database's record decides once it is back) and records it then.
   */
  private async recordSent(
    delivery: DeliveryJob,
    attempt: number,
    result: SendResult,
    deps: {
      ledger: SentLedger;
      log: PluginLogger;
      report: (o: DeliveryOutcome) => Promise<void>;
    },
  ): Promise<void> {
    const mark = deps.ledger.record(delivery.deliveryId, result.providerMessageId).catch((error: unknown) => {
      deps.log.warn(
        { err: (error as Error).message },
        'sent, but the sent ledger could not note it (Redis away)',
      );
    });
    const durable = deps
      .report({
        type: 'sent',
        job: delivery,
        attempt,
        at: new Date(),
        ...(result.providerMessageId !== undefined ? { providerMessageId: result.providerMessageId } : {}),
        ...(result.details !== undefined ? { details: result.details } : {}),
      })
      .catch((error: unknown) => {
        // Not a failed send (the provider, its circuit and the fallback chain are not involved).
        deps.log.warn(
          { err: (error as Error).message },
          'sent, but its status could not be recorded (database away); the job runs again to record it',
        );
        throw error;
      });
    await Promise.all([mark, durable]);
  }

  private async handleFailure(
    run: DeliveryRun,
    error: SendError,
    deps: {
      ledger: SentLedger;
      metrics: StandardPluginMetrics;
      log: PluginLogger;
      labels: { plugin: string; channel: string };
      report: (o: DeliveryOutcome) => Promise<void>;
    },
  ): Promise<string> {
    const { delivery, attempt } = run;
    const info = outcomeError(error);
    if (isThrottledAddressError(error)) return this.delayThrottledAddress(run, error, info, deps);
    if (isRetryableError(error)) {
      if (error.throttled) {
        // Provider throttles the account: pause the whole queue, the job keeps its attempt.
        deps.metrics.attempts.inc({ ...deps.labels, result: 'throttled' });
        const throttledRuns = (delivery.throttledRuns ?? 0) + 1;
        if (throttledRuns > this.maxThrottledRetries) {
          if ((delivery.fallback ?? []).length > 0)
            return this.reroute(delivery, attempt, 'provider_failed', info, deps);
          return this.fail(run, 'throttled', info, deps, error);
        }
        deps.log.warn(
          { code: error.code, retryAfterMs: error.retryAfterMs, throttledRuns },
          'provider throttled; pausing queue',
        );
        return run.pause(retryAfterDelay(error.retryAfterMs ?? 1000), { ...delivery, throttledRuns });
      }
      const maxAttempts = run.maxAttempts;
      const chain = delivery.fallback ?? [];
      // With somewhere else to go, a shorter budget here: the next provider is likelier to work than a 6th try.
      const budget = chain.length > 0 ? Math.min(maxAttempts, this.fallbackAfterAttempts) : maxAttempts;
      if (attempt < budget) {
        // A 429 for one address (Retry-After, no queue pause) is throttling too, for the metric and its alert.
        deps.metrics.attempts.inc({ ...deps.labels, result: error.status === 429 ? 'throttled' : 'retry' });
        deps.log.warn(
          { code: error.code, status: error.status, err: error.message },
          'send failed; will retry',
        );
        await deps.report({ type: 'retrying', job: delivery, attempt, at: new Date(), error: info });
        return run.retry(error, this.retryDelay);
      }
      if (chain.length > 0) return this.reroute(delivery, attempt, 'provider_failed', info, deps);
      return this.fail(run, 'retries_exhausted', info, deps, error);
    }
    if (isPermanentError(error) && error.configuration) {
      this.setHealth({ healthy: false, reason: `${error.code ?? 'configuration'}: ${error.message}` });
      // Our account at this provider is refused: another provider can still deliver the message.
      if ((delivery.fallback ?? []).length > 0)
        return this.reroute(delivery, attempt, 'provider_failed', info, deps);
      return this.fail(run, 'configuration', info, deps, error);
    }
    return this.fail(
      run,
      error.kind === 'invalid_address' ? 'invalid_address' : 'permanent',
      info,
      deps,
      error,
    );
  }

  /**
   * The provider limits this delivery's address: only this job waits (delayed, no attempt spent),
   * the queue goes on. BullMQ counts every run in `attemptsStarted` and only failed ones in
   * `attemptsMade`, so their difference is the runs that spent no attempt: the throttled ones
   * (and any waits for a circuit or the host's database, which also spent none).
   */
  private async delayThrottledAddress(
    run: DeliveryRun,
    error: RetryableError,
    info: OutcomeError,
    deps: {
      ledger: SentLedger;
      metrics: StandardPluginMetrics;
      log: PluginLogger;
      labels: { plugin: string; channel: string };
      report: (o: DeliveryOutcome) => Promise<void>;
    },
  ): Promise<string> {
    const { delivery, attempt, throttledRuns } = run;
    deps.metrics.attempts.inc({ ...deps.labels, result: 'throttled' });
    if (throttledRuns > this.maxThrottledRetries) {
      if ((delivery.fallback ?? []).length > 0)
        return this.reroute(delivery, attempt, 'provider_failed', info, deps);
      return this.fail(run, 'throttled', info, deps, error);
    }
    const delayMs = retryAfterDelay(error.retryAfterMs ?? 1000);
    deps.log.warn(
      { code: error.code, status: error.status, retryAfterMs: error.retryAfterMs, throttledRuns },
      'provider throttled this address; delaying this delivery only',
    );
    await deps.report({ type: 'retrying', job: delivery, attempt, at: new Date(), error: info });
    return run.later(delayMs);
  }

  private async fail(
    run: DeliveryRun,
    reason: FailureReason,
    info: OutcomeError,
    deps: {
      metrics: StandardPluginMetrics;
      log: PluginLogger;
      labels: { plugin: string; channel: string };
      report: (o: DeliveryOutcome) => Promise<void>;
    },
    error: SendError,
  ): Promise<string> {
    const { delivery, attempt } = run;
    // A throttled delivery's last answer is already counted (as `throttled`).
    if (reason !== 'throttled')
      deps.metrics.attempts.inc({
        ...deps.labels,
        result: reason === 'retries_exhausted' ? 'retry' : reason,
      });
    deps.log.warn({ reason, code: error.code, status: error.status, err: error.message }, 'delivery failed');
    await deps.report({ type: 'failed', job: delivery, attempt, at: new Date(), reason, error: info });
    // Final: a job of its own lands in BullMQ's failed set (the dead-letter view) without further retries.
    return run.failed(`${reason}: ${error.message}`);
  }

  /**
   * Hands the delivery to the next provider of its chain. The job completes here once the host
   * has the outcome durably; the host enqueues `next` on the next plugin's queue (same job id:
   * each queue has its own ids). The sent ledger is keyed by delivery id alone, so whichever
   * provider sends first, no other one sends again.
   */
  private async reroute(
    delivery: DeliveryJob,
    attempt: number,
    cause: RerouteCause,
    info: OutcomeError | undefined,
    deps: {
      ledger: SentLedger;
      metrics: StandardPluginMetrics;
      log: PluginLogger;
      report: (o: DeliveryOutcome) => Promise<void>;
    },
  ): Promise<string> {
    const [to, ...rest] = delivery.fallback ?? [];
    if (to === undefined) throw new Error('reroute without a fallback provider');
    await deps.ledger.release(delivery.deliveryId, this.plugin.name, cause);
    // The next provider has its own throttling and attempt budgets, and a job of its own (no batch).
    const { throttledRuns: _ours, priorAttempts: _spent, batch: _carriedBy, ...handed } = delivery;
    const next: DeliveryJob = { ...handed, plugin: to, fallback: rest };
    deps.metrics.reroutes.inc({ plugin: this.plugin.name, to, cause });
    deps.metrics.attempts.inc({ plugin: this.plugin.name, channel: delivery.channel, result: 'rerouted' });
    deps.log.warn({ to, cause, err: info?.message }, 'handing the delivery to the next provider');
    await deps.report({
      type: 'rerouted',
      job: delivery,
      attempt,
      at: new Date(),
      cause,
      next,
      ...(info ? { error: info } : {}),
    });
    return 'rerouted';
  }

  /** Stops taking jobs, waits for the in-flight ones (graceful drain), then closes the sender. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.close();
    await this.queue.close();
    await this.sender.close();
    this.ledgerConnection.disconnect();
  }
}

/** What every delivery's steps need, made once per runtime. */
interface RunDeps {
  ledger: SentLedger;
  gate: SendGate;
  records: BatchedRecordLookup | undefined;
  appConfigs: AppConfigCache;
  metrics: StandardPluginMetrics;
  reporter: DeliveryReporter;
  log: PluginLogger;
}

/** The wait before attempt `attemptsMade + 1`: the provider's Retry-After when it gave one, else the backoff. */
function retryDelayOf(backoff: {
  baseMs: number;
  maxMs: number;
}): (attemptsMade: number, err?: Error) => number {
  return (attemptsMade, err) =>
    isRetryableError(err) && err.retryAfterMs !== undefined
      ? retryAfterDelay(err.retryAfterMs)
      : backoffDelay(attemptsMade, backoff.baseMs, backoff.maxMs);
}

/** Failures that say the provider (or our account there) is in trouble, as opposed to the message or address. */
function providerSide(error: SendError): boolean {
  if (isRetryableError(error)) return !error.throttled;
  return isPermanentError(error) && error.configuration;
}

function outcomeError(error: SendError): OutcomeError {
  const info: OutcomeError = { kind: error.kind, message: error.message.slice(0, 500) };
  if (error.code !== undefined) info.code = error.code;
  if (error.status !== undefined) info.status = error.status;
  if (isInvalidAddressError(error)) {
    info.addressReason = error.reason;
    if (error.invalidSince) info.invalidSince = error.invalidSince.toISOString();
  }
  return info;
}
