#!/usr/bin/env node
// `pnpm --filter @clarion/server errors:write` (after a build): rewrites docs/errors.md from the
// error catalog; error-catalog.test.ts fails while the two differ.
import { ERRORS_DOC, writeErrorsDoc } from './errors-doc';

writeErrorsDoc();
console.log(`wrote ${ERRORS_DOC}`);
