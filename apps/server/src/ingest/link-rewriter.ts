import type { MessageContent } from '@clarion/plugin-sdk';
import { type LinkSigner, MAX_LINKS, OPEN_PIXEL } from './link-token';

export interface TrackingOptions {
  clicks: boolean;
  opens: boolean;
}

export interface Rewritten {
  content: MessageContent;
  /** The original URLs, by index: what `/t/<token>` may redirect to. */
  links: string[];
}

const HTML_HREF = /(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?:\/\/[^"']+)\2/gi;
const TEXT_URL = /https?:\/\/[^\s<>"'()[\]]+[^\s<>"'()[\].,;:!?]/g;
const decodeAmp = (s: string) => s.replaceAll('&amp;', '&');
const encodeAmp = (s: string) => s.replaceAll('&', '&amp;');

/**
 * A link as stored and redirected to: the WHATWG URL's href (tabs and newlines removed, spaces
 * and control characters percent-encoded, the host in ASCII), so it is always a valid Location
 * header; undefined for anything that is not an http(s) URL.
 */
export function normalisedLink(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rewrites links of one rendered message to signed tracking URLs, and adds the open pixel to
 * HTML e-mail. The same URL in HTML and text gets one index. Channels without links a user
 * taps (sms, webhook) are left alone; so is everything past 255 links, and a link that is not a
 * valid http(s) URL.
 */
export function rewriteLinks(
  channel: string,
  content: MessageContent,
  deliveryId: string,
  options: TrackingOptions,
  signer: LinkSigner,
  baseUrl: string,
): Rewritten {
  const links: string[] = [];
  const base = baseUrl.replace(/\/+$/, '');
  const tracked = (url: string): string => {
    const link = normalisedLink(url);
    if (link === undefined) return url;
    let index = links.indexOf(link);
    if (index < 0) {
      if (links.length >= MAX_LINKS - 1) return url;
      index = links.push(link) - 1;
    }
    return `${base}/t/${signer.sign(deliveryId, index)}`;
  };
  const out: MessageContent = { ...content };
  if (channel === 'email') {
    if (options.clicks && out.html)
      out.html = out.html.replace(
        HTML_HREF,
        (_m, pre: string, q: string, url: string) => `${pre}${q}${encodeAmp(tracked(decodeAmp(url)))}${q}`,
      );
    if (options.clicks && out.text) out.text = out.text.replace(TEXT_URL, (url) => tracked(url));
    if (options.opens && out.html) {
      const pixel = `<img src="${base}/t/o/${signer.sign(deliveryId, OPEN_PIXEL)}.gif" width="1" height="1" alt="" style="display:none;border:0">`;
      out.html = /<\/body>/i.test(out.html)
        ? out.html.replace(/<\/body>/i, `${pixel}</body>`)
        : out.html + pixel;
    }
  } else if (
    (channel === 'push' || channel === 'web') &&
    options.clicks &&
    out.url &&
    /^https?:\/\//.test(out.url)
  ) {
    out.url = tracked(out.url);
  }
  return { content: out, links };
}
