/**
 * What a plugin's HTTP client costs per request, undici's `request()` against the SDK's
 * `exchange()` (undici's handler API), to receivers in processes of their own:
 *
 *   node bench/dist/http-exchange-floor.js [--requests 20000] [--rounds 5]
 *
 * HTTP/1.1 to a node:http receiver (the webhook plugin's case, concurrency 100) and HTTP/2 over TLS
 * to the sandbox's FCM fake (the FCM client's case, concurrency 200, two connections). Each round
 * runs both clients on the same connections; the client's own CPU per request is reported, one
 * JSON line at the end: each figure's median over the rounds after the first, which warms V8 up.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { AccessTokens } from '@clarion/plugin-fcm/dist/auth';
import { fcmConfig, serviceAccount } from '@clarion/plugin-fcm/dist/config';
import { exchange } from '@clarion/plugin-sdk';
import { Agent, Pool } from 'undici';
import { cliArgs } from './cli-args';
import { median } from './percentiles';
import { launchFakes } from './provider-floor';

type Send = (i: number) => Promise<number>;

/** Sends `n` requests, `concurrency` at a time; the client's CPU per request in µs. */
async function clientCpuPerRequest(send: Send, n: number, concurrency: number): Promise<number> {
  const before = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const status = await send(next++);
        if (status !== 200) throw new Error(`answered ${status}`);
      }
    }),
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

/** This script forked as the receiver; resolves with its port, or fails if it exits first. */
function startReceiver(): Promise<{ proc: ChildProcess; port: number }> {
  const proc = fork(__filename, ['receiver'], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    proc.once('message', (port: number) => resolve({ proc, port }));
    proc.once('exit', (code) => reject(new Error(`the receiver exited (${code})`)));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: cliArgs(),
    options: { requests: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '5' } },
  });
  const n = Number(values.requests);
  const rounds = Number(values.rounds);
  const receiver = await startReceiver();
  const fakes = await launchFakes('child');
  try {
    const origin = `http://127.0.0.1:${receiver.port}`;
    const agent = new Agent({ connections: 100, keepAliveTimeout: 30_000 });
    const body = JSON.stringify({ deliveryId: 'd', content: { text: 'x'.repeat(200) } });
    const headers = { 'content-type': 'application/json', 'clarion-delivery-id': 'd' };
    const h1Request: Send = async () => {
      const res = await agent.request({ origin, path: '/hook', method: 'POST', body, headers });
      await res.body.dump();
      return res.statusCode;
    };
    const h1Exchange: Send = async () =>
      (await exchange(agent, { origin, path: '/hook', method: 'POST', body, headers }, { keepBody: false }))
        .statusCode;

    const config = fcmConfig.parse(fakes.configs.fcm);
    const account = serviceAccount.parse(JSON.parse(config.serviceAccountJson ?? '{}'));
    const connect = config.caPem ? { ca: config.caPem } : {};
    const tokenDispatcher = new Agent({ connect });
    const tokens = new AccessTokens(
      account,
      config.tokenUrl ? { tokenUrl: config.tokenUrl, tokenDispatcher } : {},
    );
    const base = new URL(config.baseUrl);
    const pool = new Pool(base.origin, {
      allowH2: true,
      connections: 2,
      connect,
    });
    const path = `${base.pathname.replace(/\/$/, '')}/v1/projects/${account.project_id}/messages:send`;
    const fcmHeaders = {
      authorization: `Bearer ${await tokens.get()}`,
      'content-type': 'application/json; charset=utf-8',
    };
    const message = (i: number) =>
      JSON.stringify({
        message: {
          token: `bench${i}:APA91b${'x'.repeat(120)}`,
          notification: { title: 'Sale', body: '20 % off' },
        },
      });
    const h2Request: Send = async (i) => {
      const res = await pool.request({ path, method: 'POST', body: message(i), headers: fcmHeaders });
      JSON.parse(await res.body.text());
      return res.statusCode;
    };
    const h2Exchange: Send = async (i) => {
      const res = await exchange(pool, { path, method: 'POST', body: message(i), headers: fcmHeaders });
      JSON.parse(res.body.toString('utf8'));
      return res.statusCode;
    };

    const result: Record<string, number[]> = {
      h1_request: [],
      h1_exchange: [],
      h2_request: [],
      h2_exchange: [],
    };
    for (let round = 1; round <= rounds; round++) {
      result.h1_request!.push(await clientCpuPerRequest(h1Request, n, 100));
      result.h1_exchange!.push(await clientCpuPerRequest(h1Exchange, n, 100));
      result.h2_request!.push(await clientCpuPerRequest(h2Request, n, 200));
      result.h2_exchange!.push(await clientCpuPerRequest(h2Exchange, n, 200));
      process.stderr.write(
        `round ${round}: client µs per request: ${Object.entries(result)
          .map(([k, v]) => `${k} ${v.at(-1)!.toFixed(1)}`)
          .join(', ')}\n`,
      );
    }
    await agent.close();
    await pool.close();
    await tokenDispatcher.close();
    // Each figure's median over the rounds after the first (the first runs while V8 still compiles).
    const figures = Object.fromEntries(
      Object.entries(result).map(([k, v]) => [`${k}_us`, Math.round(median(v.slice(1)) * 10) / 10]),
    );
    process.stdout.write(`${JSON.stringify({ requests: n, rounds, ...figures })}\n`);
  } finally {
    receiver.proc.kill();
    await fakes.stop();
  }
}

if (process.argv[2] === 'receiver') {
  // Answers every request with a short 200 once its body is read.
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
