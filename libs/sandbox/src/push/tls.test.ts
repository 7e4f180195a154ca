import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { sandboxTls } from './tls';

test('the sandbox certificate names the host other containers reach it by (compose: `sandbox`)', async () => {
  const { cert } = await sandboxTls('sandbox');
  const x509 = new X509Certificate(cert);
  assert.ok(x509.checkHost('sandbox'), x509.subjectAltName);
  assert.ok(x509.checkIP('127.0.0.1'), x509.subjectAltName);
  assert.equal(new X509Certificate((await sandboxTls()).cert).checkHost('sandbox'), undefined);
});
