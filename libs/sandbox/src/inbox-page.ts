import type { SandboxRecord } from './recorder';

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** A small page listing what each channel received, newest first, so a person can see a send arrive. */
export function renderInbox(records: SandboxRecord[]): string {
  const byChannel = Map.groupBy(records.slice(-500).reverse(), (r) => r.channel);
  const sections = [...byChannel.entries()]
    .map(
      ([channel, list]) =>
        `<h2>${escapeHtml(channel)} (${list.length})</h2><table><tr><th>time</th><th>provider</th><th>to</th><th>outcome</th><th>content</th></tr>${list
          .map(
            (r) =>
              `<tr><td>${escapeHtml(r.receivedAt)}</td><td>${escapeHtml(r.provider)}</td><td>${escapeHtml(r.to)}</td><td>${escapeHtml(r.outcome)}</td><td><pre>${escapeHtml(JSON.stringify(r.payload, null, 1).slice(0, 2000))}</pre></td></tr>`,
          )
          .join('')}</table>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="3"><title>Clarion sandbox inbox</title>
<style>body{font:14px system-ui;margin:2em}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ddd;padding:4px;vertical-align:top;text-align:left}pre{margin:0;white-space:pre-wrap}</style></head>
<body><h1>Clarion sandbox inbox</h1><p>${records.length} message(s) received. API: <code>GET /_sandbox/messages</code></p>${sections || '<p>Nothing received yet.</p>'}</body></html>`;
}
