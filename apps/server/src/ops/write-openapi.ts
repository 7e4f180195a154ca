#!/usr/bin/env node
// `pnpm --filter @clarion/server openapi:write` (after a build): rewrites libs/client/openapi.json
// from the server's document; openapi-file.test.ts fails while the two differ.
import { OPENAPI_FILE, writeOpenApiFile } from './openapi-file';

const path = process.argv[2] ?? OPENAPI_FILE;
writeOpenApiFile(path);
console.log(`wrote ${path}`);
