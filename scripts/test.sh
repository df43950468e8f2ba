#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, Rust (format, lint, host tests), TypeScript
# (format/lint, type-check), then vitest: Node unit tests, wasm kernels in both builds, workers,
# Deno and headless Chromium. Ends with one line `wasmgrad: N passed, M failed`.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh test || exit 1

failed=0
passed_total=0
failed_total=0
step() { printf '\n== %s\n' "$*"; }
run() { # run NAME CMD...: a step that fails the suite without stopping it
  local name=$1; shift
  if ! "$@"; then failed=1; failed_total=$((failed_total + 1)); printf '!! %s failed\n' "$name"; fi
}

# Host Rust with the same toolchain that builds the wasm (Debian's rustc 1.63) when present, so
# the MSRV is what gets tested; otherwise whatever cargo is on PATH.
if [[ -x /usr/bin/cargo && -x /usr/bin/rustc ]]; then
  cargo_() { PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc /usr/bin/cargo "$@"; }
else
  cargo_() { cargo "$@"; }
fi

step 'rustfmt'
run rustfmt rustfmt --edition 2021 --check crates/kernels/src/*.rs
step 'clippy (host and wasm32)'
run clippy cargo_ clippy -q --all-targets -- -D warnings
run clippy-wasm32 cargo_ clippy -q --target wasm32-unknown-unknown -- -D warnings
step 'cargo test (host, scalar twin)'
cargo_out=$(mktemp)
cargo_ test -q 2>&1 | tee "$cargo_out"
[[ ${PIPESTATUS[0]} == 0 ]] || { failed=1; printf '!! cargo test failed\n'; }
read -r cp cf < <(awk '/^test result:/ {for (i = 1; i <= NF; i++) {if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i}} END {print p + 0, f + 0}' "$cargo_out")
passed_total=$((passed_total + cp)); failed_total=$((failed_total + cf))

step 'biome (TypeScript format and lint)'
run biome node_modules/.bin/biome check --error-on-warnings .
step 'tsc (package and tests)'
run tsc node_modules/.bin/tsc -p tsconfig.json --noEmit
run tsc-playground node_modules/.bin/tsc -p packages/playground/tsconfig.json

step 'vitest (Node, wasm SIMD and scalar builds, workers, Deno, Chromium)'
vitest_json=$(mktemp)
node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$vitest_json"
[[ $? == 0 ]] || { failed=1; printf '!! vitest failed\n'; }
read -r vp vf < <(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(r.numPassedTests ?? 0, (r.numFailedTests ?? 0) + (r.numFailedTestSuites ?? 0));' "$vitest_json" 2>/dev/null || echo "0 1")
passed_total=$((passed_total + vp)); failed_total=$((failed_total + vf))
rm -f "$cargo_out" "$vitest_json"

if [[ $failed != 0 && $failed_total == 0 ]]; then failed_total=1; fi
printf '\nwasmgrad: %d passed, %d failed\n' "$passed_total" "$failed_total"
exit "$failed"
