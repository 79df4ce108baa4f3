/*
 * cpu.c - the library's one run-time CPU dispatch: the instruction set is
 * detected once per process (pthread_once) and selects the variant of each
 * inner kernel (kernels.c) that every caller then uses. MOVIEME_CPU=
 * portable|avx2|avx512 forces a level (never above what the CPU has: a
 * request it cannot run falls back to the best it can), for tests and for
 * comparing the variants.
 */
#include "internal.h"
#include "kernels.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static rec_cpu_level level = REC_CPU_PORTABLE;
static rec_score_rows_fn score_rows = rec__score_rows_portable;
static rec_gram_add_fn gram_add = rec__gram_add_portable;
static rec_gram_packed_fn gram_packed = NULL; /* AVX-512 only */
static rec_above_fn above = rec__above_portable;
static rec_auc_count_fn auc_count = rec__auc_count_portable;
static rec_chol_solve_fn chol_solve = rec__chol_solve_portable;
static rec_cg_apply_fn cg_apply = rec__cg_apply_portable;
static rec_cosine_rows_fn cosine_rows = rec__cosine_rows_portable;

static rec_cpu_level detect(void)
{
#ifdef REC_HAVE_X86_KERNELS
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return REC_CPU_PORTABLE;
    if (__builtin_cpu_supports("avx512f"))
        return REC_CPU_AVX512;
    return REC_CPU_AVX2;
#else
    return REC_CPU_PORTABLE;
#endif
}

static void choose(void)
{
    rec_cpu_level best = detect(), want = best;
    const char *env = getenv("MOVIEME_CPU");
    if (env && strcmp(env, "portable") == 0)
        want = REC_CPU_PORTABLE;
    else if (env && strcmp(env, "avx2") == 0)
        want = REC_CPU_AVX2;
    else if (env && strcmp(env, "avx512") == 0)
        want = REC_CPU_AVX512;
    level = want < best ? want : best;
#ifdef REC_HAVE_X86_KERNELS
    if (level >= REC_CPU_AVX2) { /* the AVX-512 level uses these too */
        chol_solve = rec__chol_solve_avx2;
        cg_apply = rec__cg_apply_avx2;
        cosine_rows = rec__cosine_rows_avx2;
    }
    if (level == REC_CPU_AVX2) {
        score_rows = rec__score_rows_avx2;
        gram_add = rec__gram_add_avx2;
        above = rec__above_avx2;
    } else if (level == REC_CPU_AVX512) {
        score_rows = rec__score_rows_avx512;
        gram_add = rec__gram_add_avx512;
        above = rec__above_avx512;
        auc_count = rec__auc_count_avx512;
        chol_solve = rec__chol_solve_avx512;
        gram_packed = rec__gram_packed_avx512;
    }
#endif
}

rec_cpu_level rec__cpu_level(void)
{
    pthread_once(&once, choose);
    return level;
}

const char *rec__cpu_name(rec_cpu_level l)
{
    return l == REC_CPU_AVX512 ? "avx512" : l == REC_CPU_AVX2 ? "avx2"
                                                              : "portable";
}

void rec__score_rows(float *out, const float *Y, int k, const float *x,
                     size_t j0, size_t j1)
{
    pthread_once(&once, choose);
    score_rows(out, Y, k, x, j0, j1);
}

void rec__gram_add(double *A, const float *Z, size_t n, int ld, int kk)
{
    pthread_once(&once, choose);
    gram_add(A, Z, n, ld, kk);
}

int rec__gram_packed(double *A, int ld, const float *P, const int32_t *idx,
                     const float *vals, float mu, size_t n, int m,
                     size_t chunk)
{
    pthread_once(&once, choose);
    return gram_packed ? gram_packed(A, ld, P, idx, vals, mu, n, m, chunk)
                       : 0;
}

int rec__gram_packed_at(rec_cpu_level l, double *A, int ld, const float *P,
                        const int32_t *idx, const float *vals, float mu,
                        size_t n, int m, size_t chunk)
{
#ifdef REC_HAVE_X86_KERNELS
    if (l == REC_CPU_AVX512 && detect() == REC_CPU_AVX512)
        return rec__gram_packed_avx512(A, ld, P, idx, vals, mu, n, m, chunk);
#endif
    (void)l; (void)A; (void)ld; (void)P; (void)idx; (void)vals; (void)mu;
    (void)n; (void)m; (void)chunk;
    return 0;
}

void rec__above(uint64_t *bits, const float *x, size_t n, float t)
{
    pthread_once(&once, choose);
    above(bits, x, n, t);
}

int rec__chol_solve(double *A, int ld, double *b, int m)
{
    pthread_once(&once, choose);
    return chol_solve(A, ld, b, m);
}

void rec__cg_apply(float *q, const float *ytyf, const float *diag,
                   float lambda, const float *Y, int k, const float *v,
                   const float *cw, const float *cc, size_t n, int minus_b)
{
    pthread_once(&once, choose);
    cg_apply(q, ytyf, diag, lambda, Y, k, v, cw, cc, n, minus_b);
}

void rec__rotate(float *q, const float *Q, int k, const float *v)
{
    pthread_once(&once, choose);
    cg_apply(q, Q, NULL, 0.0f, NULL, k, v, NULL, NULL, 0, 0);
}

void rec__cosine_rows(float *out, const float *Y, int k, const float *y0,
                      float n0, size_t j0, size_t j1)
{
    pthread_once(&once, choose);
    cosine_rows(out, Y, k, y0, n0, j0, j1);
}

int rec__chol_solve_at(rec_cpu_level l, double *A, int ld, double *b, int m)
{
#ifdef REC_HAVE_X86_KERNELS
    if (l >= REC_CPU_AVX512 && detect() >= REC_CPU_AVX512)
        return rec__chol_solve_avx512(A, ld, b, m);
    if (l >= REC_CPU_AVX2 && detect() >= REC_CPU_AVX2)
        return rec__chol_solve_avx2(A, ld, b, m);
#endif
    (void)l;
    return rec__chol_solve_portable(A, ld, b, m);
}

void rec__cg_apply_at(rec_cpu_level l, float *q, const float *ytyf,
                      const float *diag, float lambda, const float *Y, int k,
                      const float *v,
                      const float *cw,
                      const float *cc, size_t n,
                      int minus_b)
{
#ifdef REC_HAVE_X86_KERNELS
    if (l >= REC_CPU_AVX2 && detect() >= REC_CPU_AVX2) {
        rec__cg_apply_avx2(q, ytyf, diag, lambda, Y, k, v, cw, cc, n,
                           minus_b);
        return;
    }
#endif
    (void)l;
    rec__cg_apply_portable(q, ytyf, diag, lambda, Y, k, v, cw, cc, n,
                           minus_b);
}

void rec__cosine_rows_at(rec_cpu_level l, float *out, const float *Y, int k,
                         const float *y0, float n0, size_t j0, size_t j1)
{
#ifdef REC_HAVE_X86_KERNELS
    if (l >= REC_CPU_AVX2 && detect() >= REC_CPU_AVX2) {
        rec__cosine_rows_avx2(out, Y, k, y0, n0, j0, j1);
        return;
    }
#endif
    (void)l;
    rec__cosine_rows_portable(out, Y, k, y0, n0, j0, j1);
}

uint64_t rec__auc_count(const float *a, size_t n, const float *pos,
                        size_t np, float w, uint32_t *near, size_t *n_near)
{
    pthread_once(&once, choose);
    return auc_count(a, n, pos, np, w, near, n_near);
}

void rec__above_at(rec_cpu_level l, uint64_t *bits, const float *x, size_t n,
                   float t)
{
#ifdef REC_HAVE_X86_KERNELS
    if (l == REC_CPU_AVX512 && detect() == REC_CPU_AVX512) {
        rec__above_avx512(bits, x, n, t);
        return;
    }
    if (l >= REC_CPU_AVX2 && detect() >= REC_CPU_AVX2) {
        rec__above_avx2(bits, x, n, t);
        return;
    }
#endif
    (void)l;
    rec__above_portable(bits, x, n, t);
}

uint64_t rec__auc_count_at(rec_cpu_level l, const float *a, size_t n,
                           const float *pos, size_t np, float w,
                           uint32_t *near, size_t *n_near)
{
#ifdef REC_HAVE_X86_KERNELS
    if (l == REC_CPU_AVX512 && detect() == REC_CPU_AVX512)
        return rec__auc_count_avx512(a, n, pos, np, w, near, n_near);
#endif
    (void)l;
    return rec__auc_count_portable(a, n, pos, np, w, near, n_near);
}

void rec__score_rows_at(rec_cpu_level l, float *out, const float *Y, int k,
                        const float *x, size_t j0, size_t j1)
{
#ifdef REC_HAVE_X86_KERNELS
    if (l == REC_CPU_AVX512 && detect() == REC_CPU_AVX512) {
        rec__score_rows_avx512(out, Y, k, x, j0, j1);
        return;
    }
    if (l >= REC_CPU_AVX2 && detect() >= REC_CPU_AVX2) {
        rec__score_rows_avx2(out, Y, k, x, j0, j1);
        return;
    }
#endif
    (void)l;
    rec__score_rows_portable(out, Y, k, x, j0, j1);
}

void rec__gram_add_at(rec_cpu_level l, double *A, const float *Z, size_t n,
                      int ld, int kk)
{
#ifdef REC_HAVE_X86_KERNELS
    if (l == REC_CPU_AVX512 && detect() == REC_CPU_AVX512) {
        rec__gram_add_avx512(A, Z, n, ld, kk);
        return;
    }
    if (l >= REC_CPU_AVX2 && detect() >= REC_CPU_AVX2) {
        rec__gram_add_avx2(A, Z, n, ld, kk);
        return;
    }
#endif
    (void)l;
    rec__gram_add_portable(A, Z, n, ld, kk);
}
