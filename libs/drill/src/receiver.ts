import { Sandbox, type SandboxRecord, webhookFake } from '@clarion/sandbox';
import { WEBHOOK_SECRET } from './cluster';

/**
 * The sandbox's signed webhook receiver (it checks each request's signature), logging every
 * delivery id it accepted and how often: the user's side of "exactly once".
 */
export class Receiver {
  /** Accepted requests per delivery id (more than 1: sent twice). */
  readonly byDelivery = new Map<string, number>();
  /** When (ms since epoch) each delivery id's copies arrived: tells a duplicate from a kill from another. */
  readonly arrivals = new Map<string, number[]>();
  /** Requests refused for a bad signature: Clarion signing wrongly would show here. */
  badSignatures = 0;

  private constructor(private readonly sandbox: Sandbox) {
    sandbox.recorder.on('record', (r: SandboxRecord) => this.take(r));
  }

  static async start(): Promise<Receiver> {
    return new Receiver(await Sandbox.start({ fakes: [webhookFake({ secret: WEBHOOK_SECRET })] }));
  }

  get url(): string {
    return `${this.sandbox.url}/webhook/drill`;
  }

  /** Every answer takes `delayMs` (a slow receiver: the workers fall behind and a backlog builds). */
  slow(delayMs: number): void {
    this.sandbox.behaviors.add({ provider: 'webhook', to: 'drill', delayMs, times: 1_000_000 });
  }

  fast(): void {
    this.sandbox.behaviors.clear('webhook');
  }

  async stop(): Promise<void> {
    await this.sandbox.stop();
  }

  private take(r: SandboxRecord): void {
    if (r.outcome === 'bad_signature') this.badSignatures++;
    const id = (r.payload as { id?: unknown } | undefined)?.id;
    if (r.outcome === 'accepted' && typeof id === 'string') {
      this.byDelivery.set(id, (this.byDelivery.get(id) ?? 0) + 1);
      const times = this.arrivals.get(id);
      if (times) times.push(Date.now());
      else this.arrivals.set(id, [Date.now()]);
    }
    // The counts are all the drill needs; the recorder's own list would only grow.
    this.sandbox.recorder.clear();
  }
}
