import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePort } from './free-port';

/** The kernel's ephemeral range starts here: freePort must stay below it. */
const rangeStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);

test('freePort: a port below the ephemeral range that can be listened on, and again after', async () => {
  const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
  for (const port of ports) {
    assert.ok(port >= 20_000 && port < rangeStart, `${port} is below ${rangeStart}`);
  }
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ports[0], '127.0.0.1', resolve);
  });
  await new Promise((resolve) => server.close(resolve));
});

test('freePort skips a port that is in use', async () => {
  const held = createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => held.listen(port, '127.0.0.1', resolve));
  try {
    // The first draw lands on the held port; the second is elsewhere.
    const draws = [(port - 20_000 + 0.5) / (rangeStart - 20_000), 0];
    const next = await freePort(() => draws.shift() ?? Math.random());
    assert.notEqual(next, port);
  } finally {
    await new Promise((resolve) => held.close(resolve));
  }
});
