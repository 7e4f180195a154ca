interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Gathers the calls of concurrent jobs into one call of `run`. No timer: the first call goes out
 * on the next turn of the event loop (a batch job starts its deliveries in one turn, and the
 * answers of one Redis pipeline arrive in one, so the calls they make share it), and while
 * `concurrency` runs are out the rest wait and go together. A busy worker thus pays one round trip
 * per batch of jobs, an idle one no added wait. `run` answers each item, in order; if it throws,
 * every call of that run fails with its error, and no other run's.
 */
export class TurnBatcher<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private running = 0;
  private scheduled = false;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 1000,
    private readonly concurrency = 2,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running >= this.concurrency || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running >= this.concurrency || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.maxBatch);
    this.running++;
    try {
      const out = await this.run(batch.map((w) => w.item));
      for (const [i, w] of batch.entries()) w.resolve(out[i] as O);
    } catch (error) {
      for (const w of batch) w.reject(error);
    } finally {
      this.running--;
      this.schedule();
    }
  }
}
