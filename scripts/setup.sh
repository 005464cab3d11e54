#!/usr/bin/env bash
# Installs everything the build and the tests need, idempotently (a second run takes seconds):
# the wasm32 toolchain, Trunk, wasm-bindgen-cli and wasm-opt at pinned versions (via
# setup-toolchain.sh), Debian's Chromium, and the end-to-end tests' npm packages from their lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

# The wasm-bindgen crate version in Cargo.lock decides which wasm-bindgen-cli is installed, so
# the two can never drift apart.
if [[ ! -f Cargo.lock ]]; then cargo generate-lockfile; fi
bash scripts/setup-toolchain.sh

if [[ ! -d tests/e2e/node_modules/playwright-core ]]; then
  (cd tests/e2e && npm ci --no-audit --no-fund)
fi
# terser, which `make dist` runs on the site's JS (scripts/shrink.mjs).
if [[ ! -d scripts/node_modules/terser ]]; then
  (cd scripts && npm ci --no-audit --no-fund)
fi
# Registry access happens here only; every later build runs offline.
cargo fetch --locked >/dev/null 2>&1 || cargo fetch
# The crates std itself depends on, for the site's std built from source (wasm-run adds
# -Zbuild-std when the toolchain has its sources; otherwise this repeats the fetch above). A
# failure is reported, not fatal: a toolchain's std sources may bring these crates along.
"${WASM_TOOLS_DIR:-/opt/wasm-tools}/bin/wasm-run" cargo fetch --target wasm32-unknown-unknown >/dev/null \
  || echo "setup: could not fetch the crates std depends on; an offline site build may fail" >&2
