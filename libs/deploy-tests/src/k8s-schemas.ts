// biome-ignore-all lint/suspicious/noExplicitAny: rendered manifests and parsed YAML are untyped JSON
// Validates rendered objects with the kubernetes-models validators (Kubernetes OpenAPI, KEDA and
// Prometheus-operator CRD schemas). Those validators check types, enums and required fields but
// let unknown fields through, so each object is also walked through a Proxy that records which
// fields the validator looked at: a field the schema knows is always read, so a field never read
// in an object whose other fields were read is not in the schema (a typo such as readinesProbe).
// Objects none of whose fields were read are free-form (labels, trigger metadata) and skipped.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type Validate = ((data: unknown) => boolean) & {
  errors?: Array<{ instancePath: string; keyword?: string; message?: string; params?: unknown }> | null;
};

const groups: Record<string, { pkg: string; dir: string }> = {
  v1: { pkg: 'kubernetes-models', dir: 'v1' },
  'apps/v1': { pkg: 'kubernetes-models', dir: 'apps/v1' },
  'batch/v1': { pkg: 'kubernetes-models', dir: 'batch/v1' },
  'policy/v1': { pkg: 'kubernetes-models', dir: 'policy/v1' },
  'autoscaling/v2': { pkg: 'kubernetes-models', dir: 'autoscaling/v2' },
  'networking.k8s.io/v1': { pkg: 'kubernetes-models', dir: 'networking.k8s.io/v1' },
  'keda.sh/v1alpha1': { pkg: '@kubernetes-models/keda', dir: 'keda.sh/v1alpha1' },
  'monitoring.coreos.com/v1': {
    pkg: '@kubernetes-models/prometheus-operator',
    dir: 'monitoring.coreos.com/v1',
  },
};

const dynamicImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

const cache = new Map<string, Validate>();

/** The compiled validator behind kubernetes-models' model class for apiVersion/kind. */
async function validatorFor(apiVersion: string, kind: string): Promise<Validate> {
  const group = groups[apiVersion];
  if (!group) throw new Error(`no schema known for apiVersion ${apiVersion} (kind ${kind})`);
  const key = `${apiVersion}/${kind}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const modelFile = join(__dirname, '..', 'node_modules', group.pkg, group.dir, `${kind}.js`);
  if (!existsSync(modelFile)) throw new Error(`no model ${kind} in ${group.pkg}/${group.dir}`);
  const match = /from"((?:\.\.\/)+_schemas\/[A-Za-z0-9]+\.js)"/.exec(readFileSync(modelFile, 'utf8'));
  if (!match) throw new Error(`cannot find the schema module of ${modelFile}`);
  const mod = await dynamicImport(pathToFileURL(resolve(dirname(modelFile), match[1] ?? '')).href);
  cache.set(key, mod.validate as Validate);
  return mod.validate as Validate;
}

interface Seen {
  path: string;
  keys: string[];
  accessed: Set<string>;
}

function track(value: unknown, path: string, seen: Seen[]): unknown {
  if (Array.isArray(value)) return value.map((v, i) => track(v, `${path}/${i}`, seen));
  if (value === null || typeof value !== 'object') return value;
  const accessed = new Set<string>();
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) copy[k] = track(v, `${path}/${k}`, seen);
  seen.push({ path, keys: Object.keys(copy), accessed });
  const note = (p: string | symbol) => {
    if (typeof p === 'string') accessed.add(p);
  };
  return new Proxy(copy, {
    get(target, p, receiver) {
      note(p);
      return Reflect.get(target, p, receiver);
    },
    has(target, p) {
      note(p);
      return Reflect.has(target, p);
    },
    getOwnPropertyDescriptor(target, p) {
      note(p);
      return Reflect.getOwnPropertyDescriptor(target, p);
    },
  });
}

/** Problems of one object: schema errors and unknown fields; empty when valid. */
export async function check(obj: { apiVersion: string; kind: string }): Promise<string[]> {
  const validate = await validatorFor(obj.apiVersion, obj.kind);
  const seen: Seen[] = [];
  const tracked = track(obj, '', seen);
  const problems: string[] = [];
  if (!validate(tracked)) {
    for (const e of validate.errors ?? [])
      problems.push(`${e.instancePath || '/'}: ${e.message ?? `${e.keyword} ${JSON.stringify(e.params)}`}`);
  }
  for (const s of seen) {
    if (s.accessed.size === 0) continue; // free-form map
    const unknown = s.keys.filter((k) => !s.accessed.has(k));
    for (const k of unknown) problems.push(`${s.path}/${k}: unknown field`);
  }
  return problems;
}
