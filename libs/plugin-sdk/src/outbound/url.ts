import { isIP } from 'node:net';
import { refusedAddress } from './address';
import type { OutboundPolicy } from './policy';

/** Answers per policy (a policy is never changed once made), for the few URLs a worker sends to. */
const answers = new WeakMap<OutboundPolicy, Map<string, string | undefined>>();
/** URLs remembered per policy; past that the memo starts again (one URL per tenant is the usual case). */
const MAX_REMEMBERED = 10_000;

/**
 * Why `raw` may not be used as an outbound URL, or undefined. Checks what can be known without
 * DNS: an http(s) scheme, no credentials, and a literal IP outside the refused ranges. Parsed with
 * the WHATWG parser, so `http://2130706433/` and `http://0x7f.1/` are read as 127.0.0.1. Names are
 * checked when connecting (see guardedLookup), where DNS gives the address actually used. The
 * answer depends only on the text and the policy, and a webhook worker asks for every send (about
 * 2 µs a time, mostly ipaddr.js), so it is remembered.
 */
export function refusedUrl(raw: string, policy: OutboundPolicy): string | undefined {
  let known = answers.get(policy);
  if (known?.has(raw)) return known.get(raw);
  const answer = judgedUrl(raw, policy);
  if (!known || known.size >= MAX_REMEMBERED) {
    known = new Map();
    answers.set(policy, known);
  }
  known.set(raw, answer);
  return answer;
}

function judgedUrl(raw: string, policy: OutboundPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https URLs are allowed';
  if (url.username !== '' || url.password !== '') return 'a URL may not carry credentials';
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (host === '') return 'the URL has no host';
  if (isIP(host) !== 0) return refusedAddress(host, policy);
  if (policy.allowHosts.has(host)) return undefined;
  // `localhost` and its subdomains resolve to loopback without DNS (RFC 6761).
  if (!policy.allowPrivate && (host === 'localhost' || host.endsWith('.localhost')))
    return 'localhost is a loopback address';
  return undefined;
}
