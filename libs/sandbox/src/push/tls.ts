import type { Server, Socket } from 'node:net';
import { generate } from 'selfsigned';

export interface SandboxTls {
  /** Server private key (PEM). */
  key: string;
  /** Self-signed server certificate (PEM) for localhost and 127.0.0.1; clients trust it as their CA. */
  cert: string;
}

const cached = new Map<string, Promise<SandboxTls>>();

/** A subjectAltName entry: an IP address or a DNS name. */
export function altName(host: string): { type: 2; value: string } | { type: 7; ip: string } {
  return /^[\d.]+$|:/.test(host) ? { type: 7, ip: host } : { type: 2, value: host };
}

/**
 * One self-signed certificate per process (and public host) for every TLS fake. Generating a key
 * takes a noticeable fraction of a second, and tests start many sandboxes.
 */
export function sandboxTls(publicHost = '127.0.0.1'): Promise<SandboxTls> {
  const existing = cached.get(publicHost);
  if (existing) return existing;
  const names = [...new Set(['localhost', '127.0.0.1', publicHost])];
  const made = generate([{ name: 'commonName', value: 'clarion-sandbox' }], {
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 3650 * 24 * 3600 * 1000),
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map(altName),
      },
    ],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }));
  cached.set(publicHost, made);
  return made;
}

/**
 * Counts the TCP connections a fake's listener accepts (so a test can assert that a plugin
 * reuses its pooled connections) and destroys the open ones on stop (keep-alive sockets would
 * otherwise hold `close()` open).
 */
export class ConnectionTracker {
  private opened = 0;
  private readonly open = new Set<Socket>();

  attach(server: Server): void {
    server.on('connection', (socket: Socket) => {
      this.opened += 1;
      this.open.add(socket);
      socket.on('close', () => this.open.delete(socket));
    });
  }

  /** Connections accepted since start (or the last reset). */
  get count(): number {
    return this.opened;
  }

  /** Connections open right now. */
  get active(): number {
    return this.open.size;
  }

  reset(): void {
    this.opened = 0;
  }

  destroyAll(): void {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }
}
