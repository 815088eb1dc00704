#!/usr/bin/env bash
# Installs the Debian packages rtmem needs that are not installed yet.
#   scripts/deps.sh demo   what building the library and running the demo need
#   scripts/deps.sh test   that, plus the sanitizers, valgrind, the benchmarks'
#                          peers, and cargo when there is a Rust crate to test
# Made for Debian 12. What dpkg-query says is installed is skipped, so a warm
# machine never runs apt. apt-get runs as root, or through sudo if available.
set -euo pipefail
cd "$(dirname "$0")/.."

want=(build-essential cmake pkg-config check libffi-dev liblua5.4-dev lua5.4 libreadline-dev)
if [ "${1:-demo}" = test ]; then
  # clang for the sanitizer builds; Debian 12's clang is 14, and its
  # ASan/LSan/TSan runtimes are only a recommendation of it.
  want+=(clang libclang-rt-14-dev valgrind time)
  # The peers the benchmarks are measured against.
  want+=(libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev libtalloc-dev
         libapr1-dev libglib2.0-dev)
  # Rust: only for the crate; cargo only if none is there (rustup's included);
  # bumpalo, the Rust benchmark's peer, as Debian packages it (a crate source).
  PATH="${HOME:-/root}/.cargo/bin:$PATH"
  if [ -f bindings/rust-ffi/Cargo.toml ]; then
    want+=(librust-bumpalo-dev)
    command -v cargo >/dev/null || want+=(cargo rustc)
  fi
fi

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  echo "deps: not a Debian system; make sure these are installed: ${want[*]}"
  exit 0
fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: everything is installed"
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null; then
    echo "deps: not root and no sudo; as root, run: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  as_root=(sudo)
fi
echo "deps: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
