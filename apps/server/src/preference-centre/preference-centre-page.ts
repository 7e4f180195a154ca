import { ANY } from '../contacts/preference-rules';
import type { PreferencesView } from '../preferences/preferences.service';
import { escapeHtml as e } from '../unsubscribe/unsubscribe-page';
import { cellKey, type PreferenceGrid } from './preference-grid';

const CHANNEL_NAMES: Record<string, string> = {
  email: 'E-mail',
  sms: 'SMS',
  push: 'Mobile push',
  web: 'Browser push',
  webhook: 'Webhook',
};
const channelName = (c: string) => CHANNEL_NAMES[c] ?? c.charAt(0).toUpperCase() + c.slice(1);
const categoryName = (c: string) => (c === ANY ? 'Everything else' : c);

/** No scripts, no external assets, visible focus; every input has a label, every group a legend. */
const STYLE = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.5}
fieldset{border:1px solid #999;border-radius:.4rem;margin:0 0 1rem;padding:.6rem 1rem}
legend{font-weight:600;padding:0 .3rem}
label{display:inline-flex;align-items:center;gap:.35rem;margin:.2rem 1.2rem .2rem 0}
input[type=checkbox]{width:1.1rem;height:1.1rem}
input:disabled+span{color:#555}
:focus-visible{outline:3px solid #1558d6;outline-offset:2px}
button{font-size:1rem;padding:.6rem 1.4rem}
.note{color:#444;font-size:.9rem;margin:.2rem 0}
[role=alert]{background:#fdecea;border:1px solid #c62828;padding:.5rem .8rem;border-radius:.3rem}
[role=status]{background:#e6f4ea;border:1px solid #2e7d32;padding:.5rem .8rem;border-radius:.3rem}`;

export const layout = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><meta name="referrer" content="no-referrer"><title>${e(title)}</title>
<style>${STYLE}</style>
</head><body><main>${body}</main></body></html>`;

function categoryFieldset(
  grid: PreferenceGrid,
  category: { name: string; fixed: boolean },
  n: number,
): string {
  const note = `note-${n}`;
  const boxes = grid.cells
    .filter((c) => c.category === category.name)
    .map((c, i) => {
      const inputId = `c-${n}-${i}`;
      const attrs = category.fixed
        ? `checked disabled aria-describedby="${note}"`
        : `name="on:${e(cellKey(c.channel, c.category))}" value="1"${c.enabled ? ' checked' : ''}`;
      return `<label for="${inputId}"><input type="checkbox" id="${inputId}" ${attrs}><span>${e(channelName(c.channel))}</span></label>`;
    })
    .join('');
  const explain = category.fixed
    ? `<p class="note" id="${note}">Always sent: these are critical messages (for example about your account’s security) and cannot be turned off.</p>`
    : category.name === ANY
      ? '<p class="note">Notifications that have no category above.</p>'
      : '';
  return `<fieldset><legend>${e(categoryName(category.name))}${category.fixed ? ' (always on)' : ''}</legend>${explain}${boxes}</fieldset>`;
}

function quietHoursFieldset(view: PreferencesView): string {
  const q = view.quietHours;
  const tz = view.timezone ?? 'UTC';
  const limited = q?.categories?.length
    ? `<p class="note">Applies to: ${e(q.categories.join(', '))}.</p>`
    : '';
  return `<fieldset><legend>Quiet hours</legend>
<p class="note" id="tz-note">Notifications are held during this window and sent when it ends. Times are in your time zone: <strong>${e(tz)}</strong>. Critical messages are never held.</p>${limited}
<label for="qh-on"><input type="checkbox" id="qh-on" name="quiet" value="1"${q ? ' checked' : ''}><span>Use quiet hours</span></label><br>
<label for="qh-start">From <input type="time" id="qh-start" name="quietStart" value="${e(q?.start ?? '22:00')}" aria-describedby="tz-note"></label>
<label for="qh-end">Until <input type="time" id="qh-end" name="quietEnd" value="${e(q?.end ?? '07:00')}" aria-describedby="tz-note"></label>
</fieldset>`;
}

/** The preference centre form; `message` is shown as a status line (after a save). */
export function preferenceCentrePage(
  appName: string,
  view: PreferencesView,
  grid: PreferenceGrid,
  token: string,
  message?: { text: string; alert: boolean },
): string {
  const shown = grid.cells
    .filter((c) => !c.fixed)
    .map((c) => cellKey(c.channel, c.category))
    .join(' ');
  return layout(
    `Notification preferences · ${appName}`,
    `<h1>Notification preferences</h1>
<p>Choose how ${e(appName)} may reach you.</p>
${message ? `<p role="${message.alert ? 'alert' : 'status'}">${e(message.text)}</p>` : ''}
<form method="post" action="page">
<input type="hidden" name="token" value="${e(token)}">
<input type="hidden" name="shown" value="${e(shown)}">
${grid.categories.map((c, n) => categoryFieldset(grid, c, n)).join('\n')}
${quietHoursFieldset(view)}
<button type="submit">Save preferences</button>
</form>`,
  );
}

/** A 4xx for a person who followed a bad link: what went wrong, and what to do. */
export function errorPage(status: number, message: string): string {
  return layout(
    'Preferences link problem',
    `<h1>This link cannot be used</h1><p>${e(message)}</p><p class="note">Error ${status}. Open the newest link from one of our e-mails, or contact us.</p>`,
  );
}
