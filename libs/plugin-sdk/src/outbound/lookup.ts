import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { refusedAddress } from './address';
import type { OutboundPolicy } from './policy';
import { OutboundRefusedError } from './refused-error';

/** Resolves a name to all its addresses (dns.lookup by default; tests pass their own). */
export type Resolve = (
  hostname: string,
  callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

const systemResolve: Resolve = (hostname, callback) => dns.lookup(hostname, { all: true }, callback);

/**
 * A `lookup` for net/tls connect options that resolves the name once, refuses it when any of its
 * addresses is refused, and hands the checked addresses to the socket: the connection uses exactly
 * what was checked, so a DNS answer that changes afterwards (rebinding) cannot slip in.
 */
export function guardedLookup(policy: OutboundPolicy, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    const host = hostname.toLowerCase();
    resolve(hostname, (error, found) => {
      if (error) return callback(error, '', 0);
      const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
      const addresses = family === 4 || family === 6 ? found.filter((a) => a.family === family) : found;
      if (addresses.length === 0) {
        const none: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
          code: 'ENOTFOUND',
        });
        return callback(none, '', 0);
      }
      if (!policy.allowHosts.has(host)) {
        for (const a of addresses) {
          const reason = refusedAddress(a.address, policy);
          if (reason) return callback(new OutboundRefusedError(hostname, reason), '', 0);
        }
      }
      if (options.all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      const [first] = addresses;
      return callback(null, first!.address, first!.family);
    });
  };
}

/**
 * Checks a host about to be connected to. A literal IP is judged here (net skips `lookup` for
 * IPs); a name is judged by the returned lookup when it resolves.
 */
export function checkConnectHost(host: string, policy: OutboundPolicy): void {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 0) return;
  const reason = refusedAddress(bare, policy);
  if (reason) throw new OutboundRefusedError(host, reason);
}
