import { anyCause } from '../common/error-causes';
import { isDatabaseUnavailable } from '../common/unavailable';

/**
 * What an operator should read when a CLI command fails at the database, or undefined when the
 * error is something else (printed in full). A missing table means migrations have not run.
 */
export function databaseProblem(error: unknown): string | undefined {
  const message = (error as Error)?.message ?? String(error);
  if (isDatabaseUnavailable(error)) return `cannot reach PostgreSQL at DATABASE_URL: ${message}`;
  if (anyCause(error, (e) => e.code === '42P01'))
    return `the database has no Clarion tables yet (${message}): run \`clarion migrate\` first`;
  if (anyCause(error, (e) => e.code === '3D000' || e.code === '28P01' || e.code === '28000'))
    return `PostgreSQL refused DATABASE_URL: ${message}`;
  return undefined;
}
