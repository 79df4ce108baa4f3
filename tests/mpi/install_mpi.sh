#!/usr/bin/env bash
# The MPI part of an install: movieme_mpi.h is installed, a program built
# with mpicc against the installed header and library alone trains on 2
# ranks, and its model is the one `movieme train` writes.
#   install_mpi.sh BUILD_DIR MOVIEME DATA WORKDIR   (REC_MPIRUN as in test_cli_mpi.sh)
set -euo pipefail
build=$1 movieme=$2 data=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
mpirun=${REC_MPIRUN:-mpirun --oversubscribe --bind-to none --mca btl self,vader --mca oob_tcp_if_include lo}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
[ -f "$work/prefix/include/movieme_mpi.h" ] || { echo "FAIL: movieme_mpi.h not installed"; exit 1; }
libdir=$(dirname "$(find "$work/prefix" -name 'libmovieme.so' | head -1)")
mpicc -std=c11 -Wall -Wextra -pedantic -Werror -I"$work/prefix/include" \
  "$here/consumer_mpi.c" -L"$libdir" -lmovieme -Wl,-rpath,"$libdir" -o "$work/consumer"
timeout 120 $mpirun -np 2 "$work/consumer" "$data" "$work/dist.bin"
"$movieme" train --data "$data" --rank 8 --explicit-only --out "$work/single.bin" --quiet > /dev/null
cmp "$work/dist.bin" "$work/single.bin" || { echo "FAIL: models differ"; exit 1; }
echo "PASSED: installed header + library, 2 ranks, same model as movieme train"
