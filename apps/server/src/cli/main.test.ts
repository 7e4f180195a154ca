import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { test } from 'node:test';

const main = join(__dirname, 'main.js');

test('`clarion sandbox` serves the fake providers (loaded only by this command, never by `clarion start`)', async () => {
  const child = spawn(process.execPath, [main, 'sandbox', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "listening" line; output: ${out}`)), 15_000);
      child.stdout.on('data', () => {
        const m = /sandbox listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const page = await fetch(url);
    assert.equal(page.status, 200);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});
