import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DELIVERY_STATUSES, type DeliveryStatus } from './delivery-status';
import { ENTRIES, TRANSITIONS } from './transitions';

/** The architecture page; the diagram lives between these markers, the rest of the page is written by hand. */
export const ARCHITECTURE_PAGE = join(__dirname, '..', '..', '..', '..', 'docs', 'architecture.md');
export const LIFECYCLE_START = '<!-- lifecycle:start -->';
export const LIFECYCLE_END = '<!-- lifecycle:end -->';

/** Statuses nothing moves on from. */
const finals = (): DeliveryStatus[] =>
  DELIVERY_STATUSES.filter((s) => Object.keys(TRANSITIONS[s]).length === 0);

/**
 * The delivery lifecycle as a mermaid state diagram: one arrow per status a delivery is first
 * stored with, labelled with the paths that store it so (ENTRIES), then one per (from, to),
 * labelled with its writers.
 */
export function lifecycleMermaid(): string {
  const lines = ['stateDiagram-v2'];
  for (const s of DELIVERY_STATUSES) {
    const paths = ENTRIES[s];
    if (paths && paths.length > 0) lines.push(`  [*] --> ${s}: ${paths.join(', ')}`);
  }
  for (const from of DELIVERY_STATUSES)
    for (const to of DELIVERY_STATUSES) {
      const writers = TRANSITIONS[from][to];
      if (writers && writers.length > 0) lines.push(`  ${from} --> ${to}: ${writers.join(', ')}`);
    }
  for (const s of finals()) lines.push(`  ${s} --> [*]`);
  return lines.join('\n');
}

/** The block between the markers, as generated. */
export function lifecycleBlock(): string {
  return [
    LIFECYCLE_START,
    '<!-- generated from apps/server/src/deliveries/transitions.ts by `pnpm --filter @clarion/server docs:lifecycle`; do not edit -->',
    '```mermaid',
    lifecycleMermaid(),
    '```',
    LIFECYCLE_END,
  ].join('\n');
}

/** `page` with its lifecycle block replaced by the generated one (appended when the page has no markers). */
export function withLifecycle(page: string): string {
  const start = page.indexOf(LIFECYCLE_START);
  const end = page.indexOf(LIFECYCLE_END);
  if (start < 0 || end < start) return `${page.trimEnd()}\n\n${lifecycleBlock()}\n`;
  return page.slice(0, start) + lifecycleBlock() + page.slice(end + LIFECYCLE_END.length);
}

/** Rewrites the page's lifecycle block; creates the page with a heading and the block when it is missing. */
export function writeLifecycle(path = ARCHITECTURE_PAGE): void {
  const page = existsSync(path) ? readFileSync(path, 'utf8') : '# Architecture\n';
  writeFileSync(path, withLifecycle(page));
}
