import { onClarionStarted } from '@clarion/testkit';
import { assertAnswerMatches } from './contract-check';

/**
 * Every answer a test gets from a Clarion server it started is checked against the OpenAPI
 * document, also when the test calls plain `fetch`: the harness and the process helpers register
 * the server's origin, and a wrapper around `globalThis.fetch` checks answers from those origins.
 */
const checked = new Map<string, number>();
let plain: typeof fetch | undefined;

/** The `fetch` underneath the wrapper (for clients that check answers themselves). */
export function uncheckedFetch(): typeof fetch {
  return plain ?? globalThis.fetch;
}

function requestOf(input: Parameters<typeof fetch>[0], init: RequestInit | undefined): [string, string] {
  const request = input instanceof Request ? input : undefined;
  const url = request?.url ?? (input instanceof URL ? input.href : String(input));
  return [init?.method ?? request?.method ?? 'GET', url];
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

function install(): void {
  if (plain) return;
  const underlying = globalThis.fetch;
  plain = underlying;
  globalThis.fetch = async (input, init) => {
    const res = await underlying(input, init);
    const [method, url] = requestOf(input, init);
    const origin = originOf(url);
    if (origin === undefined || !checked.has(origin)) return res;
    return assertAnswerMatches(method, url, res);
  };
}

/**
 * From now on every answer from `baseUrl`'s origin is checked; the returned function stops it
 * (call it when the server stops: another program may take the port).
 */
export function checkAnswersFrom(baseUrl: string): () => void {
  const origin = originOf(baseUrl);
  if (origin === undefined) throw new Error(`checkAnswersFrom: not a URL: ${baseUrl}`);
  install();
  checked.set(origin, (checked.get(origin) ?? 0) + 1);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const left = (checked.get(origin) ?? 1) - 1;
    if (left > 0) checked.set(origin, left);
    else checked.delete(origin);
  };
}

/** Whether answers from this URL's origin are being checked (for the wrapper's own test). */
export function isChecked(url: string): boolean {
  const origin = originOf(url);
  return origin !== undefined && checked.has(origin);
}

// Processes started through @clarion/testkit are Clarion servers too.
onClarionStarted(checkAnswersFrom);
