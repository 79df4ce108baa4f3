/*
 * bench_solve.c - where LAPACK wins (issue 14): the Cholesky solve of one
 * ALS row's normal equations by the library's kernel (solve.c) and by
 * LAPACK's dposv, single-threaded, at each rank. The row systems are those
 * of ALS: A = Z^T Z + reg * n * I from n = 4 * rank random rows, in rows
 * of ld doubles as solve.c keeps them. Prints per rank the median time of
 * one solve by each path and their ratio; REC_LAPACK_MIN_DIM (internal.h)
 * is set from it.
 *
 *   bench_solve [--ranks 8,16,...] [--reps R]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "internal.h"

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds of one solve over `batches` batches of `reps` solves. */
static double time_solve(const double *A0, const double *b0, double *A,
                         double *b, int ld, int m, int reps, int lapack,
                         double *resid)
{
    enum { batches = 7 };
    double t[batches];
    for (int r = 0; r < batches; r++) {
        double t0 = bench_now();
        for (int i = 0; i < reps; i++) {
            memcpy(A, A0, (size_t)ld * m * sizeof *A);
            memcpy(b, b0, (size_t)m * sizeof *b);
            if (rec__cholesky_solve_with(A, ld, b, m, lapack) != 0) {
                fprintf(stderr, "bench_solve: rank %d not solved\n", m);
                exit(1);
            }
        }
        t[r] = (bench_now() - t0) / reps;
    }
    /* residual |A x - b| / |b| of the last solve, as a check */
    double num = 0.0, den = 0.0;
    for (int i = 0; i < m; i++) {
        double s = 0.0;
        for (int j = 0; j < m; j++)
            s += (j >= i ? A0[(size_t)i * ld + j] : A0[(size_t)j * ld + i]) *
                 b[j];
        num += (s - b0[i]) * (s - b0[i]);
        den += b0[i] * b0[i];
    }
    *resid = sqrt(num / den);
    qsort(t, batches, sizeof *t, cmp_d);
    return t[batches / 2];
}

int main(int argc, char **argv)
{
    const char *ranks = "8,16,24,32,48,64,80,96,112,128,160,192,256,384,512,1024";
    int reps_arg = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--ranks") == 0)
            ranks = argv[i + 1];
        else if (strcmp(argv[i], "--reps") == 0)
            reps_arg = atoi(argv[i + 1]);
    }
    printf("%6s %12s %12s %8s %10s %10s\n", "rank", "own_us", "lapack_us",
           "own/lap", "own_res", "lap_res");
    uint64_t seed = 1;
    for (const char *p = ranks; *p;) {
        int m = atoi(p);
        while (*p && *p != ',')
            p++;
        if (*p == ',')
            p++;
        if (m < 1)
            continue;
        int ld = (m + 1 + 7) & ~7, n = 4 * m;
        double *A0 = calloc((size_t)ld * m, sizeof *A0);
        double *A = malloc((size_t)ld * m * sizeof *A);
        double *b0 = malloc((size_t)m * sizeof *b0);
        double *b = malloc((size_t)m * sizeof *b);
        double *z = malloc((size_t)m * sizeof *z);
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < m; i++)
                z[i] = (double)(rec__splitmix64(&seed) >> 11) * 0x1p-53 - 0.5;
            for (int i = 0; i < m; i++)
                for (int j = i; j < m; j++)
                    A0[(size_t)i * ld + j] += z[i] * z[j];
        }
        for (int i = 0; i < m; i++) {
            A0[(size_t)i * ld + i] += 0.05 * n;
            b0[i] = (double)(rec__splitmix64(&seed) >> 11) * 0x1p-53;
        }
        /* about 0.2 s of solving per path and batch set */
        int reps = reps_arg > 0 ? reps_arg
                                : (int)(3e7 / ((double)m * m * m + 1e4)) + 1;
        double ro, rl;
        double own = time_solve(A0, b0, A, b, ld, m, reps, 0, &ro);
        double lap = time_solve(A0, b0, A, b, ld, m, reps, 1, &rl);
        printf("%6d %12.2f %12.2f %8.2f %10.1e %10.1e\n", m, own * 1e6,
               lap * 1e6, own / lap, ro, rl);
        fflush(stdout);
        free(A0);
        free(A);
        free(b0);
        free(b);
        free(z);
    }
    return 0;
}
