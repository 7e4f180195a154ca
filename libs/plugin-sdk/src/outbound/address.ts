import ipaddr from 'ipaddr.js';
import type { OutboundPolicy } from './policy';

/** Ranges an operator may open with `allowPrivate`; every other non-unicast range stays closed. */
const PRIVATE_RANGES = new Set(['private', 'loopback', 'linkLocal', 'carrierGradeNat', 'uniqueLocal']);

/** Cloud metadata services: link-local, but never opened by `allowPrivate` (only by an explicit CIDR). */
const METADATA = ['169.254.169.254', 'fd00:ec2::254'].map((ip) => ipaddr.parse(ip).toNormalizedString());

/**
 * Why `ip` may not be connected to under `policy`, or undefined when it may. IPv4-mapped IPv6
 * (`::ffff:127.0.0.1`) is judged as the IPv4 address it carries.
 */
export function refusedAddress(ip: string, policy: OutboundPolicy): string | undefined {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) return `"${ip}" is not an IP address`;
  const addr = ipaddr.process(bare);
  if (policy.allowCidrs.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits)))
    return undefined;
  const range = addr.range();
  if (range === 'unicast') return undefined;
  if (policy.allowPrivate && PRIVATE_RANGES.has(range) && !METADATA.includes(addr.toNormalizedString()))
    return undefined;
  return `${addr.toString()} is a ${range} address`;
}
