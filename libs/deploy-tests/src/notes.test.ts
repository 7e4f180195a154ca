import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { one, render } from './helm';
import { chartDir } from './paths';

/**
 * NOTES.txt as `helm install` prints it. helm template (and the stand-in) execute NOTES but do
 * not print it, so a temporary copy of the chart renders the same text into a ConfigMap.
 * Not covered: the `lookup` check of existingSecret keys needs a cluster (offline, lookup is empty).
 */
describe('the chart’s NOTES', () => {
  let chart: string;
  before(() => {
    chart = join(mkdtempSync(join(tmpdir(), 'clarion-notes-')), 'clarion');
    cpSync(chartDir, chart, { recursive: true });
    const notes = readFileSync(join(chart, 'templates', 'NOTES.txt'), 'utf8');
    writeFileSync(
      join(chart, 'templates', '_notes-check.tpl'),
      `{{- define "notes-check" -}}\n${notes}{{- end }}\n`,
    );
    writeFileSync(
      join(chart, 'templates', 'notes-check.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-check\ndata:\n  notes: {{ include "notes-check" . | toJson }}\n',
    );
  });
  after(() => rmSync(join(chart, '..'), { recursive: true, force: true }));

  const notes = (args: string[] = []): string => {
    const result = render(args, 'clarion', 'clarion', chart);
    assert.ok(result.ok, result.stderr);
    return one(result.objects, 'ConfigMap', 'notes-check').data!.notes!;
  };

  test('with existing Secrets (the default), it says to create them before install, first of all', () => {
    const text = notes();
    const lines = text.split('\n').filter((l) => l.trim());
    assert.match(lines[0]!, /is installed as release clarion in namespace clarion/);
    // Right after the banner: the Secrets, before anything that presumes a running release.
    assert.match(lines[1]!, /must exist BEFORE `helm install` \/ `helm upgrade`/, text);
    const listed = lines.slice(2).filter((l) => l.startsWith('  - '));
    for (const key of ['database-url', 'redis-url', 'admin-token', 'encryption-key'])
      assert.ok(
        listed.some((l) => l === `  - clarion (key ${key})`),
        `${key} is listed: ${text}`,
      );
    const secretsAt = text.indexOf('must exist BEFORE');
    for (const later of ['kubectl', 'Worker pools:', 'Database migrations run'])
      assert.ok(text.indexOf(later) > secretsAt, `${later} comes after the Secrets`);
    assert.doesNotMatch(text, /after (the )?(helm )?install/i);
    assert.doesNotMatch(text, /<no value>/);
  });

  test('values given inline need no Secret, and NOTES asks for none', () => {
    const text = notes([
      '--set',
      'database.url=postgres://u:p@db/clarion',
      '--set',
      'redis.url=redis://redis:6379',
      '--set',
      'adminToken.value=an-admin-token-long-enough',
      '--set',
      `encryptionKey.value=${Buffer.alloc(32, 1).toString('base64')}`,
    ]);
    assert.doesNotMatch(text, /must exist BEFORE/);
    assert.match(text, /Database migrations run as the hook Job/);
  });
});
