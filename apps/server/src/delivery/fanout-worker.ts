import { Processor } from '@nestjs/bullmq';
import type { Type } from '@nestjs/common';
import type { Env } from '../config/env';
import { FANOUT_QUEUE } from './fanout.constants';
import { FanoutProcessor } from './fanout.processor';
import { jobLockSettings } from './worker-settings';

/**
 * The fan-out worker, with the delivery workers' job lock (CLARION_JOB_LOCK_MS and the stalled
 * check that goes with it): a killed worker's fan-out resumes from its cursor as soon as its
 * deliveries are recovered, not after BullMQ's 30 s default. @Processor's options are fixed
 * where the class is declared, so the class is declared here, once the environment is read.
 */
export function fanoutProcessorFor(env: Env): Type<FanoutProcessor> {
  const lock = jobLockSettings(env);
  @Processor(FANOUT_QUEUE, {
    concurrency: 2,
    lockDuration: lock.lockDurationMs,
    stalledInterval: lock.stalledIntervalMs,
    maxStalledCount: lock.maxStalledCount,
  })
  class ConfiguredFanoutProcessor extends FanoutProcessor {}
  return ConfiguredFanoutProcessor;
}
