import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { checkAnswersFrom } from './checked-fetch';

/** Answers `GET /v1/users/:id` with a body the document does not declare, as a broken server would. */
function offContractServer(): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ nope: true }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}
const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;

describe('plain fetch to a registered server is checked against the OpenAPI document', () => {
  let broken: Server;
  let other: Server;
  before(async () => {
    broken = await offContractServer();
    other = await offContractServer();
  });
  after(() => {
    broken.close();
    other.close();
  });

  test('an answer off the document fails the fetch; other origins and unregistered servers are left alone', async () => {
    const stop = checkAnswersFrom(urlOf(broken));
    await assert.rejects(fetch(`${urlOf(broken)}/v1/users/alice`), {
      name: 'ContractViolation',
      message: /GET \/v1\/users\/alice .*200: the body does not match the document/,
    });
    await assert.rejects(fetch(new Request(`${urlOf(broken)}/v1/users/alice`)), {
      name: 'ContractViolation',
    });
    assert.equal((await fetch(`${urlOf(other)}/v1/users/alice`)).status, 200, 'not a server under test');
    stop();
    assert.equal((await fetch(`${urlOf(broken)}/v1/users/alice`)).status, 200, 'no longer checked');
  });
});
