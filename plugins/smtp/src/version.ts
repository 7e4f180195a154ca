/** Kept in step with package.json by the release script (changesets). */
export const PLUGIN_VERSION = '0.1.0';
