/** This SDK's version; plugins declare the range they support in `sdkVersion`, checked by the host. */
export const SDK_VERSION = '0.1.2';

/** Minimal caret/tilde/exact range check, enough for `^x.y.z`, `~x.y.z` and `x.y.z` (no prerelease tags). */
export function satisfiesSdkRange(range: string, version = SDK_VERSION): boolean {
  const parse = (v: string) =>
    v
      .replace(/^[\^~]/, '')
      .split('.')
      .map((n) => Number.parseInt(n, 10));
  const [rM = 0, rm = 0, rp = 0] = parse(range);
  const [vM = 0, vm = 0, vp = 0] = parse(version);
  const atLeast = vM > rM || (vM === rM && (vm > rm || (vm === rm && vp >= rp)));
  if (!atLeast) return false;
  if (range.startsWith('^')) return rM > 0 ? vM === rM : vm === rm && (rm > 0 || vp === rp);
  if (range.startsWith('~')) return vM === rM && vm === rm;
  return vM === rM && vm === rm && vp === rp;
}
