import type { RedisConnection } from '@clarion/plugin-sdk';
import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Env } from '../config/env';
import { ENV } from '../config/tokens';
import { WORKER_REDIS } from '../redis/redis.module';
import { QueueWorkerHost } from '../workers/queue-worker-host';
import { jobLockSettings } from '../workers/worker-settings';
import { FANOUT_QUEUE } from './fanout.constants';
import { FanoutProcessor } from './fanout.processor';
import type { FanoutJobData } from './fanout-job';

/**
 * Worker role: expands fan-outs, two at a time, with the delivery workers' job lock
 * (CLARION_JOB_LOCK_MS and the stalled check that goes with it): a killed worker's fan-out
 * resumes from its cursor as soon as its deliveries are recovered, not after BullMQ's 30 s default.
 */
@Injectable()
export class FanoutWorker extends QueueWorkerHost<FanoutJobData, number> {
  constructor(
    @Inject(ENV) env: Env,
    @Inject(WORKER_REDIS) connection: RedisConnection,
    private readonly processor: FanoutProcessor,
  ) {
    super(
      { queue: FANOUT_QUEUE, name: 'fanout', concurrency: 2, lock: jobLockSettings(env) },
      connection,
      env,
    );
  }

  protected process(job: Job<FanoutJobData>, token?: string): Promise<number> {
    return this.processor.process(job, token);
  }
}
