import type https from 'node:https';
import type { Duplex } from 'node:stream';
import { GuardedHttpsAgent, type OutboundPolicy } from '@clarion/plugin-sdk';

/**
 * A keep-alive https.Agent for push services (web-push accepts only an `instanceof https.Agent`)
 * that connects only where the outbound policy allows (the endpoint is the browser's choice) and
 * reports each new connection, so reuse shows up in metrics and tests.
 */
export class CountingAgent extends GuardedHttpsAgent {
  constructor(
    options: https.AgentOptions,
    policy: OutboundPolicy,
    private readonly onConnect: () => void,
  ) {
    super(options, policy);
  }

  override createConnection(...args: Parameters<https.Agent['createConnection']>): Duplex | null | undefined {
    this.onConnect();
    return super.createConnection(...args);
  }
}
