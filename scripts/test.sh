#!/usr/bin/env bash
# Sets up everything the test suite needs on a fresh Debian machine and runs
# all tests. Idempotent: a second run skips the installs and goes straight to
# the tests.
#
#   scripts/test.sh                        # all tests, against verai
#   VERAI_E2E_NODE=anvil scripts/test.sh   # e2e tests against anvil instead
#   scripts/test.sh -p verai --test e2e_clients   # extra args go to nextest
#
# Needs: cargo + cargo-nextest (preinstalled on our machines), Node.js >= 20
# with npm (installed from Debian if missing), and the npm registry.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$repo"
# Physical path: npm mistakes a prefix reached through a symlink for a link.
e2e="$(cd "$repo/tests/e2e" && pwd -P)"

log() { printf '==> %s\n' "$*" >&2; }

# --- Node.js --------------------------------------------------------------
# Node 20+ is needed for `node --test` and ethers v6. Our machine images have
# it; on a bare Debian install it from Debian's packages (we run as root on CI).
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 || [ "$(node_major)" -lt 20 ]; then
    log "installing Node.js and npm from Debian"
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs npm >/dev/null
    if [ "$(node_major)" -lt 20 ]; then
        echo "error: Node.js >= 20 is required (found $(node --version 2>/dev/null || echo none))" >&2
        exit 1
    fi
fi

# --- Chromium and ChromeDriver (the explorer's browser tests) ------------------
# Debian's packages; the tests drive them over WebDriver and fail loudly without them.
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ]; then
    log "installing chromium and chromium-driver from Debian"
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium chromium-driver >/dev/null
fi

# --- npm packages (cast, anvil, ethers, solc-js) ---------------------------
# `npm ci` installs exactly package-lock.json. It is skipped when the lock
# file is unchanged since the last install: npm keeps a copy of the resolved
# tree in node_modules/.package-lock.json, and we keep a copy of the lock
# file we installed from. The cast/anvil binaries come from the platform
# packages (@foundry-rs/cast-linux-amd64 etc., optional dependencies), so no
# install script needs to run or download anything.
stamp="$e2e/node_modules/.verai-installed-lock.json"
installed() {
    [ -f "$stamp" ] && cmp -s "$e2e/package-lock.json" "$stamp" &&
        [ -x "$e2e/node_modules/@foundry-rs/cast-linux-amd64/bin/cast" ] &&
        [ -x "$e2e/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil" ] &&
        [ -f "$e2e/node_modules/ethers/package.json" ] &&
        [ -f "$e2e/node_modules/solc/package.json" ]
}
if ! installed; then
    log "npm ci --prefix tests/e2e"
    npm ci --prefix "$e2e" --no-audit --no-fund --loglevel=error
    cp "$e2e/package-lock.json" "$stamp"
else
    log "tests/e2e/node_modules is up to date"
fi

# --- contracts ---------------------------------------------------------------
# contracts/out/*.json are committed. On CI a stale artifact is an error (the
# committed one must match its source); locally it is simply rebuilt.
if [ "${CI:-}" = "true" ]; then
    log "checking contracts/out is fresh"
    node "$e2e/compile.mjs" --check
else
    node "$e2e/compile.mjs"
fi

# --- Rust tests ----------------------------------------------------------------
# --no-fail-fast: report every failing test, not just the first.
log "cargo nextest run --workspace --no-fail-fast $*"
cargo nextest run --workspace --no-fail-fast "$@"
