import { satisfies } from 'semver';

/**
 * This SDK's version; plugins declare the range they support in `sdkVersion`, checked by the host.
 * Nothing generates it: bump it with package.json's `version` (version.test.ts fails while they differ).
 */
export const SDK_VERSION = '0.1.4';

/**
 * Whether a plugin's `sdkVersion` range (`^0.1.0`, `~1.2.0`, `>=0.1 <0.3`, …) admits this SDK. An
 * invalid range admits nothing, and so does an empty one (for semver it would mean "any"): a
 * plugin must say which SDK it was built against.
 */
export function satisfiesSdkRange(range: string, version = SDK_VERSION): boolean {
  return range.trim() !== '' && satisfies(version, range);
}
