interface Entry<I, O> {
  item: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Collects items from concurrent callers and processes them together: one database round trip
 * (or one Redis pipeline) for many requests. Each caller gets its own result or error.
 * Flushes when `maxItems` are waiting or `maxWaitMs` after the first item, whichever first;
 * at most `concurrency` flushes run at once, so load raises batch size rather than round trips.
 */
export class Batcher<I, O> {
  private queue: Entry<I, O>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = 0;

  constructor(
    private readonly flushFn: (items: I[]) => Promise<O[]>,
    private readonly options: {
      maxItems: number;
      maxWaitMs: number;
      concurrency?: number;
      /**
       * Whether a failed batch failed because of one of its items (a value the database refuses)
       * rather than the database itself. If so, the batch is split in halves and run again, so only
       * the offending items fail; the rest succeed. Set it only where a failed flush wrote nothing.
       */
      isolate?: (error: unknown) => boolean;
    },
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
      await this.run(batch);
    } finally {
      this.running--;
      if (this.queue.length > 0) this.flushSoon(this.queue.length >= this.options.maxItems ? 0 : 1);
    }
  }

  private async run(batch: Entry<I, O>[]): Promise<void> {
    try {
      const results = await this.flushFn(batch.map((b) => b.item));
      for (const [i, b] of batch.entries()) b.resolve(results[i] as O);
    } catch (error) {
      if (batch.length > 1 && this.options.isolate?.(error)) {
        // Halving finds one bad item among n in about 2·log2(n) statements, not n.
        const half = Math.ceil(batch.length / 2);
        await Promise.all([this.run(batch.slice(0, half)), this.run(batch.slice(half))]);
        return;
      }
      for (const b of batch) b.reject(error);
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
