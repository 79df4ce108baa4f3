/*
 * solve.c - dense kernels of ALS: the normal equations of one row, their
 * Cholesky solve, the nonnegative (NNLS) solve, and fold-in.
 *
 * Everything here is single-threaded, BLAS-free and allocation-free: it runs
 * inside the OpenMP loops of als.c with per-thread scratch, so no OpenBLAS
 * thread pool can ever multiply with the OpenMP team.
 *
 * One row (a user, or a movie) solves for w = [x, bias]:
 *   min  sum_t (r_t - mu - c_t - y_t.x - bias)^2
 *        + reg * n * |x|^2 + bias_reg * n * bias^2          (ALS-WR)
 * where y_t, c_t are the fixed factors and bias of the other side. With
 * z_t = [y_t, 1, r_t - mu - c_t] the extended Gram matrix Z^T Z holds, in
 * one pass over the ratings, the normal matrix (top-left), the right-hand
 * side (last column) and sum of squared targets (corner). Z is gathered in
 * double, in chunks, and Z^T Z is accumulated by a vectorised kernel (an
 * AVX2/FMA variant is picked at run time on x86-64).
 */
#include "internal.h"

#include <math.h>
#include <string.h>

#define CHUNK 128 /* ratings gathered per kernel call */

/* Columns of the extended system: k factors, 1 bias, 1 target. */
static int row_dims(int k, int biases, int *m_out)
{
    int m = k + (biases ? 1 : 0);
    *m_out = m;
    return (m + 1 + 3) & ~3; /* ld: padded to a multiple of 4 */
}

size_t rec__row_scratch(int k)
{
    int m;
    size_t ld = (size_t)row_dims(k, 1, &m);
    /* A, its copy (NNLS), Z chunk, x, grad, diag */
    return 2 * ld * ld + CHUNK * ld + 3 * ld;
}

size_t rec__foldin_scratch(int k)
{
    return rec__row_scratch(k);
}

/* ---- A += Z^T Z (rows of A from 0 to kk, columns from the diagonal's
 *      4-block to ld; n is a multiple of 4, padding rows/columns are 0) ---- */

#define SYRK_BODY(MADD)                                                      \
    for (size_t t = 0; t < n; t += 4) {                                      \
        const double *z0 = Z + t * (size_t)ld, *z1 = z0 + ld;                \
        const double *z2 = z1 + ld, *z3 = z2 + ld;                           \
        for (int i = 0; i < kk; i++) {                                       \
            double a0 = z0[i], a1 = z1[i], a2 = z2[i], a3 = z3[i];           \
            double *Ai = A + (size_t)i * ld;                                 \
            for (int j = i & ~3; j < ld; j++) {                              \
                double s = Ai[j];                                            \
                s = MADD(a0, z0[j], s);                                      \
                s = MADD(a1, z1[j], s);                                      \
                s = MADD(a2, z2[j], s);                                      \
                s = MADD(a3, z3[j], s);                                      \
                Ai[j] = s;                                                   \
            }                                                                \
        }                                                                    \
    }

#define PLAIN_MADD(a, b, c) ((c) + (a) * (b))

static void syrk_generic(double *restrict A, const double *restrict Z,
                         size_t n, int ld, int kk)
{
    SYRK_BODY(PLAIN_MADD)
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define REC_HAVE_AVX2_KERNEL 1
__attribute__((target("arch=x86-64-v3"))) static void
syrk_avx2(double *restrict A, const double *restrict Z, size_t n, int ld,
          int kk)
{
    SYRK_BODY(fma)
}
#endif

static void syrk(double *A, const double *Z, size_t n, int ld, int kk)
{
#ifdef REC_HAVE_AVX2_KERNEL
    /* __builtin_cpu_supports reads a table filled before main(). */
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        syrk_avx2(A, Z, n, ld, kk);
        return;
    }
#endif
    syrk_generic(A, Z, n, ld, kk);
}

/* ---- Cholesky on the upper triangle, row stride ld ---- */

static int chol_solve_ld(double *A, int ld, double *b, int m)
{
    for (int i = 0; i < m; i++) {
        double *Ai = A + (size_t)i * ld;
        double d = Ai[i];
        if (!(d > 0.0) || !isfinite(d))
            return -1;
        d = sqrt(d);
        Ai[i] = d;
        double inv = 1.0 / d;
        for (int j = i + 1; j < m; j++)
            Ai[j] *= inv;
        for (int r = i + 1; r < m; r++) {
            double f = Ai[r];
            double *Ar = A + (size_t)r * ld;
            for (int j = r; j < m; j++)
                Ar[j] -= f * Ai[j];
        }
    }
    /* U^T y = b, column-oriented so the inner loop runs along rows. */
    for (int i = 0; i < m; i++) {
        const double *Ai = A + (size_t)i * ld;
        double y = b[i] / Ai[i];
        b[i] = y;
        for (int j = i + 1; j < m; j++)
            b[j] -= Ai[j] * y;
    }
    /* U x = y */
    for (int i = m - 1; i >= 0; i--) {
        const double *Ai = A + (size_t)i * ld;
        double s = b[i];
        for (int j = i + 1; j < m; j++)
            s -= Ai[j] * b[j];
        b[i] = s / Ai[i];
    }
    for (int i = 0; i < m; i++)
        if (!isfinite(b[i]))
            return -1;
    return 0;
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

int rec__solve_row(float *x_out, float *bias_out, const rec_row_ctx *c,
                   const int32_t *idx, const float *vals, size_t n,
                   double *scratch, double *sse_out, double *penalty_out)
{
    int k = c->k, m;
    int ld = row_dims(k, c->biases, &m);
    int kk = m + 1; /* columns that carry data: factors, bias, target */
    double *A = scratch;
    double *A2 = A + (size_t)ld * ld;
    double *Z = A2 + (size_t)ld * ld;
    double *x = Z + (size_t)CHUNK * ld;
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

    memset(A, 0, (size_t)ld * ld * sizeof *A);
    for (size_t t0 = 0; t0 < n; t0 += CHUNK) {
        size_t cn = n - t0 < CHUNK ? n - t0 : CHUNK;
        size_t cn4 = (cn + 3) & ~(size_t)3;
        for (size_t t = 0; t < cn; t++) {
            int32_t j = idx[t0 + t];
            const float *y = c->other + (size_t)j * k;
            double *z = Z + t * ld;
            for (int f = 0; f < k; f++)
                z[f] = y[f];
            double target = (double)vals[t0 + t] - c->mu;
            if (c->biases) {
                z[k] = 1.0;
                target -= c->other_bias[j];
            }
            z[m] = target;
            for (int f = m + 1; f < ld; f++)
                z[f] = 0.0;
        }
        if (cn4 > cn)
            memset(Z + cn * ld, 0, (cn4 - cn) * ld * sizeof *Z);
        syrk(A, Z, cn4, ld, kk);
    }

    /* A[i][m] is b, A[m][m] the sum of squared targets. */
    double sum_t2 = A[(size_t)m * ld + m];
    double trace = 0.0;
    for (int i = 0; i < m; i++) {
        x[i] = A[(size_t)i * ld + m];
        trace += A[(size_t)i * ld + i];
    }
    /* ALS-WR regularisation plus a tiny ridge floor, so that reg 0 with
       fewer ratings than factors still gives a finite (near minimum-norm)
       solution instead of a singular system. */
    double eps = 1e-9 * (trace / m) + 1e-12;
    double dn = (double)n;
    for (int i = 0; i < m; i++) {
        diag[i] = (i < k ? c->reg * dn : c->bias_reg * dn) + eps;
        A[(size_t)i * ld + i] += diag[i];
    }
    double *rhs = Z; /* the Z chunk is free now */
    memcpy(rhs, x, (size_t)m * sizeof *x);

    int status = 0;
    int need_copy = c->nonnegative;
    if (need_copy) { /* full symmetric copy for the constrained solve */
        for (int i = 0; i < m; i++)
            for (int j = i; j < m; j++)
                A2[(size_t)i * ld + j] = A2[(size_t)j * ld + i] =
                    A[(size_t)i * ld + j];
    }
    if (chol_solve_ld(A, ld, x, m) != 0) {
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
    c->mu = m->has_biases ? m->global_mean : 0.0f;
    c->other = m->movie_factors;
    c->other_bias = m->has_biases ? m->movie_bias : NULL;
}

void rec__foldin(float *x_out, float *bias_out, const rec_model *m,
                 const int32_t *items, const float *vals, size_t n,
                 double *scratch)
{
    rec_row_ctx c;
    rec__row_ctx_model(&c, m);
    float bias = 0.0f;
    rec__solve_row(x_out, &bias, &c, items, vals, n, scratch, NULL, NULL);
    if (bias_out)
        *bias_out = bias;
}
