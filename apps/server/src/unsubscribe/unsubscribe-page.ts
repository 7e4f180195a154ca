/** The two tiny HTML pages a person sees after clicking an unsubscribe link. No scripts, no external assets. */

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font-size:1rem;padding:.6rem 1.2rem}</style>
</head><body>${body}</body></html>`;

const what = (category: string) => (category === '*' ? 'e-mails' : `“${category}” e-mails`);

/** GET: asks, does not act (mail scanners follow links; only the POST unsubscribes). */
export function confirmPage(appName: string, category: string, action: string): string {
  return page(
    'Unsubscribe',
    `<h1>Unsubscribe</h1><p>Stop receiving ${escapeHtml(what(category))} from ${escapeHtml(appName)}?</p>
<form method="post" action="${escapeHtml(action)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
  );
}

export function donePage(appName: string, category: string): string {
  return page(
    'Unsubscribed',
    `<h1>You are unsubscribed</h1><p>You will no longer receive ${escapeHtml(what(category))} from ${escapeHtml(appName)}.</p>`,
  );
}
