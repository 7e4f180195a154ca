#!/usr/bin/env node
// `pnpm --filter @clarion/server docs:lifecycle` (after a build): rewrites the lifecycle diagram in
// docs/architecture.md from the transition table; lifecycle-diagram.test.ts fails while they differ.
import { ARCHITECTURE_PAGE, writeLifecycle } from './lifecycle-diagram';

const path = process.argv[2] ?? ARCHITECTURE_PAGE;
writeLifecycle(path);
console.log(`wrote ${path}`);
