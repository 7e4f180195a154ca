import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Agent, errors, Pool } from 'undici';
import { AnswerTooLargeError, exchange } from './http-exchange';

/** A receiver whose path says how to answer. */
function receiver(): Server {
  return createServer((req, res) => {
    req.resume();
    if (req.url === '/json') {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ error: 'slow down' }));
    } else if (req.url === '/endless') {
      // Streams until the client goes away.
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    } else if (req.url === '/silent') {
      // Never answers.
    } else {
      res.writeHead(200);
      res.end('x'.repeat(100));
    }
  });
}

describe('exchange: one request through an undici dispatcher, read to its end', () => {
  let server: Server;
  let origin: string;
  const agent = new Agent({ keepAliveTimeout: 1000 });
  before(async () => {
    server = receiver();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await agent.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('answers the status, the headers and the body', async () => {
    const pool = new Pool(origin);
    const answer = await exchange(pool, { path: '/json', method: 'POST', body: '{}' });
    await pool.close();
    assert.equal(answer.statusCode, 429);
    assert.equal(answer.headers['retry-after'], '7');
    assert.deepEqual(JSON.parse(answer.body.toString()), { error: 'slow down' });
  });

  test('a body nobody keeps: dropped, and an endless one cut off with the status answered', async () => {
    const short = await exchange(
      agent,
      { origin, path: '/short', method: 'POST', body: '' },
      { keepBody: false },
    );
    assert.equal(short.statusCode, 200);
    assert.equal(short.body.length, 0);
    const endless = await exchange(agent, { origin, path: '/endless', method: 'GET' }, { keepBody: false });
    assert.equal(endless.statusCode, 200);
  });

  test('a kept body over the limit fails the exchange', async () => {
    await assert.rejects(
      exchange(agent, { origin, path: '/short', method: 'GET' }, { maxBodyBytes: 10 }),
      AnswerTooLargeError,
    );
    await assert.rejects(exchange(agent, { origin, path: '/endless', method: 'GET' }), AnswerTooLargeError);
  });

  test("undici's own errors: a receiver that never answers times out, a closed port is refused", async () => {
    await assert.rejects(
      exchange(agent, { origin, path: '/silent', method: 'GET', headersTimeout: 200 }),
      errors.HeadersTimeoutError,
    );
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await assert.rejects(
      exchange(agent, { origin: `http://127.0.0.1:${port}`, path: '/', method: 'GET' }),
      (error: NodeJS.ErrnoException) => error.code === 'ECONNREFUSED',
    );
  });
});
