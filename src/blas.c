/*
 * blas.c - the library's rule for OpenBLAS threads: BLAS and LAPACK calls
 * run inside the library's own OpenMP regions (one per block or row), so
 * OpenBLAS must not start threads of its own there; otherwise the two
 * thread counts multiply (2 cores: 2 OpenMP x 2 OpenBLAS threads). Set once
 * per process, the first time the library needs BLAS.
 */
#include "internal.h"

#include <cblas.h>
#include <pthread.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void set_one_thread(void)
{
    openblas_set_num_threads(1);
}

void rec__blas_single_threaded(void)
{
    pthread_once(&once, set_one_thread);
}
