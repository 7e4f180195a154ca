import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPENAPI_FILE, openApiText, readOpenApiFile } from './openapi-file';

test('the committed libs/client/openapi.json is what the server generates', () => {
  assert.equal(
    readOpenApiFile(),
    openApiText(),
    `${OPENAPI_FILE} is out of date: run \`pnpm --filter @clarion/server build && pnpm --filter @clarion/server openapi:write\``,
  );
});
