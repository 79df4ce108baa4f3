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
#include <sys/mman.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void set_one_thread(void)
{
    openblas_set_num_threads(1);
}

void rec__blas_single_threaded(void)
{
    pthread_once(&once, set_one_thread);
}

/* A little more than OpenBLAS's buffer (BUFFER_SIZE 128 MB, plus guards). */
#define REC_BLAS_BUFFER ((size_t)136 << 20)

int rec__blas_buffer_ok(void)
{
    static _Thread_local int ok; /* once mapped, OpenBLAS keeps it */
    if (ok)
        return 1;
    void *p = mmap(NULL, REC_BLAS_BUFFER, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    munmap(p, REC_BLAS_BUFFER);
    ok = 1;
    return 1;
}
