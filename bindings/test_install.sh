#!/usr/bin/env bash
# Install test of the bindings: install a built tree into a temporary prefix
# and check that /usr/bin/python3 imports the package and lua5.4 requires
# the module from there, using the libmovieme installed beside them (not the
# build tree), from a directory outside the repository. Then the packages
# users build themselves against that prefix (pkg-config): the LuaRocks
# rockspec with `luarocks make` into a temporary tree.
#
# Usage: bindings/test_install.sh BUILD_DIR PYTHON_DIR LUA_DIR DATA
#   PYTHON_DIR, LUA_DIR: the install dirs relative to the prefix.
set -euo pipefail
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$(dirname "$0")" && pwd)
PYDIR=$2
LUADIR=$3
DATA=$4
TMP=$(mktemp -d "${TMPDIR:-/tmp}/movieme-bind-install-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix
say() { printf 'bindings-install: %s\n' "$*"; }

cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null
pc=$(find "$PREFIX" -name movieme.pc | head -n 1)
[ -n "$pc" ] || { say "no movieme.pc installed"; exit 1; }
PC_DIR=$(dirname "$pc")
cd "$TMP"
if [ -n "$PYDIR" ]; then
  pkg=$PREFIX/$PYDIR/movieme
  for f in __init__.py __init__.pyi _errors.py _movieme.py py.typed; do
    [ -f "$pkg/$f" ] || { say "missing $pkg/$f"; exit 1; }
  done
  so=$(ls "$pkg"/_movieme_c*.so)
  ldd "$so" | grep "$PREFIX/.*libmovieme.so" >/dev/null || { say "python module does not use the installed library"; ldd "$so"; exit 1; }
  env -i PATH=/usr/bin:/bin PYTHONPATH="$PREFIX/$PYDIR" /usr/bin/python3 -c "
import sys, movieme
assert movieme.__file__.startswith('$PREFIX'), movieme.__file__
r = movieme.load_movielens(sys.argv[1])
m = movieme.train_als(r, rank=4, iterations=2, n_threads=1)
assert len(m.top_n(1, 3)) == 3
print('python', movieme.__version__, 'ok')" "$DATA"
fi
if [ -n "$LUADIR" ]; then
  so=$PREFIX/$LUADIR/movieme.so
  [ -f "$so" ] || { say "missing $so"; exit 1; }
  ldd "$so" | grep "$PREFIX/.*libmovieme.so" >/dev/null || { say "lua module does not use the installed library"; ldd "$so"; exit 1; }
  cat > "$TMP/t.lua" <<LUA
local movieme = require("movieme")
assert(package.searchpath("movieme", package.cpath):find("$PREFIX", 1, true))
local m = movieme.train_als(movieme.load_movielens(arg[1]),
                            {rank = 4, iterations = 2, n_threads = 1})
assert(#m:top_n(1, 3) == 3)
print("lua", movieme.version(), "ok")
LUA
  env -i PATH=/usr/bin:/bin LUA_CPATH="$PREFIX/$LUADIR/?.so" lua5.4 "$TMP/t.lua" "$DATA"

  # The LuaRocks package: `luarocks make` of the rockspec, from a copy of the
  # sources, against the library installed above (found by pkg-config).
  if command -v luarocks >/dev/null; then
    mkdir -p "$TMP/rocksrc"
    cp -r "$SRC/movieme.i" "$SRC/movieme_bind.h" "$SRC/lua" "$TMP/rocksrc/"
    (cd "$TMP/rocksrc/lua" &&
     env PKG_CONFIG_PATH="$PC_DIR" luarocks --lua-version 5.4 make --tree "$TMP/rocks" movieme-scm-1.rockspec \
       >"$TMP/rocks.log" 2>&1) || { cat "$TMP/rocks.log"; say "luarocks make failed"; exit 1; }
    rso=$(find "$TMP/rocks" -name movieme.so | head -n 1)
    [ -n "$rso" ] || { say "luarocks installed no movieme.so"; exit 1; }
    ldd "$rso" | grep "$PREFIX/.*libmovieme.so" >/dev/null || { say "rock does not use the installed library"; ldd "$rso"; exit 1; }
    cat > "$TMP/t2.lua" <<LUA
local movieme = require("movieme")
assert(package.searchpath("movieme", package.cpath):find("$TMP/rocks", 1, true))
local ds <close> = movieme.load_movielens(arg[1])
local m <close> = movieme.train_als(ds, {rank = 4, iterations = 2, n_threads = 1})
assert(#m:top_n(1, 3) == 3)
local ok, e = pcall(m.top_n, m, 99999999)
assert(not ok and e.code == "REC_ENOTFOUND")
print("luarocks", movieme.version(), "ok")
LUA
    env -i PATH=/usr/bin:/bin LUA_CPATH="$(dirname "$rso")/?.so" lua5.4 "$TMP/t2.lua" "$DATA"
  else
    say "luarocks not installed: rockspec not tested (Debian: apt-get install luarocks)"
  fi
fi
say ok
