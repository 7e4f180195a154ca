import ipaddr from 'ipaddr.js';

/**
 * Which destinations outbound clients (webhooks, Web Push, status webhooks) may connect to.
 * Strict by default: only public unicast addresses. An operator opts in to more.
 */
export interface OutboundPolicy {
  /** Loopback, private (RFC 1918, IPv6 ULA), link-local and CGNAT targets are allowed too. */
  allowPrivate: boolean;
  /** Networks allowed whatever their range (the metadata address included, if listed). */
  allowCidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][];
  /** Host names (lower case) allowed without looking at what they resolve to. */
  allowHosts: Set<string>;
}

export const STRICT_OUTBOUND: OutboundPolicy = Object.freeze({
  allowPrivate: false,
  allowCidrs: [],
  allowHosts: new Set<string>(),
});

/**
 * Reads `CLARION_OUTBOUND_ALLOW_PRIVATE` (true/false) and `CLARION_OUTBOUND_ALLOW` (comma-separated
 * CIDRs, IPs and host names). Throws on an entry it cannot read, so a typo fails at start.
 */
export function outboundPolicy(settings: {
  allowPrivate?: boolean;
  allow?: readonly string[];
}): OutboundPolicy {
  const allowCidrs: OutboundPolicy['allowCidrs'] = [];
  const allowHosts = new Set<string>();
  for (const raw of settings.allow ?? []) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (entry.includes('/')) {
      allowCidrs.push(ipaddr.parseCIDR(entry));
    } else if (ipaddr.isValid(entry.replace(/^\[|\]$/g, ''))) {
      const ip = ipaddr.process(entry.replace(/^\[|\]$/g, ''));
      allowCidrs.push([ip, ip.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9.-]+$/i.test(entry)) {
      allowHosts.add(entry.toLowerCase().replace(/\.$/, ''));
    } else {
      throw new Error(`CLARION_OUTBOUND_ALLOW: "${entry}" is not a CIDR, an IP or a host name`);
    }
  }
  return { allowPrivate: settings.allowPrivate ?? false, allowCidrs, allowHosts };
}

/** The policy from environment variables (`CLARION_OUTBOUND_ALLOW_PRIVATE`, `CLARION_OUTBOUND_ALLOW`). */
export function outboundPolicyFromEnv(env: NodeJS.ProcessEnv): OutboundPolicy {
  const flag = (env.CLARION_OUTBOUND_ALLOW_PRIVATE ?? '').trim().toLowerCase();
  return outboundPolicy({
    allowPrivate: flag === 'true' || flag === '1' || flag === 'yes',
    allow: (env.CLARION_OUTBOUND_ALLOW ?? '').split(','),
  });
}
