// The one-script-tag build: the ES module (one file, no imports) wrapped so it defines
// `window.ClarionInbox` instead of exporting. No bundler needed while the client stays one file.
import { readFileSync, writeFileSync } from 'node:fs';

const source = readFileSync(new URL('../dist/inbox.js', import.meta.url), 'utf8');
if (/^\s*import\s/m.test(source))
  throw new Error('dist/inbox.js imports something: the IIFE build expects one file');
const names = [];
const body = source
  .replace(/^export (?:async )?(?:function|class|const) (\w+)/gm, (match, name) => {
    names.push(name);
    return match.slice('export '.length);
  })
  .replace(/^export \{\};?$/m, '');
if (/^export\s/m.test(body)) throw new Error('an export form the IIFE build does not know');
writeFileSync(
  new URL('../dist/inbox.iife.js', import.meta.url),
  `/* @clarion/inbox (IIFE): window.ClarionInbox */\n(function (global) {\n'use strict';\n${body}\nglobal.ClarionInbox = { ${names.join(', ')} };\n})(typeof window !== 'undefined' ? window : globalThis);\n`,
);
console.log(`dist/inbox.iife.js: ClarionInbox = { ${names.join(', ')} }`);
