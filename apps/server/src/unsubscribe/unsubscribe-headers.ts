import type { UnsubscribeTokens } from './unsubscribe-token';

/**
 * RFC 2369 List-Unsubscribe plus RFC 8058 one-click: mail clients (Gmail, Apple Mail, Outlook)
 * show an "Unsubscribe" button that POSTs `List-Unsubscribe=One-Click` to the URL. The plugins
 * copy `content.headers` onto the message as they are.
 */
export function unsubscribeHeaders(
  tokens: UnsubscribeTokens,
  publicUrl: string,
  claim: { appId: string; userId: string; category: string },
): Record<string, string> {
  const url = `${publicUrl.replace(/\/+$/, '')}/v1/unsubscribe?token=${tokens.sign(claim)}`;
  return { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}
