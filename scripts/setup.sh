#!/usr/bin/env bash
# Installs what wasmgrad's commands need, idempotently; a second run only checks and returns.
#   scripts/setup.sh run    the toolchain to build and train (Rust wasm32, binaryen, data, pnpm deps)
#   scripts/setup.sh test   the same plus what the tests use (rustfmt, clippy, Chromium)
# As root on Debian it installs missing Debian packages itself; elsewhere it prints the command.
set -euo pipefail
profile=${1:-test}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
# Debian's rustc 1.63 is the wasm32 toolchain here (rustup cannot download targets on these
# machines); a user whose rustup has the wasm32 target does not need it for building.
packages=(rustc cargo libstd-rust-dev-wasm32 lld binaryen dataset-fashion-mnist)
if [[ $profile == test ]]; then packages+=(rustfmt rust-clippy chromium python3-torch); fi
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) == 0 ]]; then
      say "installing Debian packages: ${missing[*]}"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -q >/dev/null
      apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
    elif [[ ${missing[*]} == dataset-fashion-mnist ]]; then
      # Only the data is missing: the CLI trains on the sample shipped in the package and says so.
      say "dataset-fashion-mnist is not installed (needs root): using the package's 2,000-image sample"
    else
      say "missing Debian packages; run: sudo apt-get install -y --no-install-recommends ${missing[*]}"
      exit 1
    fi
  fi
else
  say "not a Debian system: make sure rustup's wasm32 target, binaryen and (for tests) Chromium are installed"
fi

# --- pnpm ------------------------------------------------------------------------------------
want_pnpm=12.4.2
if [[ $(pnpm --version 2>/dev/null || true) != "$want_pnpm" ]]; then
  say "installing pnpm $want_pnpm"
  npm install -g --silent "pnpm@$want_pnpm" >/dev/null 2>&1 || {
    say "npm install -g failed (permissions?); run: npm install -g pnpm@$want_pnpm"
    exit 1
  }
fi

# --- JavaScript dependencies, the wasm modules and the compiled package ------------------------
pnpm install --frozen-lockfile --reporter=silent
node scripts/build-wasm.mjs
pnpm --filter wasmgrad run --silent build
