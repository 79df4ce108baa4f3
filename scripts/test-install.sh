#!/usr/bin/env bash
# Install test: installs a built tree into a temporary prefix, then builds
# the C example (examples/c) against that installation twice, with
# pkg-config alone (Makefile) and as a CMake consumer (find_package +
# movieme::movieme, and movieme::movieme_static when installed), and runs
# them on the bundled data.
#
# Usage: scripts/test-install.sh [BUILD_DIR]   (default: build; must be built)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=$(cd "${1:-build}" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/movieme-install-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
PREFIX=$TMP/prefix
DATA=$ROOT/data/ml-latest-small
say() { printf 'test-install: %s\n' "$*"; }

cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null
PC=$(find "$PREFIX" -name movieme.pc | head -n1)
[ -n "$PC" ] || { say "no movieme.pc installed"; exit 1; }
LIBDIR=$(dirname "$(dirname "$PC")")
[ -f "$PREFIX/include/movieme.h" ] || { say "no header installed"; exit 1; }
say "installed into $PREFIX (libdir $LIBDIR)"

# 1. pkg-config alone.
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
pkg-config --exists --print-errors movieme
[ "$(pkg-config --modversion movieme)" = "$(grep -m1 REC_VERSION_STRING "$ROOT/include/movieme.h" | cut -d'"' -f2)" ]
make -s -C examples/c OUT="$TMP/recommend-pc" CFLAGS="-O2 -Wall -Wextra -Werror -std=c11"
out=$(cd "$TMP" && LD_LIBRARY_PATH=$LIBDIR ./recommend-pc "$DATA" 1 "$TMP/pc.bin")
grep -q "^Top 10 for user 1:" <<<"$out"
grep -q "Top 5 for a new user" <<<"$out"
say "pkg-config build runs: $(grep -c '^ *[0-9]*\. ' <<<"$out") recommendations"
# It really uses the installed shared library.
LD_LIBRARY_PATH=$LIBDIR ldd "$TMP/recommend-pc" | grep "$LIBDIR/libmovieme.so" >/dev/null

# 2. CMake consumer.
cmake -S examples/c -B "$TMP/cmake" -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$TMP/cmake" -j2 >/dev/null
for exe in recommend recommend_static; do
  [ -x "$TMP/cmake/$exe" ] || { [ $exe = recommend_static ] && continue; exit 1; }
  out=$(cd "$TMP" && "$TMP/cmake/$exe" "$DATA" 1 "$TMP/$exe.bin")
  grep -q "^Top 10 for user 1:" <<<"$out"
  say "CMake consumer $exe runs"
done
say "ok"
