import { anyCause } from '../common/error-causes';

/**
 * PostgreSQL refused a value, not the work: data exceptions (class 22: a character it cannot
 * store, a number out of range) and integrity violations (class 23: a row that points at a user
 * deleted meanwhile). Another batch without that value would succeed, so a batcher may split.
 */
export function isRefusedValue(error: unknown): boolean {
  return anyCause(error, (e) => typeof e.code === 'string' && /^2[23][0-9A-Z]{3}$/.test(e.code));
}
