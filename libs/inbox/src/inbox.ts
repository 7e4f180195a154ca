/**
 * @clarion/inbox: the in-app inbox of a signed-in user, in the browser, with no framework.
 * One file with no imports: dist/inbox.js is the ES module, dist/inbox.iife.js the same code as
 * `window.ClarionInbox` for a plain script tag.
 */

/** A message as the server answers it. */
export interface InboxMessage {
  id: string;
  notificationId: string;
  category: string | null;
  title: string;
  body: string;
  url: string | null;
  data: Record<string, unknown> | null;
  createdAt: string;
  readAt: string | null;
  archivedAt: string | null;
}

export interface InboxPage {
  messages: InboxMessage[];
  nextCursor: string | null;
  unread: number;
}

export interface InboxOptions {
  /** The Clarion server, e.g. `https://notify.example.com`. */
  baseUrl: string;
  /** A client key of the app (its secret is meant to be shipped to browsers). */
  appKey: string;
  appSecret: string;
  /** The user token your backend signs for the signed-in user; a function is called again on each request. */
  userToken: string | (() => string | Promise<string>);
}

/** What the live stream reports. */
export type InboxEvent = { type: 'message'; message: InboxMessage } | { type: 'unread'; unread: number };

/** An HTTP error from the server: its `{error: {code, message}}`. */
export class InboxError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'InboxError';
  }
}

/** The inbox API of one signed-in user. */
export class InboxClient {
  private readonly base: string;

  constructor(private readonly options: InboxOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
  }

  private async headers(json: boolean): Promise<Record<string, string>> {
    const token =
      typeof this.options.userToken === 'function' ? await this.options.userToken() : this.options.userToken;
    return {
      authorization: `Basic ${btoa(`${this.options.appKey}:${this.options.appSecret}`)}`,
      'x-clarion-user-token': token,
      ...(json ? { 'content-type': 'application/json' } : {}),
    };
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: await this.headers(body !== undefined),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const answer = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (!res.ok)
      throw new InboxError(
        res.status,
        answer.error?.code ?? 'http_error',
        answer.error?.message ?? `HTTP ${res.status}`,
      );
    return answer as T;
  }

  /** A page of messages, newest first. `view`: inbox (not archived, default), unread, archived, all. */
  list(options: { view?: 'inbox' | 'unread' | 'archived' | 'all'; limit?: number; cursor?: string } = {}) {
    const query = new URLSearchParams();
    if (options.view) query.set('view', options.view);
    if (options.limit) query.set('limit', String(options.limit));
    if (options.cursor) query.set('cursor', options.cursor);
    const q = query.toString();
    return this.call<InboxPage>('GET', `/v1/inbox/messages${q ? `?${q}` : ''}`);
  }

  async unreadCount(): Promise<number> {
    return (await this.call<{ unread: number }>('GET', '/v1/inbox/unread-count')).unread;
  }

  /** Changes one message; `read: true` also counts as the notification being opened. */
  change(id: string, change: { read?: boolean; archived?: boolean }) {
    return this.call<{ message: InboxMessage; unread: number }>(
      'PATCH',
      `/v1/inbox/messages/${encodeURIComponent(id)}`,
      change,
    );
  }

  markRead(id: string) {
    return this.change(id, { read: true });
  }
  markUnread(id: string) {
    return this.change(id, { read: false });
  }
  archive(id: string) {
    return this.change(id, { archived: true });
  }
  markAllRead() {
    return this.call<{ updated: number; unread: number }>('POST', '/v1/inbox/messages/mark-all', {
      read: true,
    });
  }
  archiveAll() {
    return this.call<{ updated: number; unread: number }>('POST', '/v1/inbox/messages/mark-all', {
      archived: true,
    });
  }

  /**
   * Live updates (Server-Sent Events read with fetch, so the key and token travel as headers,
   * not in the URL). Reconnects after a drop with a growing pause; `onOpen` runs on each
   * (re)connect so a caller can list again what it may have missed. Returns the function that stops it.
   */
  subscribe(onEvent: (event: InboxEvent) => void, onOpen: () => void = () => undefined): () => void {
    let stopped = false;
    let controller: AbortController | undefined;
    let pause = 1000;
    const run = async () => {
      while (!stopped) {
        controller = new AbortController();
        try {
          const res = await fetch(`${this.base}/v1/inbox/stream`, {
            headers: { ...(await this.headers(false)), accept: 'text/event-stream' },
            signal: controller.signal,
          });
          if (res.ok && res.body) {
            pause = 1000;
            onOpen();
            await readEvents(res.body, onEvent);
          }
        } catch {
          // dropped or aborted: retry below unless stopped
        }
        if (stopped) return;
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 30_000);
      }
    };
    void run();
    return () => {
      stopped = true;
      controller?.abort();
    };
  }
}

async function readEvents(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: InboxEvent) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = '';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) type = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data && type === 'message') onEvent({ type, message: JSON.parse(data) as InboxMessage });
      else if (data && type === 'unread')
        onEvent({ type, unread: (JSON.parse(data) as { unread: number }).unread });
      end = buffer.indexOf('\n\n');
    }
  }
}

const BELL_SVG =
  '<svg width="20" height="20" viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M6 8a6 6 0 0 1 12 0c0 7 3 9 3 9H3s3-2 3-9"/><path d="M10.3 21a1.94 1.94 0 0 0 3.4 0"/></svg>';

const STYLE = `
.ci-root{position:relative;display:inline-block;font:14px/1.4 system-ui,sans-serif;color:#1a1a1a}
.ci-bell{position:relative;border:1px solid #ccc;background:#fff;border-radius:6px;padding:6px 8px;cursor:pointer;line-height:0;color:#1a1a1a}
.ci-bell:focus-visible,.ci-panel button:focus-visible{outline:2px solid #2563eb;outline-offset:2px}
.ci-count{position:absolute;top:-8px;right:-8px;line-height:18px;background:#dc2626;color:#fff;border-radius:999px;font-size:12px;min-width:18px;padding:0 5px;text-align:center}
.ci-count[hidden]{display:none}
.ci-panel{position:absolute;right:0;top:calc(100% + 6px);width:340px;max-height:420px;overflow:auto;background:#fff;border:1px solid #ccc;border-radius:8px;box-shadow:0 6px 24px rgba(0,0,0,.12);z-index:1000}
.ci-head{display:flex;justify-content:space-between;align-items:center;padding:8px 12px;border-bottom:1px solid #eee;font-weight:600}
.ci-list{list-style:none;margin:0;padding:0}
.ci-item{padding:10px 12px;border-bottom:1px solid #f0f0f0}
.ci-item.ci-unread{background:#eff6ff}
.ci-title{font-weight:600;display:block;color:inherit;text-decoration:none}
.ci-body{margin:2px 0 6px;color:#444}
.ci-actions button,.ci-head button{border:1px solid #ccc;background:#fff;border-radius:4px;padding:2px 8px;margin-right:6px;cursor:pointer;font-size:12px}
.ci-empty{padding:16px 12px;color:#666}
`;

export interface MountOptions extends InboxOptions {
  /** How many messages the panel shows (the newest). Default 20. */
  limit?: number;
  /** Called when the user clicks a message (after it is marked read). Default: follow its url. */
  onOpen?: (message: InboxMessage) => void;
}

/**
 * Renders a bell with the unread count and a panel listing the messages, with read / archive
 * actions, kept live over the stream. Returns the client and a `destroy` that stops everything.
 */
export function mountInbox(
  target: HTMLElement,
  options: MountOptions,
): { client: InboxClient; destroy(): void } {
  const client = new InboxClient(options);
  const limit = options.limit ?? 20;
  let messages: InboxMessage[] = [];
  let unread = 0;

  if (!document.getElementById('clarion-inbox-style')) {
    const style = document.createElement('style');
    style.id = 'clarion-inbox-style';
    style.textContent = STYLE;
    document.head.appendChild(style);
  }
  const root = el('div', 'ci-root');
  const bell = el('button', 'ci-bell');
  bell.type = 'button';
  bell.setAttribute('aria-haspopup', 'true');
  bell.setAttribute('aria-expanded', 'false');
  // An inline icon: an emoji bell depends on the visitor's fonts.
  bell.innerHTML = BELL_SVG;
  const count = el('span', 'ci-count');
  count.setAttribute('aria-hidden', 'true');
  bell.appendChild(count);
  const panel = el('div', 'ci-panel');
  panel.hidden = true;
  panel.setAttribute('role', 'region');
  panel.setAttribute('aria-label', 'Notifications');
  const head = el('div', 'ci-head');
  head.appendChild(el('span', '', 'Notifications'));
  const readAll = el('button', 'ci-read-all', 'Mark all read');
  readAll.type = 'button';
  head.appendChild(readAll);
  const list = el('ul', 'ci-list');
  panel.append(head, list);
  root.append(bell, panel);
  target.appendChild(root);

  const renderCount = () => {
    count.textContent = unread > 99 ? '99+' : String(unread);
    count.hidden = unread === 0;
    bell.setAttribute('aria-label', `Notifications, ${unread} unread`);
    root.dataset.unread = String(unread);
  };
  const render = () => {
    renderCount();
    list.replaceChildren();
    if (messages.length === 0) list.appendChild(el('li', 'ci-empty', 'No notifications'));
    for (const m of messages) {
      const item = el('li', `ci-item${m.readAt ? '' : ' ci-unread'}`);
      item.dataset.id = m.id;
      const title = m.url ? el('a', 'ci-title', m.title) : el('span', 'ci-title', m.title);
      if (title instanceof HTMLAnchorElement && m.url) {
        title.href = m.url;
        title.addEventListener('click', (e) => {
          e.preventDefault();
          void act(m, { read: true }).then(() =>
            options.onOpen ? options.onOpen(m) : window.location.assign(m.url ?? ''),
          );
        });
      }
      const actions = el('div', 'ci-actions');
      const toggle = el('button', 'ci-toggle-read', m.readAt ? 'Mark unread' : 'Mark read');
      toggle.type = 'button';
      toggle.addEventListener('click', () => void act(m, { read: !m.readAt }));
      const archive = el('button', 'ci-archive', 'Archive');
      archive.type = 'button';
      archive.addEventListener('click', () => void act(m, { archived: true }));
      actions.append(toggle, archive);
      item.append(title, el('p', 'ci-body', m.body), actions);
      list.appendChild(item);
    }
  };
  const act = async (m: InboxMessage, change: { read?: boolean; archived?: boolean }) => {
    const answer = await client.change(m.id, change);
    unread = answer.unread;
    messages = answer.message.archivedAt
      ? messages.filter((x) => x.id !== m.id)
      : messages.map((x) => (x.id === m.id ? answer.message : x));
    render();
  };
  const reload = async () => {
    const page = await client.list({ limit });
    messages = page.messages;
    unread = page.unread;
    render();
  };

  bell.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    bell.setAttribute('aria-expanded', String(!panel.hidden));
  });
  readAll.addEventListener('click', () => {
    void client.markAllRead().then((r) => {
      unread = r.unread;
      const now = new Date().toISOString();
      messages = messages.map((m) => (m.readAt ? m : { ...m, readAt: now }));
      render();
    });
  });
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      panel.hidden = true;
      bell.setAttribute('aria-expanded', 'false');
      bell.focus();
    }
  });

  render();
  const stop = client.subscribe(
    (event) => {
      if (event.type === 'unread') {
        unread = event.unread;
        renderCount();
        return;
      }
      if (messages.some((m) => m.id === event.message.id)) return;
      messages = [event.message, ...messages].slice(0, limit);
      if (!event.message.readAt) unread += 1;
      render();
    },
    // On each (re)connect: list again, to show what arrived while the stream was down.
    () => void reload().catch(() => undefined),
  );
  return {
    client,
    destroy() {
      stop();
      root.remove();
    },
  };
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
