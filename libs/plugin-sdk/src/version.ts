import { satisfies } from 'semver';
import { findPackageJson } from './package-info';

/** This SDK's version, read from its package.json (the one place it is written); plugins declare the range they support in `sdkVersion`, checked by the host. */
export const SDK_VERSION: string = String(findPackageJson(__dirname).json.version);

/**
 * Whether a plugin's `sdkVersion` range (`^0.1.0`, `~1.2.0`, `>=0.1 <0.3`, …) admits this SDK. An
 * invalid range admits nothing, and so does an empty one (for semver it would mean "any"): a
 * plugin must say which SDK it was built against.
 */
export function satisfiesSdkRange(range: string, version = SDK_VERSION): boolean {
  return range.trim() !== '' && satisfies(version, range);
}
