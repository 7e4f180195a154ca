import { Injectable } from '@nestjs/common';
import { StepSettler } from '../escalation/step-settler';
import type { RelaySource } from './relay-source';

/**
 * The relay's source of due escalation steps: PostgreSQL holds each waiting step with its due
 * time, so the wait survives restarts and a Redis that lost everything; every pass settles the
 * steps now due (StepSettler), each once whichever process runs it.
 */
@Injectable()
export class DueSteps implements RelaySource {
  readonly name = 'due escalation steps';

  constructor(private readonly settler: StepSettler) {}

  run(): Promise<number> {
    return this.settler.settleDue();
  }
}
