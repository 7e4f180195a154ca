/**
 * The server's processes run with the heap caps the image sets (deploy/Dockerfile's NODE_OPTIONS),
 * unless the caller's NODE_OPTIONS names one (as a deployment's replaces the image's): RSS per process is measured as deployed. Uncapped,
 * V8 grows the heap lazily and collects late: the transactional worker peaked at 474 MB, against
 * 325 MB capped (the figure its pod sees).
 */
const IMAGE_HEAP_CAP = '--max-old-space-size=256 --max-semi-space-size=32';

export const withImageHeapCap = (options = ''): string =>
  /--max-(old|semi)-space-size/.test(options) ? options : `${options} ${IMAGE_HEAP_CAP}`.trim();

/**
 * The V8 flags the image's entry point gives node (deploy/Dockerfile's ENTRYPOINT): they cannot go
 * in NODE_OPTIONS. `BENCH_NODE_ARGS` replaces them (space-separated; empty for V8's defaults).
 */
export const imageNodeArgs = (): string[] =>
  (process.env.BENCH_NODE_ARGS ?? '--heap-growing-percent=60').split(' ').filter((a) => a !== '');
