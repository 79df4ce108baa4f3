/*
 * als_implicit.c - implicit-feedback ALS (Hu, Koren and Volinsky 2008).
 *
 * Every rating that counts (rec__implicit_weight) is an interaction of
 * weight r: preference 1, confidence c = 1 + alpha * r (implicit mode, as
 * Hu et al. and Spark) or c = alpha * r (the preference model of a hybrid,
 * on BM25 weights, as the implicit library: an interaction BM25 rates as
 * common, a popular movie by a heavy rater, may weigh less than an unseen
 * pair, which is what spreads the lists over the catalogue). Every other
 * (user, movie) pair has preference 0 and confidence 1. A row x (a user;
 * movies are the same with the roles swapped) solves
 *
 *   (Y^T Y + lambda I + sum_obs (c_i - 1) y_i y_i^T) x = sum_obs c_i y_i
 *
 * Y^T Y is computed once per half-iteration, so a row costs only its own
 * interactions. Two solvers:
 *  - Cholesky: the matrix above in full (solve.c's Gram kernel on rows
 *    z_i = [sqrt(|c_i - 1|) y_i, c_i / sqrt(|c_i - 1|)], whose last column
 *    yields the right-hand side; those with c_i < 1 in a second matrix
 *    that is subtracted: the whole stays positive definite, since it is
 *    sum_unseen y y^T + sum_obs c_i y_i y_i^T + lambda I with c_i > 0),
 *    then an exact solve: nnz k^2 + rows k^3/3.
 *  - CG: `cg_steps` conjugate-gradient steps warm-started from the row's
 *    previous factors (as the implicit library and Spark's fast paths):
 *    each step is one product with Y^T Y plus two passes over the row's
 *    interactions, nnz k + rows k^2 per step. Where the fixed side has
 *    few rows beside the solved one (ml-latest-small's movies: 9,742
 *    rows against 610 users), the half-step first turns both sides to
 *    the eigenbasis of Y^T Y (an orthogonal change of basis, which
 *    changes no score and none of CG's iterates in exact arithmetic):
 *    Y^T Y is diagonal there, so a step's product costs k instead of k^2,
 *    for k^2 per fixed row and per solved row once (the rotations).
 *
 * Threads and determinism as explicit ALS (als.c): one OpenMP region per
 * half-iteration, no BLAS and no allocation inside it, per-thread scratch.
 * Y^T Y is summed inside that region over fixed blocks of rows (their
 * number depends only on the row count), the blocks are added in block
 * order, then the rows are solved: the model is bit-identical for the
 * same data, parameters and seed, whatever the thread count.
 */
#include "internal.h"

#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 128       /* rows per Gram kernel call (its limit) */
#define GRAM_BLOCKS 32  /* at most this many partial Gram matrices */
#define GRAM_MIN_ROWS 1024

/* Fixed side of a half-iteration. */
typedef struct imp_ctx {
    int k, ld, solver, cg_steps;
    double lambda, alpha;
    double conf_base;    /* c = conf_base + alpha * r: 1 or 0 */
    float min_rating;
    int by_value;
    int eigenbasis;      /* rec_implicit_cfg's */
    const float *other;  /* fixed factors, stride k */
    const double *yty;   /* k x k, full symmetric */
    const float *ytyf;   /* the same in float (CG) */
    const float *diag;   /* in the eigenbasis: Y^T Y's eigenvalues, else
                            NULL */
    const float *rot;    /* then its eigenvectors (columns), k x k */
} imp_ctx;

static int pad_ld(int k)
{
    return (k + 1 + 7) & ~7; /* k factors + 1 right-hand side, padded */
}

/* Per-thread scratch, in doubles. */
static size_t row_scratch(int k)
{
    size_t ld = (size_t)pad_ld(k), kk = (size_t)k;
    /* A (ld^2), compact A (k^2), b (ld), Z (CHUNK*ld floats), then the
       matrix of the interactions with c < 1 (ld^2) */
    return 2 * ld * ld + kk * kk + ld + (CHUNK * ld + 1) / 2 + 1;
}

/* Scratch of the CG path for rows of up to max_row interactions: r, p, q,
   then per interaction c - 1, c, its position in the row and its factor
   row (gathered, at a cache-line boundary). */
static size_t cg_scratch(int k, size_t max_row)
{
    size_t floats = 3 * (size_t)k + 3 * max_row + 16 + max_row * (size_t)k;
    return (floats + 1) / 2 + 1;
}

/* ---- Y^T Y, inside a parallel region ----
 * Rows [0, n) are cut into nb fixed blocks; block b's Gram matrix goes to
 * part + b*ld*ld (upper tiles). Then the entries are summed over blocks in
 * block order into yty (full symmetric, k x k) and ytyf. */

static size_t gram_nblocks(size_t n)
{
    size_t nb = (n + GRAM_MIN_ROWS - 1) / GRAM_MIN_ROWS;
    if (nb > GRAM_BLOCKS)
        nb = GRAM_BLOCKS;
    return nb ? nb : 1;
}

static void gram_in_region(double *yty, float *ytyf, double *part,
                           const float *f, size_t n, int k, float *Z)
{
    int ld = pad_ld(k);
    size_t nb = gram_nblocks(n), per = (n + nb - 1) / nb;
    size_t ld2 = (size_t)ld * ld;
#pragma omp for schedule(dynamic, 1)
    for (size_t b = 0; b < nb; b++) {
        double *A = part + b * ld2;
        memset(A, 0, ld2 * sizeof *A);
        size_t r0 = b * per, r1 = r0 + per < n ? r0 + per : n;
        for (size_t t0 = r0; t0 < r1; t0 += CHUNK) {
            size_t cn = r1 - t0 < CHUNK ? r1 - t0 : CHUNK;
            for (size_t t = 0; t < cn; t++) {
                float *z = Z + t * ld;
                memcpy(z, f + (t0 + t) * (size_t)k, (size_t)k * sizeof *z);
                for (int q = k; q < ld; q++)
                    z[q] = 0.0f;
            }
            rec__gram_add(A, Z, cn, ld, k);
        }
    }
    /* implicit barrier */
#pragma omp for schedule(static)
    for (int i = 0; i < k; i++) {
        for (int j = i; j < k; j++) {
            double s = 0.0;
            for (size_t b = 0; b < nb; b++)
                s += part[b * ld2 + (size_t)i * ld + j];
            yty[(size_t)i * k + j] = s;
            yty[(size_t)j * k + i] = s;
            if (ytyf) {
                ytyf[(size_t)i * k + j] = (float)s;
                ytyf[(size_t)j * k + i] = (float)s;
            }
        }
    }
    /* implicit barrier: yty is complete for every thread */
}

/* ---- one row ---- */

static inline float dot8(const float *a, const float *b, int k)
{
    return rec__dotf(a, b, k);
}

/* Ask for every cache line of a factor row that will be read soon: rows
   of the fixed side are visited in random order, and for popular movies
   and active users they no longer fit in the caches. */
static inline void prefetch_row(const float *y, int k)
{
    const char *p = (const char *)y;
    for (int b = 0; b < k * (int)sizeof *y; b += 64)
        __builtin_prefetch(p + b);
}

/* c - 1 of an interaction of weight r > 0 (exact for c = 1 + alpha r). */
static inline double conf_minus_one(const imp_ctx *c, double r)
{
    return c->alpha * r - (1.0 - c->conf_base);
}

static size_t n_interactions(const imp_ctx *c, const float *vals, size_t n)
{
    size_t used = 0;
    for (size_t t = 0; t < n; t++)
        used += rec__implicit_weight(vals[t], c->min_rating, c->by_value) > 0.0;
    return used;
}

/* G += sum of z_i z_i^T over the interactions whose c_i - 1 has the sign
   `sign` (+1: above 0, -1: below), z_i = [sqrt(|c_i - 1|) y_i,
   sign c_i / sqrt(|c_i - 1|)]: G's top-left gets |c_i - 1| y_i y_i^T, its
   last column sign c_i y_i. Returns how many there were. */
static size_t gather_add(double *G, float *Z, const imp_ctx *c,
                         const int32_t *idx, const float *vals, size_t n,
                         int sign)
{
    int k = c->k, ld = c->ld;
    size_t used = 0;
    for (size_t t0 = 0; t0 < n; t0 += CHUNK) {
        size_t cn = n - t0 < CHUNK ? n - t0 : CHUNK, w = 0;
        for (size_t t = 0; t < cn; t++) {
            double r = rec__implicit_weight(vals[t0 + t], c->min_rating,
                                            c->by_value);
            if (r <= 0.0)
                continue;
            double cm1 = conf_minus_one(c, r) * sign;
            if (!(cm1 > 0.0))
                continue;
            double s = sqrt(cm1);
            float fs = (float)s;
            const float *y = c->other + (size_t)idx[t0 + t] * k;
            if (t + 6 < cn)
                prefetch_row(c->other + (size_t)idx[t0 + t + 6] * k, k);
            float *z = Z + w * ld;
            for (int q = 0; q < k; q++)
                z[q] = fs * y[q];
            z[k] = (float)(sign * (1.0 + sign * cm1) / s);
            for (int q = k + 1; q < ld; q++)
                z[q] = 0.0f;
            w++;
        }
        if (w)
            rec__gram_add(G, Z, w, ld, k + 1);
        used += w;
    }
    return used;
}

/* Exact solve. Returns 0, or -1 (zero factors written). */
static int row_cholesky(float *x_out, const imp_ctx *c, const int32_t *idx,
                        const float *vals, size_t n, double *scratch)
{
    int k = c->k, ld = c->ld;
    double *A = scratch;
    double *C = A + (size_t)ld * ld;
    double *b = C + (size_t)k * k;
    float *Z = (float *)(b + ld);

    memset(A, 0, (size_t)ld * ld * sizeof *A);
    double trace = 0.0;
    for (int i = 0; i < k; i++) {
        memcpy(A + (size_t)i * ld + i, c->yty + (size_t)i * k + i,
               (size_t)(k - i) * sizeof *A);
        trace += A[(size_t)i * ld + i];
    }
    size_t used = gather_add(A, Z, c, idx, vals, n, 1);
    if (used < n_interactions(c, vals, n)) { /* some c_i <= 1 */
        double *N = b + ld + (CHUNK * (size_t)ld + 1) / 2 + 1;
        memset(N, 0, (size_t)ld * ld * sizeof *N);
        used += gather_add(N, Z, c, idx, vals, n, -1);
        for (int i = 0; i <= k; i++)
            for (int j = i; j <= k; j++)
                A[(size_t)i * ld + j] -= N[(size_t)i * ld + j];
        for (size_t t = 0; t < n; t++) { /* c_i = 1: right-hand side only */
            double r = rec__implicit_weight(vals[t], c->min_rating,
                                            c->by_value);
            if (r > 0.0 && conf_minus_one(c, r) == 0.0) {
                const float *y = c->other + (size_t)idx[t] * k;
                for (int i = 0; i < k; i++)
                    A[(size_t)i * ld + k] += y[i];
                used++;
            }
        }
    }
    if (used == 0) { /* no interaction: A x = 0 */
        memset(x_out, 0, (size_t)k * sizeof *x_out);
        return 0;
    }
    /* lambda plus a tiny ridge floor (lambda 0 with few interactions).
       Rounding (the tiles sum in float) can leave a rank-deficient or
       badly scaled system (confidences of 1e7: counts by value) slightly
       indefinite: then stronger floors relative to the whole system's
       trace, as solve.c does for explicit rows (A is kept, only its copy
       C is factorised). */
    double full_trace = 0.0;
    for (int i = 0; i < k; i++)
        full_trace += A[(size_t)i * ld + i];
    int bad = 1;
    for (int attempt = 0; bad && attempt < 4; attempt++) {
        double eps = attempt == 0 ? 1e-9 * (trace / k) + 1e-12
                                  : pow(1e3, attempt - 3) * (full_trace / k);
        for (int i = 0; i < k; i++) {
            const double *Ai = A + (size_t)i * ld;
            memcpy(C + (size_t)i * k + i, Ai + i, (size_t)(k - i) * sizeof *C);
            C[(size_t)i * k + i] += c->lambda + eps;
            b[i] = Ai[k];
        }
        bad = rec__cholesky_solve(C, b, k) != 0;
    }
    for (int i = 0; i < k && !bad; i++)
        bad = !rec__factor_ok((float)b[i]); /* beyond REC_MAX_FACTOR */
    if (bad) {
        memset(x_out, 0, (size_t)k * sizeof *x_out);
        return -1;
    }
    for (int i = 0; i < k; i++)
        x_out[i] = (float)b[i];
    return 0;
}

/* q = (Y^T Y + lambda I) v + sum_obs [(c_i - 1)(y_i . v) - b_i] y_i, with
   b_i = c_i when `minus_b` (then -q is the residual b - A v) and 0
   otherwise (then q = A v), over the row's interactions: their factor rows
   gathered in G, c_i in cc, c_i - 1 in cw. The product is rec__cg_apply
   (kernels.c: the variant for the CPU, the same bits at every level). */
static inline void cg_apply(float *restrict q, const imp_ctx *c,
                            const float *restrict v, const float *G,
                            const float *cw, const float *cc, size_t n,
                            int minus_b)
{
    rec__cg_apply(q, c->ytyf, c->diag, (float)c->lambda, G, c->k, v, cw, cc,
                  n, minus_b);
}

/* The CG scratch of a row of n ratings (cg_scratch). */
typedef struct cg_rows {
    float *r, *p, *q, *cw, *cc, *G;
    int32_t *pos; /* the interaction's index in the row's ratings */
    size_t used;  /* interactions */
} cg_rows;

static cg_rows cg_layout(double *scratch, int k, size_t n)
{
    cg_rows w;
    w.r = (float *)scratch;
    w.p = w.r + k;
    w.q = w.p + k;
    w.cw = w.q + k;
    w.cc = w.cw + n;
    w.pos = (int32_t *)(w.cc + n);
    uintptr_t g = (uintptr_t)(w.pos + n);
    w.G = (float *)((g + 63) & ~(uintptr_t)63);
    w.used = 0;
    return w;
}

/* The row's interactions, compacted: confidences, positions and factor
   rows gathered contiguously (the CG steps then stream them from the
   caches instead of visiting random rows of the fixed side each time;
   ratings that are no interaction drop out once). */
static void cg_gather(cg_rows *w, const imp_ctx *c, const int32_t *idx,
                      const float *vals, size_t n)
{
    int k = c->k;
    size_t used = 0;
    for (size_t t = 0; t < n; t++) {
        if (t + 8 < n)
            prefetch_row(c->other + (size_t)idx[t + 8] * k, k);
        double wt = rec__implicit_weight(vals[t], c->min_rating, c->by_value);
        if (wt <= 0.0)
            continue;
        float cm1 = (float)conf_minus_one(c, wt);
        w->cw[used] = cm1;
        /* 1 + cw in float, as c = 1 + alpha r was always computed */
        w->cc[used] = c->conf_base == 1.0 ? 1.0f + cm1 : (float)(c->alpha * wt);
        w->pos[used] = (int32_t)t;
        memcpy(w->G + used * (size_t)k, c->other + (size_t)idx[t] * k,
               (size_t)k * sizeof *w->G);
        used++;
    }
    w->used = used;
}

/* `cg_steps` steps of conjugate gradient from the factors in x, over the
   gathered interactions. */
static int row_cg(float *x, const imp_ctx *c, const cg_rows *w)
{
    int k = c->k;
    float *r = w->r, *p = w->p, *q = w->q;
    size_t n = w->used;
    if (n == 0) {
        memset(x, 0, (size_t)k * sizeof *x);
        return 0;
    }
    /* r = b - A x, b = sum c_i y_i */
    cg_apply(q, c, x, w->G, w->cw, w->cc, n, 1);
    for (int i = 0; i < k; i++)
        p[i] = r[i] = -q[i];
    float rs = dot8(r, r, k);
    for (int step = 0; step < c->cg_steps; step++) {
        if (!(rs > 1e-20f))
            break;
        cg_apply(q, c, p, w->G, w->cw, w->cc, n, 0);
        float pq = dot8(p, q, k);
        if (!(pq > 0.0f))
            break;
        float a = rs / pq;
        for (int i = 0; i < k; i++) {
            x[i] += a * p[i];
            r[i] -= a * q[i];
        }
        float rs2 = dot8(r, r, k);
        float beta = rs2 / rs;
        for (int i = 0; i < k; i++)
            p[i] = r[i] + beta * p[i];
        rs = rs2;
    }
    for (int i = 0; i < k; i++)
        if (!rec__factor_ok(x[i])) { /* NaN, or beyond REC_MAX_FACTOR */
            memset(x, 0, (size_t)k * sizeof *x);
            return -1;
        }
    return 0;
}

/* Weighted loss of a row at x: x^T YtY x + sum_obs [c (1 - s)^2 - s^2]
   (the all-zero preferences via YtY, corrected on the interactions), and
   the squared error on the interactions, sum_obs (1 - s)^2. Rating u has
   the factor row Y + (rows ? rows[u] : u) k and the value
   vals[pos ? pos[u] : u] (the CG path passes its gathered rows). */
static void row_loss(double *loss, double *sse, const imp_ctx *c,
                     const float *x, const float *Y, const int32_t *rows,
                     const float *vals, const int32_t *pos, size_t n)
{
    int k = c->k;
    double l = 0.0, e = 0.0;
    for (int i = 0; i < k; i++)
        l += (double)x[i] * (c->diag ? c->diag[i] * x[i]
                                     : dot8(c->ytyf + (size_t)i * k, x, k));
    for (size_t u = 0; u < n; u++) {
        double w = rec__implicit_weight(vals[pos ? pos[u] : (int32_t)u],
                                        c->min_rating, c->by_value);
        if (w <= 0.0)
            continue;
        double s = dot8(Y + (size_t)(rows ? rows[u] : (int32_t)u) * k, x, k);
        l += (c->conf_base + c->alpha * w) * (1.0 - s) * (1.0 - s) - s * s;
        e += (1.0 - s) * (1.0 - s);
    }
    *loss = l;
    *sse = e;
}

/* One half-iteration: Y^T Y of `other` (n_other rows), then every row of
   x. One parallel region. */
typedef struct half_args {
    float *x;
    size_t n;
    const uint64_t *off;
    const int32_t *idx;
    const float *vals;
    size_t n_other;
    float *other;      /* the fixed side (c->other), turned in place when
                          the half-step runs in the eigenbasis */
    int eigen;         /* whether it does (rotates_to_eigenbasis) */
    double *evec, *eval; /* k^2, k: LAPACK's eigenvectors and values */
    float *rotf, *diagf; /* k^2, k: the same in float */
    double *part;      /* GRAM_BLOCKS * ld^2 */
    double *yty;       /* k^2 */
    float *ytyf;       /* k^2 */
    double *scratch;   /* nt * scratch_len */
    size_t scratch_len;
    int nt;
    double *loss, *sse; /* per row, or NULL */
    int failed;
} half_args;

/* Whether a half-step solving n rows against n_other runs in the
   eigenbasis: CG only, when the rotations (k^2 per row of both sides, and
   the eigendecomposition, about 10 k^3) cost less than the k^2 per row
   and step they save. The choice depends on the data's shape alone, so
   that every thread count and every MPI rank makes it alike. */
static int rotates_to_eigenbasis(const imp_ctx *c, size_t n, size_t n_other)
{
    if (c->solver != REC_SOLVER_CG || c->eigenbasis < 0 || n == 0)
        return 0;
    if (c->eigenbasis > 0)
        return 1;
    return (double)n_other + 10.0 * c->k < (double)c->cg_steps * (double)n;
}

/* Y^T Y's eigenvectors and eigenvalues (LAPACK, outside any parallel
   region), in float for the kernels: 0, or -1 when LAPACK fails or could
   not get its work buffer (rec__blas_buffer_ok); the half-step then stays
   in its basis. */
static int eigenbasis(half_args *h, int k)
{
    size_t kk = (size_t)k * k;
    if (!rec__blas_buffer_ok())
        return -1;
    memcpy(h->evec, h->yty, kk * sizeof *h->evec);
    int keep = rec__blas_enter();
    lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', k, h->evec,
                                     k, h->eval);
    rec__blas_leave(keep);
    if (info != 0)
        return -1;
    for (size_t i = 0; i < kk; i++)
        h->rotf[i] = (float)h->evec[i];
    for (int i = 0; i < k; i++) /* semi-definite: a tiny negative is rounding */
        h->diagf[i] = h->eval[i] > 0.0 ? (float)h->eval[i] : 0.0f;
    return 0;
}

/* This thread's part of Y^T Y of the fixed side (inside a region), with
   the Z area of its row scratch. */
static void gram_on_thread(half_args *h, const imp_ctx *c)
{
    size_t ld = (size_t)c->ld, kk = (size_t)c->k;
    double *s = h->scratch + (size_t)omp_get_thread_num() * h->scratch_len;
    gram_in_region(h->yty, h->ytyf, h->part, c->other, h->n_other, c->k,
                   (float *)(s + ld * ld + kk * kk + ld));
}

static void half_step(half_args *h, imp_ctx *c)
{
    int failed = 0;
    c->yty = h->yty;
    c->ytyf = h->ytyf;
    c->diag = c->rot = NULL;
    size_t kk = (size_t)c->k;
    if (h->eigen) { /* Y^T Y first: LAPACK runs outside the regions */
#pragma omp parallel num_threads(h->nt)
        gram_on_thread(h, c);
        if (eigenbasis(h, c->k) == 0) {
            c->diag = h->diagf;
            c->rot = h->rotf;
        }
    }
#pragma omp parallel num_threads(h->nt) reduction(| : failed)
    {
        double *s = h->scratch + (size_t)omp_get_thread_num() * h->scratch_len;
        if (!h->eigen)
            gram_on_thread(h, c);
        if (c->rot) { /* the fixed side to the eigenbasis */
            float *tmp = (float *)s;
#pragma omp for schedule(static)
            for (size_t j = 0; j < h->n_other; j++) {
                float *y = h->other + j * kk;
                rec__rotate(tmp, c->rot, c->k, y);
                memcpy(y, tmp, kk * sizeof *y);
            }
            /* implicit barrier: every row sees the whole turned side */
        }
#pragma omp for schedule(dynamic, 4)
        for (size_t i = 0; i < h->n; i++) {
            uint64_t a = h->off[i], b = h->off[i + 1];
            float *xi = h->x + i * kk;
            const int32_t *idx = h->idx + a;
            const float *vals = h->vals + a;
            size_t n = (size_t)(b - a);
            if (c->solver == REC_SOLVER_CHOLESKY) {
                failed |= row_cholesky(xi, c, idx, vals, n, s) != 0;
                if (h->loss)
                    row_loss(h->loss + i, h->sse + i, c, xi, c->other, idx,
                             vals, NULL, n);
            } else {
                cg_rows w = cg_layout(s, c->k, n);
                if (c->rot) { /* the warm start, in the eigenbasis */
                    rec__rotate(w.q, c->rot, c->k, xi);
                    memcpy(xi, w.q, kk * sizeof *xi);
                }
                cg_gather(&w, c, idx, vals, n);
                failed |= row_cg(xi, c, &w) != 0;
                if (h->loss)
                    row_loss(h->loss + i, h->sse + i, c, xi, w.G, NULL, vals,
                             w.pos, w.used);
            }
        }
    }
    h->failed = failed;
}

rec_status rec__implicit_fit(float *X, float *Y, double **yty_out,
                             const rec_ratings *r, const float *user_vals,
                             const float *movie_vals,
                             const rec_implicit_cfg *g, int nt,
                             rec_iter_fn on_iter, void *iter_ctx,
                             rec_error *err)
{
    *yty_out = NULL;
    int k = g->k;
    int ld = pad_ld(k);
    rec_status st = REC_OK;
    size_t scratch_len = row_scratch(k);
    size_t max_row = 0;
    for (size_t u = 0; u < r->n_users; u++)
        if (r->user_off[u + 1] - r->user_off[u] > max_row)
            max_row = (size_t)(r->user_off[u + 1] - r->user_off[u]);
    for (size_t j = 0; j < r->n_movies; j++)
        if (r->movie_off[j + 1] - r->movie_off[j] > max_row)
            max_row = (size_t)(r->movie_off[j + 1] - r->movie_off[j]);
    if (g->solver == REC_SOLVER_CG && cg_scratch(k, max_row) > scratch_len)
        scratch_len = cg_scratch(k, max_row);
    double *scratch = malloc((size_t)nt * scratch_len * sizeof(double));
    /* partial Gram matrices: as many as the larger side has blocks */
    size_t nb = gram_nblocks(r->n_users) > gram_nblocks(r->n_movies)
                    ? gram_nblocks(r->n_users)
                    : gram_nblocks(r->n_movies);
    double *part = malloc(nb * ld * ld * sizeof(double));
    double *yty = malloc((size_t)k * k * sizeof(double));
    float *ytyf = malloc((size_t)k * k * sizeof(float));
    size_t nmax = r->n_users > r->n_movies ? r->n_users : r->n_movies;
    double *loss = on_iter ? malloc(nmax * sizeof(double)) : NULL;
    double *sse = on_iter ? malloc(nmax * sizeof(double)) : NULL;
    double *evec = malloc(((size_t)k * k + k) * sizeof(double));
    float *rotf = malloc(((size_t)k * k + k) * sizeof(float));
    if (!scratch || !part || !yty || !ytyf || !evec || !rotf ||
        (on_iter && (!loss || !sse))) {
        st = rec__fail(err, REC_ENOMEM, "rec_train_als: out of memory");
        goto done;
    }
    rec__implicit_init_factors(X, r->n_users, Y, r->n_movies, k, g->seed);
    size_t nobs = 0; /* interactions, for the progress RMSE */
    for (size_t t = 0; on_iter && t < r->nnz; t++)
        nobs += rec__implicit_weight(user_vals[t], g->min_rating,
                                     g->by_value) > 0.0;

    imp_ctx c = {.k = k, .ld = ld, .solver = g->solver,
                 .cg_steps = g->cg_steps, .lambda = g->lambda,
                 .alpha = g->alpha, .conf_base = g->conf_base,
                 .min_rating = g->min_rating, .by_value = g->by_value,
                 .eigenbasis = g->eigenbasis};
    half_args hm = {.x = Y, .n = r->n_movies, .off = r->movie_off,
                    .idx = r->movie_users, .vals = movie_vals,
                    .n_other = r->n_users, .other = X,
                    .eigen = rotates_to_eigenbasis(&c, r->n_movies,
                                                   r->n_users),
                    .evec = evec, .eval = evec + (size_t)k * k,
                    .rotf = rotf, .diagf = rotf + (size_t)k * k,
                    .part = part, .yty = yty,
                    .ytyf = ytyf, .scratch = scratch,
                    .scratch_len = scratch_len, .nt = nt};
    half_args hu = hm;
    hu.x = X;
    hu.n = r->n_users;
    hu.off = r->user_off;
    hu.idx = r->user_items;
    hu.vals = user_vals;
    hu.n_other = r->n_movies;
    hu.other = Y;
    hu.eigen = rotates_to_eigenbasis(&c, r->n_users, r->n_movies);
    hu.loss = loss;
    hu.sse = sse;

    for (int it = 1; it <= g->iterations; it++) {
        c.other = X;
        half_step(&hm, &c);
        c.other = Y;
        half_step(&hu, &c);
        if (hm.failed || hu.failed) {
            st = rec__fail(err, REC_ELAPACK,
                           "implicit ALS: a row could not be solved at "
                           "iteration %d (try a larger reg)",
                           it);
            goto done;
        }
        if (on_iter) {
            double tl = 0.0, te = 0.0, nx = 0.0, ny = 0.0;
            for (size_t u = 0; u < r->n_users; u++) {
                tl += loss[u];
                te += sse[u];
                const float *x = X + u * (size_t)k;
                for (int f = 0; f < k; f++)
                    nx += (double)x[f] * x[f];
            }
            for (size_t j = 0; j < r->n_movies; j++) {
                const float *y = Y + j * (size_t)k;
                for (int f = 0; f < k; f++)
                    ny += (double)y[f] * y[f];
            }
            double rmse = nobs ? sqrt(te / (double)nobs) : 0.0;
            if (on_iter(iter_ctx, rmse, tl + g->lambda * (nx + ny)) != 0) {
                st = REC_ECANCELED;
                goto done;
            }
        }
    }
    /* the last half-step's Y^T Y is the movie side's: keep it for fold-in,
       unless that step turned the movies to another basis */
    if (hu.eigen && c.rot) {
        st = rec__gram_of(yty_out, Y, r->n_movies, k, err);
        goto done;
    }
    *yty_out = yty;
    yty = NULL;

done:
    free(scratch);
    free(part);
    free(yty);
    free(ytyf);
    free(loss);
    free(sse);
    free(evec);
    free(rotf);
    return st;
}

rec_status rec__gram_of(double **out, const float *Y, size_t n, int k,
                        rec_error *err)
{
    int ld = pad_ld(k);
    *out = NULL;
    double *yty = malloc((size_t)k * k * sizeof *yty);
    double *part = malloc(gram_nblocks(n) * ld * ld * sizeof *part);
    int nt = omp_get_max_threads();
    float *Z = malloc((size_t)(nt > 0 ? nt : 1) * CHUNK * ld * sizeof *Z);
    if (!yty || !part || !Z) {
        free(yty);
        free(part);
        free(Z);
        return rec__fail(err, REC_ENOMEM, "implicit model: out of memory");
    }
#pragma omp parallel num_threads(nt > 0 ? nt : 1)
    gram_in_region(yty, NULL, part, Y, n, k,
                   Z + (size_t)omp_get_thread_num() * CHUNK * ld);
    free(part);
    free(Z);
    *out = yty;
    return REC_OK;
}

rec_status rec__implicit_solve(float *x, int k, const float *Y,
                               const double *yty, double lambda, double alpha,
                               double conf_base, const int32_t *items,
                               const float *w, size_t n, rec_error *err)
{
    if (!yty)
        return rec__fail(err, REC_EINVAL, "implicit model without Y^T Y");
    double *scratch = malloc(row_scratch(k) * sizeof *scratch);
    if (!scratch)
        return rec__fail(err, REC_ENOMEM, "fold-in: out of memory");
    imp_ctx c = {.k = k, .ld = pad_ld(k), .solver = REC_SOLVER_CHOLESKY,
                 .lambda = lambda, .alpha = alpha, .conf_base = conf_base,
                 .min_rating = 0.0f,
                 .by_value = 1, .other = Y, .yty = yty};
    int st = row_cholesky(x, &c, items, w, n, scratch);
    free(scratch);
    if (st != 0)
        return rec__fail(err, REC_ELAPACK, "fold-in: singular system");
    return REC_OK;
}

int rec_model_implicit(const rec_model *m)
{
    return m ? m->implicit : 0;
}

/* ---- shared with distributed training (src/mpi/als_mpi.c) ----
   The validation, model set-up, initialisation and half-iteration above,
   so that a distributed run reproduces rec__train_implicit. */

void rec__implicit_init_factors(float *users, size_t n_users, float *movies,
                                size_t n_movies, int k, uint64_t seed)
{
    rec__init_factors(users, n_users, k, seed, 0);
    rec__init_factors(movies, n_movies, k, seed ^ 0x5851F42D4C957F2DULL, 0);
}

struct rec_implicit_half {
    imp_ctx c;
    half_args h;
};

void rec__implicit_half_free(rec_implicit_half *s)
{
    if (!s)
        return;
    free(s->h.scratch);
    free(s->h.part);
    free(s->h.yty);
    free(s->h.ytyf);
    free(s->h.evec);
    free(s->h.rotf);
    free(s);
}

rec_status rec__implicit_half_new(rec_implicit_half **out,
                                  const rec_implicit_cfg *g, size_t max_row,
                                  int nt, rec_error *err)
{
    *out = NULL;
    rec_implicit_half *s = calloc(1, sizeof *s);
    if (!s)
        return rec__fail(err, REC_ENOMEM, "implicit ALS: out of memory");
    int k = g->k, ld = pad_ld(k);
    size_t scratch_len = row_scratch(k);
    if (g->solver == REC_SOLVER_CG && cg_scratch(k, max_row) > scratch_len)
        scratch_len = cg_scratch(k, max_row);
    s->h.scratch = malloc((size_t)nt * scratch_len * sizeof(double));
    s->h.part = malloc((size_t)GRAM_BLOCKS * ld * ld * sizeof(double));
    s->h.yty = malloc((size_t)k * k * sizeof(double));
    s->h.ytyf = malloc((size_t)k * k * sizeof(float));
    s->h.evec = malloc(((size_t)k * k + k) * sizeof(double));
    s->h.rotf = malloc(((size_t)k * k + k) * sizeof(float));
    s->h.eval = s->h.evec ? s->h.evec + (size_t)k * k : NULL;
    s->h.diagf = s->h.rotf ? s->h.rotf + (size_t)k * k : NULL;
    s->h.scratch_len = scratch_len;
    s->h.nt = nt;
    if (!s->h.scratch || !s->h.part || !s->h.yty || !s->h.ytyf ||
        !s->h.evec || !s->h.rotf) {
        rec__implicit_half_free(s);
        return rec__fail(err, REC_ENOMEM, "implicit ALS: out of memory");
    }
    s->c = (imp_ctx){.k = k, .ld = ld, .solver = g->solver,
                     .cg_steps = g->cg_steps, .lambda = g->lambda,
                     .alpha = g->alpha, .conf_base = g->conf_base,
                     .min_rating = g->min_rating,
                     .by_value = g->by_value != 0,
                     .eigenbasis = g->eigenbasis};
    *out = s;
    return REC_OK;
}

int rec__implicit_half_run(rec_implicit_half *s, float *x, size_t n,
                           size_t n_side, const uint64_t *off,
                           const int32_t *idx, const float *vals,
                           float *other, size_t n_other, double *loss,
                           double *sse)
{
    s->h.x = x;
    s->h.n = n;
    s->h.other = other;
    s->h.eigen = rotates_to_eigenbasis(&s->c, n_side, n_other);
    s->h.off = off;
    s->h.idx = idx;
    s->h.vals = vals;
    s->h.n_other = n_other;
    s->h.loss = loss;
    s->h.sse = sse;
    s->c.other = other;
    half_step(&s->h, &s->c);
    return s->h.failed;
}
