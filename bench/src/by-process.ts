import type { ClarionProcess } from '@clarion/testkit';

/**
 * Each server process by its name in the figures, with `value` of it: the role (`api`, `worker`,
 * `all`), numbered by its place when the role runs more than once (`worker1`, `worker2`).
 */
export function byProcess<T>(
  roles: readonly string[],
  processes: readonly ClarionProcess[],
  value: (p: ClarionProcess) => T,
): Record<string, T> {
  return Object.fromEntries(
    roles.map((role, i) => [
      `${role}${roles.filter((r) => r === role).length > 1 ? i : ''}`,
      value(processes[i]!),
    ]),
  );
}
