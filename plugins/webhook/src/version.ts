import { readPluginPackage } from '@clarion/plugin-sdk';

/** Name, version and SDK range, from package.json (the one place they are written). */
export const pkg = readPluginPackage(__dirname);
