import https from 'node:https';
import type { Duplex } from 'node:stream';
import { Agent, buildConnector } from 'undici';
import { checkConnectHost, guardedLookup, type Resolve } from './lookup';
import type { OutboundPolicy } from './policy';

/**
 * An https.Agent whose every new connection goes through the outbound policy (web-push and other
 * clients that take an `agent`). Whatever URL parser the client used, the host it connects to is checked.
 */
export class GuardedHttpsAgent extends https.Agent {
  private readonly lookup: ReturnType<typeof guardedLookup>;

  constructor(
    options: https.AgentOptions,
    private readonly policy: OutboundPolicy,
    resolve?: Resolve,
  ) {
    super(options);
    this.lookup = guardedLookup(policy, resolve);
  }

  override createConnection(
    options: Parameters<https.Agent['createConnection']>[0],
    callback?: Parameters<https.Agent['createConnection']>[1],
  ): Duplex | null | undefined {
    try {
      checkConnectHost(String(options?.host ?? options?.hostname ?? ''), this.policy);
    } catch (error) {
      // The agent's own callback path turns this into the request's 'error' event.
      callback?.(error as Error, undefined as unknown as Duplex);
      return undefined;
    }
    return super.createConnection({ ...options, lookup: this.lookup }, callback);
  }
}

/** An undici Agent whose connections go through the outbound policy (literal IPs and resolved names). */
export function guardedUndiciAgent(
  options: Omit<Agent.Options, 'connect'> & { connect?: buildConnector.BuildOptions },
  policy: OutboundPolicy,
  resolve?: Resolve,
): Agent {
  const connector = buildConnector({ ...options.connect, lookup: guardedLookup(policy, resolve) });
  return new Agent({
    ...options,
    connect: (opts, callback) => {
      try {
        checkConnectHost(opts.hostname, policy);
      } catch (error) {
        callback(error as Error, null);
        return;
      }
      connector(opts, callback);
    },
  });
}
