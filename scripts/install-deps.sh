#!/usr/bin/env bash
# Install every Debian package libmovieme needs to build, test and run its demo.
# Idempotent; runs apt-get only when something is missing. Needs root (or sudo).
#
# Another package manager (unattended-upgrades, a second apt-get) may hold the
# dpkg and apt locks: apt-get then waits for them up to APT_LOCK_TIMEOUT
# seconds (default 600, apt's DPkg::Lock::Timeout) instead of failing at once,
# and fails with apt's own message when the wait runs out.
set -euo pipefail

APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}

PACKAGES=(
  # build
  build-essential cmake pkg-config git
  # the library: BLAS/LAPACKE (OpenBLAS), OpenMP (gcc's libgomp), zlib for model-file checksums
  libopenblas-dev libopenblas0-openmp liblapacke-dev zlib1g-dev
  # tests
  check valgrind clang libclang-rt-14-dev libfuzzer-14-dev libomp-14-dev python3-pytest
  # bindings
  swig python3-dev lua5.4 liblua5.4-dev lua-busted luarocks
  # Python binding: numpy (required), pandas and scipy (optional, tested), pip install into a venv
  python3-numpy python3-pandas python3-scipy python3-setuptools python3-venv python3-pip
  # demo site
  python3-flask python3-flask-login python3-flaskext.wtf python3-flask-sqlalchemy
  python3-psycopg2 postgresql gunicorn
  chromium chromium-driver python3-selenium
  # benchmarks and distributed training
  python3-matplotlib python3-numpy hyperfine wrk openmpi-bin libopenmpi-dev
  # misc used by scripts
  procps time curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o "DPkg::Lock::Timeout=$APT_LOCK_TIMEOUT")
$SUDO "${APT[@]}" update -qq
$SUDO "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}"
