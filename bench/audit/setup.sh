#!/usr/bin/env bash
# Installs the peers of the auditor benchmark under bench/audit/.peers (git-ignored):
# Slither and Mythril (PyPI) in venvs, and solc-js versions (npm) with a `solc`
# wrapper per version (see ../shared/peers/README.md: no compiler downloads here).
# Idempotent; about 3 minutes the first time.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
peers="$here/.peers"
mkdir -p "$peers/bin"
cd "$peers"

# Two venvs: their pinned dependencies conflict.
if [ ! -x slither/bin/slither ]; then
    python3 -m venv slither
    slither/bin/pip install -q slither-analyzer==0.11.6
fi
if [ ! -x mythril/bin/myth ]; then
    python3 -m venv mythril
    mythril/bin/pip install -q mythril==0.24.8
fi

# solc-js versions used by the curated set (versions.csv), 0.4.12+ only: Slither
# loses results with older compilers, so older pragmas compile with 0.4.26.
versions="0.4.13 0.4.15 0.4.16 0.4.18 0.4.19 0.4.21 0.4.22 0.4.23 0.4.24 0.4.25 0.4.26 0.5.0"
pkgs=()
for v in $versions; do
    alias="solc${v//./}"
    [ -f "node_modules/$alias/package.json" ] || pkgs+=("$alias@npm:solc@$v")
done
if [ ${#pkgs[@]} -gt 0 ]; then
    [ -f package.json ] || echo '{"name":"audit-peers","private":true}' > package.json
    npm install --no-audit --no-fund --loglevel=error "${pkgs[@]}"
fi
cp "$here/../../../shared/peers/solcwrap.js" "$peers/solcwrap.js" 2>/dev/null ||
    cp /work/shared/peers/solcwrap.js "$peers/solcwrap.js"
for v in $versions; do
    alias="solc${v//./}"
    printf '#!/bin/sh\nSOLCJS_PKG=%s exec node %s/solcwrap.js "$@"\n' "$alias" "$peers" > "bin/solc-$v"
    chmod +x "bin/solc-$v"
    # Mythril looks compilers up as solc-vX.Y.Z in SOLCX_BINARY_PATH.
    ln -sf "solc-$v" "bin/solc-v$v"
done
echo "peers ready in $peers"
