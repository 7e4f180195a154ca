import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { refusedAddress } from './address';
import { GuardedHttpsAgent, guardedUndiciAgent } from './agents';
import type { Resolve } from './lookup';
import { outboundPolicy, STRICT_OUTBOUND } from './policy';
import { OutboundRefusedError, outboundRefusal } from './refused-error';
import { refusedUrl } from './url';

const PRIVATE = outboundPolicy({ allowPrivate: true });

describe('refusedUrl (input-time check)', () => {
  const refused = [
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_INFO',
    'ftp://example.com/',
    'http://127.0.0.1@example.com/',
    'https://user:pw@example.com/',
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://0177.0.0.1/',
    'http://0.0.0.0/',
    'http://0/',
    'https://169.254.169.254/latest/meta-data/',
    'https://10.0.0.1:8443/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://224.0.0.1/',
    'http://255.255.255.255/',
    'http://[::1]/',
    'http://[::]/',
    'http://[fc00::1]/',
    'http://[fd12:3456::1]/',
    'http://[fe80::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::ffff:10.0.0.1]/',
    'http://[64:ff9b::a00:1]/',
    'http://localhost:3000/',
    'http://api.localhost/',
    'http://LOCALHOST./',
    'not a url',
  ];
  for (const url of refused) {
    it(`refuses ${url}`, () => assert.notEqual(refusedUrl(url, STRICT_OUTBOUND), undefined));
  }
  for (const url of [
    'https://example.com/hook',
    'http://93.184.216.34:8080/x',
    'https://[2606:4700::1111]/',
  ]) {
    it(`accepts ${url}`, () => assert.equal(refusedUrl(url, STRICT_OUTBOUND), undefined));
  }

  it('allowPrivate opens loopback, private, link-local and CGNAT but not metadata, 0.0.0.0 or multicast', () => {
    for (const url of [
      'http://127.0.0.1:4010/webhook',
      'http://localhost:4010/',
      'https://10.0.0.1:8443/',
      'http://[::1]/',
      'http://100.64.0.1/',
    ])
      assert.equal(refusedUrl(url, PRIVATE), undefined, url);
    for (const url of ['http://169.254.169.254/', 'http://0.0.0.0/', 'http://224.0.0.1/', 'file:///x'])
      assert.notEqual(refusedUrl(url, PRIVATE), undefined, url);
  });

  it('an allow-list opens exactly the networks and names it lists', () => {
    const policy = outboundPolicy({ allow: ['10.1.0.0/16', 'hooks.internal', '169.254.169.254'] });
    assert.equal(refusedUrl('http://10.1.2.3/', policy), undefined);
    assert.notEqual(refusedUrl('http://10.2.0.1/', policy), undefined);
    assert.equal(refusedUrl('http://169.254.169.254/', policy), undefined);
    assert.equal(refusedAddress('::ffff:10.1.0.9', policy), undefined);
    assert.throws(() => outboundPolicy({ allow: ['10.0.0.0/99'] }));
    assert.throws(() => outboundPolicy({ allow: ['not a host!'] }));
  });

  it('answers are remembered per policy: the same URL is judged by each policy on its own, and past 10,000 URLs each is still judged', () => {
    const url = 'http://127.0.0.1:4010/webhook';
    for (let round = 0; round < 2; round++) {
      assert.equal(refusedUrl(url, PRIVATE), undefined);
      assert.notEqual(refusedUrl(url, STRICT_OUTBOUND), undefined);
    }
    // More distinct URLs than the memo keeps, each twice: refused and allowed alike stay right.
    for (let i = 0; i < 10_050; i++) {
      const loopback = `http://127.0.0.1:${1024 + (i % 60_000)}/r${i}`;
      const metadata = `http://169.254.169.254/r${i}`;
      for (let round = 0; round < 2; round++) {
        assert.equal(refusedUrl(loopback, PRIVATE), undefined, loopback);
        assert.notEqual(refusedUrl(metadata, PRIVATE), undefined, metadata);
      }
    }
  });
});

describe('guarded connections (real sockets)', () => {
  let server: http.Server;
  let port = 0;
  let hits = 0;
  before(async () => {
    server = http.createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  async function post(url: string, policy = STRICT_OUTBOUND, resolve?: Resolve) {
    const agent = guardedUndiciAgent({}, policy, resolve);
    try {
      const res = await request(url, { method: 'POST', body: '{}', dispatcher: agent });
      await res.body.dump();
      return res.statusCode;
    } finally {
      await agent.close();
    }
  }

  it('refuses a literal loopback IP and a name resolving to loopback before connecting', async () => {
    const before = hits;
    for (const url of [
      `http://127.0.0.1:${port}/`,
      `http://localhost:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
    ]) {
      const error = await post(url).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(outboundRefusal(error) instanceof OutboundRefusedError, `${url}: ${String(error)}`);
    }
    assert.equal(hits, before, 'nothing reached the server');
  });

  it('connects to loopback when the operator allows private targets', async () => {
    assert.equal(await post(`http://127.0.0.1:${port}/`, PRIVATE), 200);
    assert.equal(await post(`http://localhost:${port}/`, PRIVATE), 200);
  });

  it('connects to the address it checked: a name is resolved once, by the guard', async () => {
    const asked: string[] = [];
    const toLoopback: Resolve = (name, cb) => {
      asked.push(name);
      cb(null, [{ address: '127.0.0.1', family: 4 }]);
    };
    // receiver.test exists in no DNS: reaching the server proves the guard's answer is the one used.
    const allowLoopback = outboundPolicy({ allow: ['127.0.0.1'] });
    assert.equal(await post(`http://receiver.test:${port}/`, allowLoopback, toLoopback), 200);
    assert.deepEqual(asked, ['receiver.test']);

    const mixed: Resolve = (_name, cb) =>
      cb(null, [
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.1', family: 4 },
      ]);
    const error = await post(`http://rebind.test:${port}/`, STRICT_OUTBOUND, mixed).catch((e: unknown) => e);
    assert.match(String(outboundRefusal(error)?.message), /10\.0\.0\.1 is a private address/);
  });

  it('the https agent refuses what the host resolves to, whatever parsed the URL', async () => {
    const agent = new GuardedHttpsAgent({}, STRICT_OUTBOUND);
    try {
      for (const url of [`https://127.0.0.1:${port}/`, `https://localhost:${port}/`]) {
        const error = await new Promise((resolve) => {
          https.get(url, { agent }, () => resolve(undefined)).on('error', resolve);
        });
        assert.ok(outboundRefusal(error), `${url}: ${String(error)}`);
      }
    } finally {
      agent.destroy();
    }
  });
});
