/**
 * Collects items from concurrent callers and processes them together: one database round trip
 * (or one Redis pipeline) for many requests. Each caller gets its own result or error.
 * Flushes when `maxItems` are waiting or `maxWaitMs` after the first item, whichever first;
 * at most `concurrency` flushes run at once, so load raises batch size rather than round trips.
 */
export class Batcher<I, O> {
  private queue: { item: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = 0;

  constructor(
    private readonly flushFn: (items: I[]) => Promise<O[]>,
    private readonly options: { maxItems: number; maxWaitMs: number; concurrency?: number },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.options.maxItems) this.flushSoon(0);
      else this.flushSoon(this.options.maxWaitMs);
    });
  }

  private flushSoon(delay: number): void {
    if (delay === 0) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, delay);
    }
  }

  private async flush(): Promise<void> {
    if (this.queue.length === 0) return;
    if (this.running >= (this.options.concurrency ?? 2)) {
      // A flush is busy: the next one starts when it ends, with whatever gathered meanwhile.
      return;
    }
    const batch = this.queue.splice(0, this.options.maxItems);
    this.running++;
    try {
      const results = await this.flushFn(batch.map((b) => b.item));
      for (const [i, b] of batch.entries()) b.resolve(results[i] as O);
    } catch (error) {
      for (const b of batch) b.reject(error);
    } finally {
      this.running--;
      if (this.queue.length > 0) this.flushSoon(this.queue.length >= this.options.maxItems ? 0 : 1);
    }
  }

  /** Resolves when everything submitted so far has been processed (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running > 0) {
      if (this.queue.length > 0 && this.running === 0) await this.flush();
      else await new Promise((r) => setTimeout(r, 5));
    }
  }
}
