/** Kept in step with package.json (reported in logs and checked by the host). */
export const version = '0.1.0';
