import type { FastifyReply } from 'fastify';
import type { InboxHub, StreamEvent } from './inbox-hub';

/** Comments keep proxies (and the browser) from closing an idle stream. */
const HEARTBEAT_MS = 25_000;

/**
 * Server-Sent Events for one user: `unread` first (the count now), then `message` for each new
 * message and `unread` after each change. The stream ends when the client goes or the server stops.
 */
export function openStream(
  reply: FastifyReply,
  hub: InboxHub,
  appId: string,
  userId: string,
  unread: number,
): void {
  // Headers set so far (CORS from the key guard, the request id) go out with the stream.
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders()))
    if (value !== undefined) headers[name] = String(value);
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  const send = (event: StreamEvent) => {
    const data = event.type === 'message' ? event.message : { unread: event.unread };
    const id = event.type === 'message' ? `id: ${event.message.id}\n` : '';
    raw.write(`event: ${event.type}\n${id}data: ${JSON.stringify(data)}\n\n`);
  };
  send({ type: 'unread', unread });
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  let stop: (() => void) | undefined;
  const end = () => {
    clearInterval(heartbeat);
    stop?.();
    if (!raw.writableEnded) raw.end();
  };
  stop = hub.listen(appId, userId, send, end);
  raw.on('close', end);
}
