import { anyCause } from '../common/error-causes';

/**
 * PostgreSQL refused a value, not the work: data exceptions (class 22: a character it cannot
 * store, a number out of range) and integrity violations (class 23: a row that points at a user
 * deleted meanwhile). Another batch without that value would succeed, so a batcher may split.
 */
export function isRefusedValue(error: unknown): boolean {
  return anyCause(error, (e) => typeof e.code === 'string' && /^2[23][0-9A-Z]{3}$/.test(e.code));
}

/**
 * An error that one item of a batch may have caused: a value PostgreSQL refused, or one that
 * could not be turned into a statement parameter (JSON.stringify's RangeError on a value too deep
 * for the stack, its TypeError on a cycle or a BigInt). Splitting the batch then fails that item alone.
 */
export function isItemError(error: unknown): boolean {
  return error instanceof RangeError || error instanceof TypeError || isRefusedValue(error);
}
