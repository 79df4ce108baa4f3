/*
 * blas.c - the library's rule for OpenBLAS threads: BLAS and LAPACK calls
 * run inside the library's own OpenMP regions (one per block or row), so
 * OpenBLAS must not start threads of its own there; otherwise the two
 * thread counts multiply (2 cores: 2 OpenMP x 2 OpenBLAS threads), and a
 * solve's bytes would depend on the thread count.
 *
 * The OpenMP build of OpenBLAS the library links runs single-threaded
 * inside an active parallel region by itself. Outside one (the caller's
 * thread, or a team of one) it sizes its team from the calling thread's
 * OpenMP thread count, and re-syncs its own count to it (measured: dposv
 * sets openblas_get_num_threads() back to omp_get_max_threads()). So:
 *  - each call outside an active region runs between rec__blas_enter and
 *    rec__blas_leave, which set the calling thread's OpenMP count to 1
 *    for the call and put the caller's back (the application's OpenMP
 *    setting, and the library's n_threads = 0 default, are left alone);
 *  - OpenBLAS's own count is set to 1 once, under a lock: a change makes
 *    it reallocate its per-thread buffers, which must not run twice at
 *    once (with the count at 1, the calls above never change it).
 */
#include "internal.h"

#include <cblas.h>
#include <omp.h>
#include <pthread.h>
#include <sys/mman.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void rec__blas_single_threaded(void)
{
    if (omp_in_parallel() || openblas_get_num_threads() == 1)
        return;
    pthread_mutex_lock(&lock);
    if (openblas_get_num_threads() != 1) {
        int omp_threads = omp_get_max_threads();
        openblas_set_num_threads(1);
        omp_set_num_threads(omp_threads);
    }
    pthread_mutex_unlock(&lock);
}

int rec__blas_enter(void)
{
    rec__blas_single_threaded();
    if (omp_in_parallel())
        return 0;
    int keep = omp_get_max_threads();
    omp_set_num_threads(1);
    return keep;
}

void rec__blas_leave(int token)
{
    if (token > 0)
        omp_set_num_threads(token);
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
