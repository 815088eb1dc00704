#!/usr/bin/env bash
# The tests: installs what is missing, then builds and runs every test, in
# stages (the builds are the presets in CMakePresets.json):
#   release  RelWithDebInfo, the benchmarks compiled, every test but Lua's
#   lua      the tests labelled `lua`, in the same build
#   asan     ASan + UBSan (clang, Debug), every test, small profile, leaks checked
#   tsan     TSan (clang), the tests labelled `concurrent`
#   rust     cargo test in bindings/rust-ffi
# A stage with no test to run counts as a failure. The last line is
# "N passed, N failed" over all stages; any failure makes the exit status 1.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
PATH="${HOME:-/root}/.cargo/bin:$PATH"
jobs=$(nproc)
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

stage() { printf '\n==== %s\n' "$*"; }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }
finish() { echo "$passed passed, $failed failed"; exit $((failed > 0)); }

# Runs ctest and adds its counts to the totals.
run_ctest() {
  ctest --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$log"
  local counts f total
  counts=$(sed -nE 's/^[0-9]+% tests passed, ([0-9]+) tests? failed out of ([0-9]+)$/\1 \2/p' "$log")
  if [ -z "$counts" ]; then
    fail "ctest $* (no summary)"
    return
  fi
  read -r f total <<<"$counts"
  passed=$((passed + total - f))
  failed=$((failed + f))
}

scripts/deps.sh test || { fail "installing the packages"; finish; }

stage "release: RelWithDebInfo, benchmarks built, every test but Lua's"
if cmake --preset release -DRTM_BUILD_BENCH=ON && cmake --build --preset release -j "$jobs"; then
  run_ctest --preset release -LE lua --no-tests=error

  stage "lua: ctest -L lua"
  # The Lua binding is part of rtmem: a build without its tests is a failure.
  run_ctest --preset release -L lua --no-tests=error
else
  fail "release build"
fi

stage "asan: ASan + UBSan, every test (RTM_TEST_PROFILE=small, detect_leaks=1)"
if cmake --preset asan && cmake --build --preset asan -j "$jobs"; then
  run_ctest --preset asan --no-tests=error
else
  fail "asan build"
fi

stage "tsan: ctest -L concurrent"
if ! cmake --preset tsan; then
  fail "tsan configure"
elif cmake --build --preset tsan -j "$jobs"; then
  run_ctest --preset tsan --no-tests=error
else
  fail "tsan build"
fi

# ---- Rust: the crate in bindings/rust-ffi, once it exists ----
stage "rust: cargo test --offline in bindings/rust-ffi"
if [ -f bindings/rust-ffi/Cargo.toml ]; then
  # No registry is needed: crates come from Debian's packages (librust-*-dev)
  # through a directory source. The crate's tests need none; its benchmark
  # crate (bindings/rust-ffi/bench) takes bumpalo from there.
  debian_crates=(--config 'source.crates-io.replace-with="debian"'
                 --config 'source.debian.directory="/usr/share/cargo/registry"')
  (cd bindings/rust-ffi && cargo test --offline "${debian_crates[@]}") 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  read -r p f < <(sed -nE 's/^test result: .* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' "$log" |
                  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
  passed=$((passed + p))
  failed=$((failed + f))
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    fail "cargo test (exit $status)"
  fi
else
  fail "bindings/rust-ffi/Cargo.toml is missing"
fi

stage "total"
finish
