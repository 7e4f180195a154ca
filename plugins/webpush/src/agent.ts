import https from 'node:https';
import type { Duplex } from 'node:stream';

/**
 * A keep-alive https.Agent for push services (web-push accepts only an `instanceof https.Agent`)
 * that reports each new connection, so reuse shows up in metrics and tests.
 */
export class CountingAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly onConnect: () => void,
  ) {
    super(options);
  }

  override createConnection(...args: Parameters<https.Agent['createConnection']>): Duplex | null | undefined {
    this.onConnect();
    return super.createConnection(...args);
  }
}
