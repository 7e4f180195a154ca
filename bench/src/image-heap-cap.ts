import { imageNode } from '@clarion/testkit';

/**
 * The server's processes run with the heap caps the image sets (deploy/Dockerfile's NODE_OPTIONS,
 * read from it), unless the caller's NODE_OPTIONS names one (as a deployment's replaces the
 * image's): RSS per process is measured as deployed. Uncapped, V8 grows the heap lazily and
 * collects late: the transactional worker peaked at 474 MB, against 325 MB capped (the figure its
 * pod sees).
 */
export const withImageHeapCap = (options = ''): string =>
  /--max-(old|semi)-space-size/.test(options) ? options : `${options} ${imageNode().nodeOptions}`.trim();

/**
 * The V8 flags the image's entry point gives node (deploy/Dockerfile's ENTRYPOINT): they cannot go
 * in NODE_OPTIONS. `BENCH_NODE_ARGS` replaces them (space-separated; empty for V8's defaults).
 */
export const imageNodeArgs = (): string[] =>
  process.env.BENCH_NODE_ARGS === undefined
    ? imageNode().nodeArgs
    : process.env.BENCH_NODE_ARGS.split(' ').filter((a) => a !== '');
