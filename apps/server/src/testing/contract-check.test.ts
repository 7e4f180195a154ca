import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contractProblem } from './contract-check';

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
const ID = '0193a1c2-7b8e-7c3d-9f00-1a2b3c4d5e6f';

describe('answers are checked against the OpenAPI document', () => {
  test('a declared status with a matching body passes', async () => {
    const res = json(202, { id: ID, status: 'accepted', deliveries: 1, suppressed: 0 });
    assert.equal(await contractProblem('POST', '/v1/notifications', res), null);
  });

  test('a status the route does not declare is a violation', async () => {
    const problem = await contractProblem('POST', '/v1/notifications', json(418, {}));
    assert.match(problem ?? '', /answered 418, which the document does not declare/);
  });

  test('a body that does not match the declared schema is a violation naming the field', async () => {
    const problem = await contractProblem('POST', '/v1/notifications', json(202, { id: ID, status: 'sent' }));
    assert.match(problem ?? '', /\/status must be equal to one of the allowed values/);
    const extra = await contractProblem('GET', `/v1/users/alice?x=1`, json(404, { error: { code: 'x' } }));
    assert.match(extra ?? '', /must have required property 'message'/);
  });

  test('an undocumented field in an answer is a violation', async () => {
    const problem = await contractProblem(
      'POST',
      `/v1/notifications/${ID}/cancel`,
      json(200, { id: ID, status: 'canceled', canceled: 1, inFlight: 0, steps: 0, secret: 'x' }),
    );
    assert.match(problem ?? '', /must NOT have additional properties/);
  });

  test('the most literal path wins and paths outside the document are not checked', async () => {
    const res = json(200, {
      dryRun: true,
      matched: 0,
      redriven: 0,
      suppressed: 0,
      skipped: 0,
      nextCursor: null,
    });
    assert.equal(await contractProblem('POST', '/v1/deliveries/redrive', res), null);
    assert.equal(await contractProblem('GET', '/nowhere', json(404, {})), null);
  });
});
