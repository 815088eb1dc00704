#!/usr/bin/env bash
# install_check.sh: installs the build into a scratch prefix and loads the
# installed rtmem.so with the stock lua5.4, as a user would; also checks that
# the install directory for the default prefix is on lua5.4's package.cpath.
#   install_check.sh BUILD_DIR LUA5.4
set -eu
build=$1
lua=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
so=$(find "$prefix" -name rtmem.so | head -1)
[ -n "$so" ] || { echo "rtmem.so was not installed"; exit 1; }
rel=${so#"$prefix"/}
echo "installed: <prefix>/$rel"
LUA_CPATH="$(dirname "$so")/?.so" "$lua" -e '
  local rtmem = require "rtmem"
  local ctx <close> = rtmem.context{limit = 1 << 20}
  local b = ctx:batch(rtmem.layout{ {"x", "i32"} })
  b:push{x = 41}
  assert(b:sum("x") + 1 == 42)
  print("require from the install location: ok", rtmem.version)'
# Under /usr/local (CMake's default prefix), that directory is on the stock
# interpreter's own search path: no LUA_CPATH needed.
case $rel in
lib/lua/5.4/rtmem.so)
    "$lua" -e 'assert(package.cpath:find("/usr/local/lib/lua/5.4/?.so", 1, true),
                      "not on package.cpath: " .. package.cpath)
               print("on the default package.cpath under /usr/local: ok")' ;;
esac
