#!/usr/bin/env bash
# Configure, build and install libmovieme (library, CLI, Python and Lua bindings).
# Usage: scripts/build.sh [build-dir]   (default: build). Installs into /usr/local
# so that /usr/bin/python3 can `import movieme` and lua5.4 can `require "movieme"`.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PREFIX=${REC_PREFIX:-/usr/local}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DREC_WERROR=ON \
  -DPython3_EXECUTABLE=/usr/bin/python3 -DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
SUDO=""
if [ "$(id -u)" -ne 0 ] && [ ! -w "$PREFIX" ]; then SUDO="sudo"; fi
$SUDO cmake --install "$BUILD" >/dev/null
$SUDO ldconfig 2>/dev/null || true
echo "build: installed libmovieme into $PREFIX"
