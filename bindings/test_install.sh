#!/usr/bin/env bash
# Install test of the bindings: install a built tree into a temporary prefix
# and check that /usr/bin/python3 imports the package and lua5.4 requires
# the module from there, using the libmovieme installed beside them (not the
# build tree), from a directory outside the repository. Then the packages
# users build themselves against that prefix (pkg-config): `pip install
# ./bindings/python` into a temporary venv, and the LuaRocks rockspec with
# `luarocks make` into a temporary tree.
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
  for f in __init__.py __init__.pyi __main__.py _errors.py estimator.py _movieme.py py.typed; do
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

  # pip: the package built from a copy of the sources against the library
  # installed above (pkg-config), into a venv that sees Debian's numpy;
  # offline (--no-build-isolation --no-index).
  if /usr/bin/python3 -c "import venv, ensurepip, setuptools" 2>/dev/null; then
    mkdir -p "$TMP/pipsrc"
    cp -r "$SRC/movieme.i" "$SRC/movieme_bind.h" "$SRC/python" "$TMP/pipsrc/"
    rm -rf "$TMP/pipsrc/python/tests"
    /usr/bin/python3 -m venv --system-site-packages "$TMP/venv"
    env PKG_CONFIG_PATH="$PC_DIR" "$TMP/venv/bin/pip" install --no-build-isolation \
        --no-index --no-cache-dir "$TMP/pipsrc/python" >"$TMP/pip.log" 2>&1 ||
      { cat "$TMP/pip.log"; say "pip install failed"; exit 1; }
    "$TMP/venv/bin/pip" show movieme >"$TMP/show.txt"
    grep -q "^Name: movieme$" "$TMP/show.txt" && grep -q "^Requires: numpy" "$TMP/show.txt" &&
      grep -q "^Version: $(env PKG_CONFIG_PATH="$PC_DIR" pkg-config --modversion movieme)$" "$TMP/show.txt" ||
      { cat "$TMP/show.txt"; say "pip show: wrong metadata"; exit 1; }
    env -i PATH=/usr/bin:/bin "$TMP/venv/bin/python" -m movieme >"$TMP/main.txt"
    grep -q "^libmovieme .* linked: $PREFIX/" "$TMP/main.txt" ||
      { cat "$TMP/main.txt"; say "python -m movieme: not the installed library"; exit 1; }
    env -i PATH=/usr/bin:/bin "$TMP/venv/bin/python" -c "
import pickle, sys, numpy as np, movieme
assert movieme.__file__.startswith('$TMP/venv/'), movieme.__file__
r = movieme.load_movielens(sys.argv[1])
m = movieme.train_als(r, rank=4, iterations=2, n_threads=1)
u, i, _ = r.to_arrays()
assert m.predict(u[:10], i[:10]).shape == (10,)
assert pickle.loads(pickle.dumps(m)).to_bytes() == m.to_bytes()
print('pip', movieme.__version__, 'ok')" "$DATA"
  else
    say "python3-venv/python3-setuptools not installed: pip install not tested"
  fi
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
    (cd "$TMP/rocksrc/lua" && luarocks lint movieme-scm-1.rockspec &&
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
