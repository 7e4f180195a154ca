import type { Sandbox } from '@clarion/sandbox';

export interface LoadOptions {
  /** Base URL of a Clarion API process. */
  api: string;
  admin: string;
  sandbox: Sandbox;
  seconds: number;
}

export interface LoadStats {
  accepted: number;
  duplicates: number;
  rejected: number;
}

/**
 * Traffic that gives every dashboard panel something to show: deliveries on three channels and
 * plugins that succeed, fail permanently (a receiver answering 400), are retried (503 twice),
 * are suppressed (a user without a phone, a per-user SMS cap), repeated eventIds, and a few bad
 * requests.
 */
export async function dashboardLoad({ api, admin, sandbox, seconds }: LoadOptions): Promise<LoadStats> {
  const created = await fetch(`${api}/admin/apps`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'dashboard',
      settings: {
        webhookUrl: `${sandbox.url}/webhook/dash`,
        // A per-user SMS cap the load runs into, for the rate-limit and suppression panels.
        rateLimits: [{ channel: 'sms', max: 5, perSeconds: 3600 }],
        // Tracked links and the open pixel, followed below like a recipient's mail client would.
        trackClicks: true,
        trackOpens: true,
      },
    }),
  });
  if (!created.ok) throw new Error(`create app: ${created.status} ${await created.text()}`);
  const { key } = (await created.json()) as { key: { appKey: string; appSecret: string } };
  const auth = `Basic ${Buffer.from(`${key.appKey}:${key.appSecret}`).toString('base64')}`;
  const call = (method: string, path: string, body: unknown) =>
    fetch(`${api}${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  sandbox.behaviors.add({ provider: 'webhook', to: 'failing', fail: '400' });
  sandbox.behaviors.add({ provider: 'webhook', to: 'flaky', fail: '503', times: 2 });
  const users: [string, Record<string, unknown>][] = [
    ...Array.from({ length: 10 }, (_, i): [string, Record<string, unknown>] => [
      `u${i}`,
      { email: `u${i}@example.com`, phone: `+1415555${String(1000 + i)}` },
    ]),
    [
      'failing',
      { email: 'failing@example.com', phone: '+14155552000', webhookUrl: `${sandbox.url}/webhook/failing` },
    ],
    [
      'flaky',
      { email: 'flaky@example.com', phone: '+14155552001', webhookUrl: `${sandbox.url}/webhook/flaky` },
    ],
    ['nophone', { email: 'nophone@example.com' }],
  ];
  for (const [id, profile] of users) {
    const res = await call('PUT', `/v1/users/${id}`, profile);
    if (!res.ok) throw new Error(`user ${id}: ${res.status} ${await res.text()}`);
  }

  const stats: LoadStats = { accepted: 0, duplicates: 0, rejected: 0 };
  const until = Date.now() + seconds * 1000;
  let n = 0;
  const sender = async () => {
    while (Date.now() < until) {
      const i = n++;
      // Every fifth request repeats the one before it (same eventId, same body): a duplicate.
      const base = i % 5 === 4 ? i - 1 : i;
      const userId = users[base % users.length]![0];
      const res =
        i % 25 === 23
          ? await call('POST', '/v1/notifications', { to: { userId }, content: {} }) // bad input: a 400 on the API panel
          : await call('POST', '/v1/notifications', {
              to: { userId },
              eventId: `event-${base}`,
              category: 'orders',
              content: {
                webhook: { json: { order: base } },
                sms: { text: `Order ${base} shipped` },
                email: {
                  subject: `Order ${base}`,
                  html: `<p>Order ${base} shipped. <a href="https://shop.example/orders/${base}">Track it</a></p>`,
                },
              },
            });
      await res.arrayBuffer();
      if (res.status === 202) stats.accepted++;
      else if (res.status === 200) stats.duplicates++;
      else stats.rejected++;
    }
  };
  await Promise.all(Array.from({ length: 4 }, sender));
  await openAndClick(sandbox);
  return stats;
}

/** Like a recipient: the mail client loads the open pixel of some messages, the reader clicks some links. */
async function openAndClick(sandbox: Sandbox): Promise<void> {
  const deadline = Date.now() + 30_000;
  let mails: string[] = [];
  while (mails.length === 0 && Date.now() < deadline) {
    mails = sandbox.recorder
      .list({ provider: 'smtp', outcome: 'accepted' })
      .map((r) => (r.payload as { html?: string | null }).html ?? '')
      .filter((html) => html.includes('/t/'));
    if (mails.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  if (mails.length === 0) throw new Error('no tracked e-mail reached the sandbox');
  for (const [i, html] of mails.entries()) {
    const pixel = /src="([^"]+\/t\/o\/[^"]+)"/.exec(html)?.[1];
    const link = /href="([^"]+\/t\/[^"]+)"/.exec(html)?.[1];
    if (pixel && i % 2 === 0) await (await fetch(pixel)).arrayBuffer();
    if (link && i % 3 === 0) await (await fetch(link, { redirect: 'manual' })).arrayBuffer();
  }
}
