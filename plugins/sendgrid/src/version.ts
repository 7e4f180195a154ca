/** Must equal package.json's version: bump both together (libs/plugin-sdk/src/version.test.ts checks). */
export const PLUGIN_VERSION = '0.1.0';
