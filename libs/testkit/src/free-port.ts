import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A free TCP port on 127.0.0.1, chosen below the kernel's ephemeral range. A port the kernel
 * hands out (listen(0), the local end of every outgoing connection) can be taken again by the
 * kernel the moment it is released; a test that restarts a server on its port (Redis in the
 * outage tests) could then find it in use. Ports below that range are only ever taken on purpose.
 */
export async function freePort(random: () => number = Math.random): Promise<number> {
  const below = ephemeralRangeStart();
  for (let attempt = 0; attempt < 100 && below > LOWEST + 1000; attempt++) {
    const port = LOWEST + Math.floor(random() * (below - LOWEST));
    if ((await tryListen(port)) !== undefined) return port;
  }
  const port = await tryListen(0); // no room below the range: let the kernel pick
  if (port === undefined) throw new Error('no free TCP port on 127.0.0.1');
  return port;
}

/** Above the well-known and common service ports (PostgreSQL 5432, Redis 6379, 8080…). */
const LOWEST = 20_000;

function ephemeralRangeStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 32_768; // Linux's default, and below macOS's 49152
  }
}

/** Listens on the port and closes again: the port it got, or undefined if that one was taken. */
async function tryListen(port: number): Promise<number | undefined> {
  const server = createServer();
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => resolve(true));
  });
  if (!listening) return undefined;
  const address = server.address();
  server.close();
  await once(server, 'close');
  return address !== null && typeof address !== 'string' ? address.port : undefined;
}
