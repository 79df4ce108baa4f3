#!/usr/bin/env bash
# Distributed training (issue 8, docs/distributed.md): configure a build with
# -DMOVIEME_WITH_MPI=ON, build the movieme command and the MPI test, and run
# the CTest label "mpi": mpirun -np 1, 2 and 3 against single-machine
# training, checkpoint/resume, errors on every rank, a killed rank, and a
# program built with mpicc against the installed header and library.
# Loopback only; fine on 2 cores (ranks are oversubscribed). About 80 CPU-
# seconds (4 minutes of wall time on 2 shared, loaded cores).
#   scripts/test-mpi.sh [BUILD_DIR]      (default: build-mpi)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-mpi}
if ! command -v mpicc > /dev/null || ! command -v mpirun > /dev/null; then
  echo "installing Open MPI (openmpi-bin libopenmpi-dev)"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get -o "DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT:-600}" install -y --no-install-recommends openmpi-bin libopenmpi-dev
fi
mkdir -p "$dir"
cmake -S . -B "$dir" -DMOVIEME_WITH_MPI=ON -DREC_BUILD_PYTHON=OFF \
  -DREC_BUILD_LUA=OFF -DREC_BUILD_BENCH=OFF > "$dir/configure-mpi.log" 2>&1 ||
  { cat "$dir/configure-mpi.log"; exit 1; }
cmake --build "$dir" -j"$(nproc)" --target movieme movieme_static movieme_cli \
  mpi_als_test rec_headertest_mpi
# mpirun refuses root unless told; CI containers run as root
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
(cd "$dir" && ctest -L mpi --output-on-failure --timeout 300)
