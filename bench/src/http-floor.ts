import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

/**
 * CPU per bare HTTP exchange on this machine: a node:http server that parses a JSON body and
 * answers 202, driven by an undici pool, both in this process. A delivery costs at least two such
 * exchanges (the product's request to Clarion, the plugin's call to the provider), whatever
 * framework sits on either end.
 */
export async function httpExchangeCpuMs(
  requests: number,
  concurrency: number,
  body: string,
): Promise<number> {
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
    });
    req.on('end', () => {
      JSON.parse(text);
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"id":"0","status":"accepted"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: concurrency });
  const run = async (n: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < n) {
          const res = await pool.request({
            path: '/',
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
          await res.body.dump();
        }
      }),
    );
  };
  await run(Math.min(2000, requests)); // warm up the JIT and the connections
  const before = process.cpuUsage();
  await run(requests);
  const used = process.cpuUsage(before);
  await pool.close();
  await new Promise((resolve) => server.close(resolve));
  return (used.user + used.system) / 1000 / requests;
}
