/*
 * solve.c - dense kernels of ALS: the normal equations of one row, their
 * Cholesky solve, the nonnegative (NNLS) solve, and fold-in.
 *
 * Everything here is single-threaded and allocation-free: it runs inside
 * the OpenMP loops of als.c with per-thread scratch. Cholesky solves of
 * REC_LAPACK_MIN_DIM unknowns or more call LAPACK (dposv, OpenBLAS held to
 * one thread by blas.c, so no thread pool multiplies with the OpenMP team);
 * smaller ones, where LAPACK's call overhead loses, use the kernel below.
 *
 * One row (a user, or a movie) solves for w = [x, bias]:
 *   min  sum_t (r_t - mu - c_t - y_t.x - bias)^2
 *        + reg * n * |x|^2 + (bias_reg * n + bias_prior) * bias^2
 *   (ALS-WR, plus a constant prior that shrinks rare rows' biases)
 * where y_t, c_t are the fixed factors and bias of the other side. With
 * z_t = [y_t, 1, r_t - mu - c_t] the extended Gram matrix Z^T Z holds, in
 * one pass over the ratings, the normal matrix (top-left), the right-hand
 * side (last column) and sum of squared targets (corner). Z is gathered in
 * float, in chunks, and Z^T Z is accumulated by a vectorised kernel
 * (kernels.c: the variant for the CPU is picked once at run time).
 */
#include "internal.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>

#define CHUNK 128 /* ratings gathered per kernel call */

/* Columns of the extended system: k factors, 1 bias, 1 target; padded to
   a multiple of 8 (one AVX vector of floats). */
static int row_dims(int k, int biases, int *m_out)
{
    int m = k + (biases ? 1 : 0);
    *m_out = m;
    return (m + 1 + 7) & ~7;
}

int rec__row_ld(int k, int biases)
{
    int m;
    return (row_dims(k, biases, &m) + 15) & ~15;
}

void rec__pack_row(float *dst, const rec_row_ctx *c, size_t j)
{
    int k = c->k, m, ld = rec__row_ld(k, c->biases);
    row_dims(k, c->biases, &m);
    memcpy(dst, c->other + j * (size_t)k, (size_t)k * sizeof *dst);
    for (int f = k; f < ld; f++)
        dst[f] = 0.0f;
    if (c->biases) {
        dst[k] = 1.0f;
        dst[m] = c->other_bias[j];
    }
}

size_t rec__row_scratch(int k)
{
    int m;
    size_t ld = (size_t)row_dims(k, 1, &m);
    /* A, its copy (NNLS), the float Z chunk (as doubles: half used), x,
       grad, diag */
    return 2 * ld * ld + CHUNK * ld + 3 * ld;
}

size_t rec__foldin_scratch(int k)
{
    return rec__row_scratch(k);
}

/* ---- Cholesky on the upper triangle, row stride ld ----
 * The library's own kernel is rec__chol_solve (kernels.c, one variant per
 * instruction set, chosen by cpu.c); LAPACK takes the larger systems. */

/* LAPACK's Cholesky solve of the same system: A's upper triangle in rows
   of ld is the lower triangle of a column-major matrix, so no copy. One
   BLAS thread (blas.c): the same bytes whatever the OpenMP thread count.
   Called through LAPACKE's C interface (its _work form: column-major, no
   copy, no NaN scan of its own), which passes Fortran's hidden string
   lengths for us; its dposv_ is the OpenBLAS the library links. */
static int chol_solve_lapack(double *A, int ld, double *b, int m)
{
    int token = rec__blas_enter();
    lapack_int info = LAPACKE_dposv_work(LAPACK_COL_MAJOR, 'L', m, 1, A, ld,
                                         b, m);
    rec__blas_leave(token);
    if (info != 0)
        return -1;
    for (int i = 0; i < m; i++)
        if (!isfinite(b[i]))
            return -1;
    return 0;
}

int rec__cholesky_solve_with(double *A, int ld, double *b, int m, int lapack)
{
    return lapack ? chol_solve_lapack(A, ld, b, m)
                  : rec__chol_solve(A, ld, b, m);
}

/* LAPACK from REC_LAPACK_MIN_DIM unknowns up (bench/bench_solve, the
   crossover in docs/als.md), when OpenBLAS can map its work buffer. */
static int chol_solve_ld(double *A, int ld, double *b, int m)
{
    if (m >= REC_LAPACK_MIN_DIM && rec__blas_buffer_ok())
        return chol_solve_lapack(A, ld, b, m);
    return rec__chol_solve(A, ld, b, m);
}

int rec__cholesky_solve(double *A, double *b, int k)
{
    if (!A || !b || k <= 0)
        return -1;
    return chol_solve_ld(A, k, b, k);
}

/* ---- nonnegative least squares by projected coordinate descent ----
 * min 0.5 x'Ax - b'x with x_i >= 0 for i < n_nonneg (the bias is free).
 * A is full symmetric (stride ld); x holds a start point; grad is scratch.
 * Coordinate descent on a strictly convex quadratic converges to the
 * unique constrained minimum; the sweep order is fixed (deterministic). */
static void nnls_cd(const double *A, int ld, const double *b, double *x,
                    int m, int n_nonneg, double *grad)
{
    for (int i = 0; i < m; i++) {
        if (i < n_nonneg && x[i] < 0.0)
            x[i] = 0.0;
    }
    for (int i = 0; i < m; i++) {
        const double *Ai = A + (size_t)i * ld;
        double s = -b[i];
        for (int j = 0; j < m; j++)
            s += Ai[j] * x[j];
        grad[i] = s;
    }
    for (int sweep = 0; sweep < 500; sweep++) {
        double biggest = 0.0, scale = 0.0;
        for (int i = 0; i < m; i++) {
            const double *Ai = A + (size_t)i * ld;
            double xi = x[i] - grad[i] / Ai[i];
            if (i < n_nonneg && xi < 0.0)
                xi = 0.0;
            double delta = xi - x[i];
            if (delta != 0.0) {
                x[i] = xi;
                for (int j = 0; j < m; j++)
                    grad[j] += delta * Ai[j];
            }
            if (fabs(delta) > biggest)
                biggest = fabs(delta);
            if (fabs(xi) > scale)
                scale = fabs(xi);
        }
        if (biggest <= 1e-10 * (1.0 + scale))
            break;
    }
}

/* ---- one row ---- */

/* accumulate() from the packed fixed side: a rating's row is one aligned
   run of pld floats (one cache line at rank 10) holding [y, 1, bias], the
   target goes where the bias was. The same Z, so the same sums. */
static void accumulate_packed(double *A, float *Z, const rec_row_ctx *c,
                              const int32_t *idx, const float *vals,
                              size_t n, int ld, int m)
{
    int pld = rec__row_ld(c->k, c->biases), kk = m + 1;
    const float *P = c->packed;
    for (size_t t0 = 0; t0 < n; t0 += CHUNK) {
        size_t cn = n - t0 < CHUNK ? n - t0 : CHUNK;
        for (size_t t = 0; t < cn; t++) {
            if (t0 + t + 40 < n) {
                const float *ahead = P + (size_t)idx[t0 + t + 40] * pld;
                for (int q = 0; q < ld; q += 16) /* its cache lines */
                    __builtin_prefetch(ahead + q);
            }
            const float *y = P + (size_t)idx[t0 + t] * pld;
            float *z = Z + t * ld;
            for (int q = 0; q < ld; q += 8) /* fixed-size vector moves */
                memcpy(z + q, y + q, 8 * sizeof *z);
            z[m] = (vals[t0 + t] - c->mu) - y[m];
        }
        rec__gram_add(A, Z, cn, ld, kk);
    }
}

/* A = Z^T Z over the row's ratings, Z = [y, 1, target] gathered in chunks. */
static void accumulate(double *A, float *Z, const rec_row_ctx *c,
                       const int32_t *idx, const float *vals, size_t n,
                       int ld, int m)
{
    int k = c->k, kk = m + 1; /* columns that carry data */
    if (c->packed && rec__row_ld(k, c->biases) == 16 &&
        rec__gram_packed(A, ld, c->packed, idx, vals, c->mu, n, m, CHUNK))
        return; /* the same sums, without the Z round trip or a memset
                   (only the upper triangle is read, as everywhere here) */
    memset(A, 0, (size_t)ld * ld * sizeof *A);
    if (c->packed) {
        accumulate_packed(A, Z, c, idx, vals, n, ld, m);
        return;
    }
    for (size_t t0 = 0; t0 < n; t0 += CHUNK) {
        size_t cn = n - t0 < CHUNK ? n - t0 : CHUNK;
        for (size_t t = 0; t < cn; t++) {
            int32_t j = idx[t0 + t];
            if (t0 + t + 16 < n) { /* both ends: a row may span two lines */
                const float *ahead = c->other + (size_t)idx[t0 + t + 16] * k;
                __builtin_prefetch(ahead);
                __builtin_prefetch(ahead + k - 1);
            }
            float *z = Z + t * ld;
            const float *y = c->other + (size_t)j * k;
            int q = 0;
            for (; q + 8 <= k; q += 8) /* fixed-size: inlined vector moves */
                memcpy(z + q, y + q, 8 * sizeof *z);
            for (; q < k; q++)
                z[q] = y[q];
            float target = vals[t0 + t] - c->mu;
            if (c->biases) {
                z[k] = 1.0f;
                target -= c->other_bias[j];
            }
            z[m] = target;
            for (int f = m + 1; f < ld; f++)
                z[f] = 0.0f;
        }
        rec__gram_add(A, Z, cn, ld, kk);
    }
}



int rec__solve_row(float *x_out, float *bias_out, const rec_row_ctx *c,
                   const int32_t *idx, const float *vals, size_t n,
                   double *scratch, double *sse_out, double *penalty_out)
{
    int k = c->k, m;
    int ld = row_dims(k, c->biases, &m);
    double *A = scratch;
    double *A2 = A + (size_t)ld * ld;
    float *Z = (float *)(A2 + (size_t)ld * ld);
    double *x = A2 + (size_t)ld * ld + (size_t)CHUNK * ld;
    double *grad = x + ld;
    double *diag = grad + ld;

    if (sse_out)
        *sse_out = 0.0;
    if (penalty_out)
        *penalty_out = 0.0;
    if (n == 0) { /* no ratings: nothing to learn, zero factors */
        memset(x_out, 0, (size_t)k * sizeof *x_out);
        if (bias_out)
            *bias_out = 0.0f;
        return 0;
    }

    int status = 0;
    double ridge_scale = 1e-9;
retry:
    accumulate(A, Z, c, idx, vals, n, ld, m);

    /* A[i][m] is b, A[m][m] the sum of squared targets. */
    double sum_t2 = A[(size_t)m * ld + m];
    double trace = 0.0;
    for (int i = 0; i < m; i++) {
        x[i] = A[(size_t)i * ld + m];
        trace += A[(size_t)i * ld + i];
    }
    if (!isfinite(sum_t2) || !isfinite(trace)) {
        /* a non-finite rating or factor: no solve can help (the caller
           reports it; NNLS would hide it) */
        memset(x_out, 0, (size_t)k * sizeof *x_out);
        if (bias_out)
            *bias_out = 0.0f;
        return -1;
    }
    /* ALS-WR regularisation plus a tiny ridge floor, so that reg 0 with
       fewer ratings than factors still gives a finite (near minimum-norm)
       solution instead of a singular system. */
    double eps = ridge_scale * (trace / m) + 1e-12;
    double dn = (double)n;
    for (int i = 0; i < m; i++) {
        diag[i] = (i < k ? c->reg * dn : c->bias_reg * dn + c->bias_prior) +
                  eps;
        A[(size_t)i * ld + i] += diag[i];
    }
    double *rhs = (double *)Z; /* the Z chunk is free now */
    memcpy(rhs, x, (size_t)m * sizeof *x);

    int need_copy = c->nonnegative;
    if (need_copy) { /* full symmetric copy for the constrained solve */
        for (int i = 0; i < m; i++)
            for (int j = i; j < m; j++)
                A2[(size_t)i * ld + j] = A2[(size_t)j * ld + i] =
                    A[(size_t)i * ld + j];
    }
    if (chol_solve_ld(A, ld, x, m) != 0) {
        /* Rounding (the tiles sum in float) can leave a rank-deficient
           system (reg 0, fewer ratings than factors) slightly indefinite:
           accumulate again with a stronger ridge floor. Rare. */
        if (ridge_scale < 1e-3) {
            ridge_scale *= 1e3;
            goto retry;
        }
        status = -1;
        memset(x, 0, (size_t)m * sizeof *x);
    }
    double xAx;
    if (c->nonnegative) {
        int neg = status != 0;
        for (int i = 0; i < k; i++)
            neg |= x[i] < 0.0;
        if (neg) {
            nnls_cd(A2, ld, rhs, x, m, k, grad);
            status = 0;
        }
        xAx = 0.0;
        for (int i = 0; i < m; i++) {
            const double *Ai = A2 + (size_t)i * ld;
            double s = 0.0;
            for (int j = 0; j < m; j++)
                s += Ai[j] * x[j];
            xAx += x[i] * s;
        }
    } else {
        xAx = 0.0;
        for (int i = 0; i < m; i++)
            xAx += x[i] * rhs[i]; /* A x = b at the solution */
    }

    double xb = 0.0, ridge = 0.0, pen = 0.0;
    for (int i = 0; i < m; i++) {
        xb += x[i] * rhs[i];
        ridge += diag[i] * x[i] * x[i];
        pen += (diag[i] - eps) * x[i] * x[i];
    }
    double sse = sum_t2 - 2.0 * xb + xAx - ridge;
    if (sse < 0.0)
        sse = 0.0;
    if (sse_out)
        *sse_out = sse;
    if (penalty_out)
        *penalty_out = pen;
    for (int i = 0; i < m && status == 0; i++)
        if (!rec__factor_ok((float)x[i])) /* beyond REC_MAX_FACTOR */
            status = -1;
    if (status != 0) {
        memset(x, 0, (size_t)m * sizeof *x);
        if (sse_out)
            *sse_out = 0.0;
        if (penalty_out)
            *penalty_out = 0.0;
    }
    for (int f = 0; f < k; f++)
        x_out[f] = (float)x[f];
    if (bias_out)
        *bias_out = c->biases ? (float)x[k] : 0.0f;
    return status;
}

void rec__row_ctx_model(rec_row_ctx *c, const rec_model *m)
{
    c->k = m->rank;
    c->biases = m->has_biases;
    c->nonnegative = m->nonnegative;
    c->reg = m->reg;
    c->bias_reg = m->bias_reg;
    c->bias_prior = m->bias_prior;
    c->mu = m->has_biases ? m->global_mean : 0.0f;
    c->other = m->movie_factors;
    c->other_bias = m->has_biases ? m->movie_bias : NULL;
    c->packed = NULL;
}

int rec__foldin(float *x_out, float *bias_out, const rec_model *m,
                const int32_t *items, const float *vals, size_t n,
                double *scratch)
{
    rec_row_ctx c;
    rec__row_ctx_model(&c, m);
    float bias = 0.0f;
    int st = rec__solve_row(x_out, &bias, &c, items, vals, n, scratch, NULL,
                            NULL);
    if (bias_out)
        *bias_out = bias;
    return st;
}

/* ---- initial factors ---- */

/* Uniform in [0, 1) from 53 random bits. */
static double unit(uint64_t *s)
{
    return (double)(rec__splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

void rec__init_factors(float *f, size_t n, int k, uint64_t seed, int nonneg)
{
    double scale = 1.0 / sqrt((double)k);
    for (size_t i = 0; i < n; i++) {
        uint64_t s = seed ^ (0xD1B54A32D192ED03ULL * (uint64_t)(i + 1));
        rec__splitmix64(&s);
        for (int j = 0; j < k; j++) {
            double v = unit(&s);
            f[i * (size_t)k + j] =
                (float)(scale * (nonneg ? v : 2.0 * v - 1.0));
        }
    }
}
