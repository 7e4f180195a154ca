/**
 * An answer given before, to be sent again as it was (an `Idempotency-Key` repeated): thrown from a
 * guard so the handler never runs, and sent by the error filter with its status and body and the
 * `Idempotent-Replayed: true` header. Not an error of the request.
 */
export class ReplayedAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`replayed answer (${status})`);
    this.name = 'ReplayedAnswer';
  }
}
