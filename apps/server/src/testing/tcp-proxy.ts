import { connect, createServer, type Socket } from 'node:net';

const DEFAULT_PORTS: Record<string, number> = { 'redis:': 6379, 'postgres:': 5432, 'postgresql:': 5432 };

/** A TCP proxy a test can cut and restore, to make a service unreachable for one server only. */
export interface TcpProxy {
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Drops every open connection; new ones are accepted and dropped at once, until `restore`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * Proxies 127.0.0.1:<port> to `target`. `holdMs` passes no byte until that long after start (a
 * service slow to answer). Cutting it looks to clients like a service restarting: resets.
 */
export async function tcpProxy(target: string, options: { holdMs?: number } = {}): Promise<TcpProxy> {
  const upstreamUrl = new URL(target);
  const upstreamPort = Number(upstreamUrl.port || DEFAULT_PORTS[upstreamUrl.protocol]);
  const openAt = Date.now() + (options.holdMs ?? 0);
  const sockets = new Set<Socket>();
  let cut = false;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer((client) => {
    track(client);
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = connect(upstreamPort, upstreamUrl.hostname);
    track(upstream);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pause();
    setTimeout(
      () => {
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      },
      Math.max(0, openAt - Date.now()),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port,
    via(url: string) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut() {
      cut = true;
      dropAll();
    },
    restore() {
      cut = false;
    },
    async close() {
      dropAll();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
