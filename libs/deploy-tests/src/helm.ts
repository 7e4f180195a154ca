// biome-ignore-all lint/suspicious/noExplicitAny: rendered manifests and parsed YAML are untyped JSON
import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { chartDir, helmBin } from './paths';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: any;
  data?: Record<string, string>;
  [key: string]: any;
}

export interface RenderResult {
  ok: boolean;
  stderr: string;
  objects: K8sObject[];
}

/** `helm template` (or the stand-in) of deploy/helm/clarion; extra args are passed as they are. */
export function render(
  args: string[] = [],
  release = 'clarion',
  namespace = 'clarion',
  chart = chartDir,
): RenderResult {
  const bin = helmBin();
  // helm-render takes helm template's arguments without the `template` verb.
  const verb = basename(bin).startsWith('helm-render') ? [] : ['template'];
  const out = spawnSync(bin, [...verb, release, chart, '--namespace', namespace, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (out.status !== 0) return { ok: false, stderr: out.stderr, objects: [] };
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(out.stdout)) {
    if (doc.errors.length > 0) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
    const value = doc.toJS();
    if (value) objects.push(value as K8sObject);
  }
  return { ok: true, stderr: out.stderr, objects };
}

export function mustRender(args: string[] = [], release?: string, namespace?: string): K8sObject[] {
  const result = render(args, release, namespace);
  if (!result.ok) throw new Error(`chart did not render:\n${result.stderr}`);
  return result.objects;
}

export function find(objects: K8sObject[], kind: string, name?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
}

export function one(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = find(objects, kind, name);
  if (found.length !== 1) {
    throw new Error(
      `expected one ${kind} ${name}, found ${found.length} (have: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`,
    );
  }
  return found[0] as K8sObject;
}
