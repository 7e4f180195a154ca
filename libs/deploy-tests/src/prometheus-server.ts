// A real Prometheus (Debian package) for tests: generated config scraping the given targets on
// 127.0.0.1, a free port, its own data directory, and the HTTP API to run queries.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@clarion/testkit';
import { prometheusTool } from './paths';

export interface Target {
  job: string;
  /** host:port, on 127.0.0.1 */
  address: string;
}

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
  logs(): string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPrometheus(
  targets: Target[],
  opts: { scrapeInterval?: string; ruleFiles?: string[] } = {},
): Promise<RunningPrometheus> {
  const bin = prometheusTool('prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'clarion-prometheus-'));
  const jobs = new Map<string, string[]>();
  for (const t of targets) jobs.set(t.job, [...(jobs.get(t.job) ?? []), t.address]);
  const config = {
    global: {
      scrape_interval: opts.scrapeInterval ?? '1s',
      evaluation_interval: opts.scrapeInterval ?? '1s',
    },
    rule_files: opts.ruleFiles ?? [],
    scrape_configs: [...jobs].map(([job, addresses]) => ({
      job_name: job,
      scrape_timeout: '1s',
      static_configs: [{ targets: addresses }],
    })),
  };
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
  const port = await freePort();
  let output = '';
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}:\n${output}`);
    }
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not yet listening
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready:\n${output}`);
    }
    await sleep(100);
  }
  return { url, stop, logs: () => output };
}

/** Waits until every target of the given jobs is up. */
export async function waitForTargetsUp(url: string, jobs: string[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const body = (await (await fetch(`${url}/api/v1/targets?state=active`)).json()) as {
      data: { activeTargets: Array<{ labels: { job: string }; health: string; lastError: string }> };
    };
    const targets = body.data.activeTargets.filter((t) => jobs.includes(t.labels.job));
    last = JSON.stringify(targets.map((t) => [t.labels.job, t.health, t.lastError]));
    if (jobs.every((j) => targets.some((t) => t.labels.job === j)) && targets.every((t) => t.health === 'up'))
      return;
    if (Date.now() > deadline) throw new Error(`targets not up after ${timeoutMs} ms: ${last}`);
    await sleep(250);
  }
}

export interface QueryResult {
  status: string;
  error?: string;
  data?: { resultType: string; result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

export async function query(url: string, expr: string): Promise<QueryResult> {
  const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  return (await response.json()) as QueryResult;
}

/** A Grafana query made runnable: built-in intervals become 1m, dashboard variables match everything. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}|\$__range|\$\{__range\}/g, '1m')
    .replace(/\$__interval|\$\{__interval\}/g, '15s')
    .replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, '.*');
}
