/*
 * kernels.c - the hot inner kernels in each instruction-set variant: the
 * scoring kernel (dot products of one vector with rows of a matrix: top-n,
 * predictions), the Gram-tile kernel (A += Z^T Z on 8x8 tiles: every ALS
 * row), the row Cholesky solve, the implicit CG product, the cosines of
 * similar movies, and the selection scans of batch ranking. cpu.c picks
 * one variant of each, once per process; only it calls here.
 *
 * The AVX-512 variants do the very arithmetic of the AVX2 ones, in the same
 * order, on twice the data per instruction (two movies per register for
 * scoring, two column tiles for the Gram matrix), so their results are
 * bit-identical to AVX2 and top-n does not change with the CPU. The
 * portable variants (no FMA) agree within rounding.
 */
#include "internal.h"
#include "kernels.h"

#include <math.h>

/* ---- scoring: dot products of x with rows [j0, j1) of Y, into out ---- */

void rec__score_rows_portable(float *out, const float *Y, int k,
                              const float *x, size_t j0, size_t j1)
{
    for (size_t j = j0; j < j1; j++)
        out[j - j0] = rec__dotf(x, Y + j * (size_t)k, k);
}

/* ---- A += Z^T Z on the upper 8x8 tiles ----
 * Z is n rows of ld floats (columns >= kk are zero). Each 8x8 tile of A is
 * accumulated in float registers over the chunk (at most CHUNK ratings)
 * and then added to A in double: products and short sums in float (the
 * factors are floats), the long sums over a row's ratings in double. */

void rec__gram_add_portable(double *restrict A, const float *restrict Z,
                            size_t n, int ld, int kk)
{
    int nt = (kk + 7) / 8;
    for (int bi = 0; bi < nt; bi++) {
        for (int bj = bi; bj < nt; bj++) {
            float acc[8][8] = {{0}};
            for (size_t t = 0; t < n; t++) {
                const float *zi = Z + t * ld + bi * 8;
                const float *zj = Z + t * ld + bj * 8;
                for (int r = 0; r < 8; r++)
                    for (int c = 0; c < 8; c++)
                        acc[r][c] += zi[r] * zj[c];
            }
            for (int r = 0; r < 8; r++) {
                double *Ar = A + (size_t)(bi * 8 + r) * ld + bj * 8;
                for (int c = 0; c < 8; c++)
                    Ar[c] += acc[r][c];
            }
        }
    }
}

/* ---- selection: which scores of a row pass a threshold ----
 * Comparisons only, so every variant gives the same bits. */

void rec__above_portable(uint64_t *bits, const float *x, size_t n, float t)
{
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        size_t i0 = w * 64, i1 = n - i0 < 64 ? n : i0 + 64;
        uint64_t b = 0;
        for (size_t i = i0; i < i1; i++)
            b |= (uint64_t)(x[i] > t) << (i - i0);
        bits[w] = b;
    }
}

/* First index of ascending pos[0..np) whose value is > v. */
static inline size_t first_above(const float *pos, size_t np, float v)
{
    size_t lo = 0, hi = np;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pos[mid] > v)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* First index of ascending pos[0..np) whose value is >= v. */
static inline size_t first_at_least(const float *pos, size_t np, float v)
{
    size_t lo = 0, hi = np;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pos[mid] >= v)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

uint64_t rec__auc_count_portable(const float *a, size_t n, const float *pos,
                                 size_t np, float w, uint32_t *near,
                                 size_t *n_near)
{
    uint64_t right = 0;
    size_t nn = 0;
    for (size_t i = 0; i < n; i++) {
        float hi = a[i] + w, lo = a[i] - w;
        size_t g = first_above(pos, np, hi);
        if (g > 0 && pos[g - 1] >= lo)
            near[nn++] = (uint32_t)i;
        else
            right += np - g;
    }
    *n_near = nn;
    return right;
}

/* ---- Cholesky solve on the upper triangle, row stride ld ----
 * Right-looking, in panels of 4 rows: the trailing rows get one rank-4
 * update per panel (4 multiply-adds per load/store of A). Row updates start
 * at a 4-aligned column and run to the padded end, so the loops are whole
 * vectors without alias checks; what they write left of the diagonal is
 * never read (only the upper triangle is). */

static inline __attribute__((always_inline)) void
row_sub(double *restrict y, const double *restrict x, double f, int n)
{
    for (int j = 0; j < n; j++)
        y[j] -= f * x[j];
}

static inline __attribute__((always_inline)) void
row_sub4(double *restrict y, const double *restrict x0,
                            const double *restrict x1,
                            const double *restrict x2,
                            const double *restrict x3, const double *f, int n)
{
    double f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3];
    for (int j = 0; j < n; j++)
        y[j] -= (f0 * x0[j] + f1 * x1[j]) + (f2 * x2[j] + f3 * x3[j]);
}

/* One body for every variant (inlined into each, compiled for its
   instruction set): returns 0, or -1 when A is not positive definite or
   the solution is not finite. */
static inline __attribute__((always_inline)) int
chol_body(double *A, int ld, double *b, int m)
{
    int jend = (m + 3) & ~3;
    if (jend > ld)
        jend = m;
    for (int ib = 0; ib < m; ib += 4) {
        int bend = ib + 4 < m ? ib + 4 : m;
        for (int i = ib; i < bend; i++) { /* the panel itself */
            double *Ai = A + (size_t)i * ld;
            double d = Ai[i];
            if (!(d > 0.0) || !isfinite(d))
                return -1;
            d = sqrt(d);
            Ai[i] = d;
            double inv = 1.0 / d;
            for (int j = i + 1; j < m; j++)
                Ai[j] *= inv;
            for (int r = i + 1; r < bend; r++) {
                int j0 = r & ~3;
                row_sub(A + (size_t)r * ld + j0, Ai + j0, Ai[r], jend - j0);
            }
        }
        const double *P = A + (size_t)ib * ld;
        for (int r = bend; r < m; r++) { /* trailing rows */
            int j0 = r & ~3;
            double *Ar = A + (size_t)r * ld + j0;
            if (bend - ib == 4) {
                double f[4] = {P[r], P[ld + r], P[2 * ld + r],
                               P[3 * ld + r]};
                row_sub4(Ar, P + j0, P + ld + j0, P + 2 * ld + j0,
                         P + 3 * ld + j0, f, jend - j0);
            } else {
                for (int p = ib; p < bend; p++) {
                    const double *Ap = A + (size_t)p * ld;
                    row_sub(Ar, Ap + j0, Ap[r], jend - j0);
                }
            }
        }
    }
    /* U^T y = b, column-oriented so the inner loop runs along rows. */
    for (int i = 0; i < m; i++) {
        const double *Ai = A + (size_t)i * ld;
        double y = b[i] / Ai[i];
        b[i] = y;
        row_sub(b + i + 1, Ai + i + 1, y, m - i - 1);
    }
    /* U x = y, the dot products with four partial sums */
    for (int i = m - 1; i >= 0; i--) {
        const double *Ai = A + (size_t)i * ld;
        double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
        int j = i + 1;
        for (; j + 4 <= m; j += 4) {
            s0 += Ai[j] * b[j];
            s1 += Ai[j + 1] * b[j + 1];
            s2 += Ai[j + 2] * b[j + 2];
            s3 += Ai[j + 3] * b[j + 3];
        }
        for (; j < m; j++)
            s0 += Ai[j] * b[j];
        b[i] = (b[i] - ((s0 + s1) + (s2 + s3))) / Ai[i];
    }
    for (int i = 0; i < m; i++)
        if (!isfinite(b[i]))
            return -1;
    return 0;
}

int rec__chol_solve_portable(double *A, int ld, double *b, int m)
{
    return chol_body(A, ld, b, m);
}

/* ---- implicit ALS: one conjugate-gradient product ----
 * q = (Y^T Y + lambda I) v + sum_t [(c_t - 1)(y_t . v) - b_t] y_t over a
 * row's n interactions, their factor rows gathered contiguously in Y
 * (als_implicit.c, row_cg): c_t in cc, c_t - 1 in cw, b_t = c_t when
 * minus_b, else 0. Y^T Y is symmetric, so its part is taken by columns:
 * q_i sums ytyf[f][i] v_f over f in order, one chain per element, which
 * any vector width computes in the same order; or it is diagonal (Y^T Y
 * in its eigenbasis: diag). The dot products y_t . v are rec__dotf's, and
 * nothing is contracted, so every variant gives the same bits. */

void rec__cg_apply_portable(float *restrict q, const float *ytyf,
                            const float *diag, float lambda, const float *Y,
                            int k, const float *restrict v, const float *cw,
                            const float *cc, size_t n, int minus_b)
{
    if (diag) {
        for (int i = 0; i < k; i++)
            q[i] = diag[i] * v[i];
    } else {
        for (int i = 0; i < k; i++)
            q[i] = 0.0f;
        for (int f = 0; f < k; f++) {
            const float *col = ytyf + (size_t)f * k;
            for (int i = 0; i < k; i++)
                q[i] += col[i] * v[f];
        }
    }
    for (int i = 0; i < k; i++)
        q[i] += lambda * v[i];
    for (size_t t = 0; t < n; t++) {
        const float *y = Y + t * (size_t)k;
        float sj = cw[t] * rec__dotf(y, v, k);
        if (minus_b)
            sj -= cc[t];
        for (int i = 0; i < k; i++)
            q[i] += sj * y[i];
    }
}

/* ---- similar movies: cosines of rows of Y with y0 (norm n0) ---- */

static inline __attribute__((always_inline)) void
cosine_body(float *out, const float *Y, int k, const float *y0, float n0,
            size_t j0, size_t j1)
{
    for (size_t j = j0; j < j1; j++) {
        const float *y = Y + j * (size_t)k;
        float nj = sqrtf(rec__dotf(y, y, k));
        out[j - j0] = (n0 > 0.0f && nj > 0.0f)
                          ? rec__dotf(y0, y, k) / (n0 * nj)
                          : 0.0f;
    }
}

void rec__cosine_rows_portable(float *out, const float *Y, int k,
                               const float *y0, float n0, size_t j0,
                               size_t j1)
{
    cosine_body(out, Y, k, y0, n0, j0, j1);
}

#ifdef REC_HAVE_X86_KERNELS
#include <immintrin.h>

/* ---- AVX2 + FMA ---- */

__attribute__((target("avx2,fma"))) static inline float hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v),
                          _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Lanes of the tail of k (k8 = k rounded down to 8, tail = k - k8). */
static const int32_t tail_lanes[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                       0,  0,  0,  0,  0,  0,  0,  0};

/* One movie: lane l sums x[f] y[f] for f = l mod 8 by FMA, in order. */
__attribute__((target("avx2,fma"))) static inline float
dot_avx2(const float *y0, const float *x, int k8, int tail, __m256i mask,
         __m256 xt)
{
    __m256 a0 = _mm256_setzero_ps();
    for (int f = 0; f < k8; f += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(y0 + f), _mm256_loadu_ps(x + f),
                             a0);
    if (tail)
        a0 = _mm256_fmadd_ps(_mm256_maskload_ps(y0 + k8, mask), xt, a0);
    return hsum8(a0);
}

__attribute__((target("avx2,fma"))) void
rec__score_rows_avx2(float *out, const float *Y, int k, const float *x,
                     size_t j0, size_t j1)
{
    int k8 = k & ~7, tail = k - k8;
    __m256i mask =
        _mm256_loadu_si256((const __m256i *)(tail_lanes + 8 - tail));
    __m256 xt = _mm256_maskload_ps(x + k8, mask);
    size_t j = j0;
    for (; j + 4 <= j1; j += 4) { /* four movies: the same per-lane sums */
        const float *y0 = Y + j * (size_t)k, *y1 = y0 + k, *y2 = y1 + k,
                    *y3 = y2 + k;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int f = 0; f < k8; f += 8) {
            __m256 xv = _mm256_loadu_ps(x + f);
            a0 = _mm256_fmadd_ps(_mm256_loadu_ps(y0 + f), xv, a0);
            a1 = _mm256_fmadd_ps(_mm256_loadu_ps(y1 + f), xv, a1);
            a2 = _mm256_fmadd_ps(_mm256_loadu_ps(y2 + f), xv, a2);
            a3 = _mm256_fmadd_ps(_mm256_loadu_ps(y3 + f), xv, a3);
        }
        if (tail) {
            a0 = _mm256_fmadd_ps(_mm256_maskload_ps(y0 + k8, mask), xt, a0);
            a1 = _mm256_fmadd_ps(_mm256_maskload_ps(y1 + k8, mask), xt, a1);
            a2 = _mm256_fmadd_ps(_mm256_maskload_ps(y2 + k8, mask), xt, a2);
            a3 = _mm256_fmadd_ps(_mm256_maskload_ps(y3 + k8, mask), xt, a3);
        }
        out[j - j0] = hsum8(a0);
        out[j - j0 + 1] = hsum8(a1);
        out[j - j0 + 2] = hsum8(a2);
        out[j - j0 + 3] = hsum8(a3);
    }
    for (; j < j1; j++)
        out[j - j0] = dot_avx2(Y + j * (size_t)k, x, k8, tail, mask, xt);
}

/* One 8x8 tile (nr = 8), or its top half (nr = 4: the last tile row of A
   when its lower rows are beyond the data and would stay zero):
   C[r] += zi[r] * zj[0..8) over the chunk. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
tile_rows_avx2(double *restrict A, const float *restrict Z, size_t n, int ld,
               int bi, int bj, const int nr)
{
    __m256 cs[8];
    for (int r = 0; r < nr; r++)
        cs[r] = _mm256_setzero_ps();
    const float *zi = Z + bi * 8, *zj = Z + bj * 8;
    for (size_t t = 0; t < n; t++, zi += ld, zj += ld) {
        __m256 y = _mm256_loadu_ps(zj);
        for (int r = 0; r < nr; r++)
            cs[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(zi + r), y, cs[r]);
    }
    for (int r = 0; r < nr; r++) {
        double *Ar = A + (size_t)(bi * 8 + r) * ld + bj * 8;
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(cs[r]));
        __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(cs[r], 1));
        _mm256_storeu_pd(Ar, _mm256_add_pd(_mm256_loadu_pd(Ar), lo));
        _mm256_storeu_pd(Ar + 4, _mm256_add_pd(_mm256_loadu_pd(Ar + 4), hi));
    }
}

__attribute__((target("avx2,fma"))) static void
tile_avx2(double *restrict A, const float *restrict Z, size_t n, int ld,
          int bi, int bj, int kk)
{
    if (kk - 8 * bi <= 4) /* rows 4..7 of this tile are zero */
        tile_rows_avx2(A, Z, n, ld, bi, bj, 4);
    else
        tile_rows_avx2(A, Z, n, ld, bi, bj, 8);
}

__attribute__((target("avx2,fma"))) void
rec__gram_add_avx2(double *restrict A, const float *restrict Z, size_t n,
                   int ld, int kk)
{
    int nt = (kk + 7) / 8;
    for (int bi = 0; bi < nt; bi++)
        for (int bj = bi; bj < nt; bj++)
            tile_avx2(A, Z, n, ld, bi, bj, kk);
}

__attribute__((target("avx2"))) void
rec__above_avx2(uint64_t *bits, const float *x, size_t n, float t)
{
    __m256 tv = _mm256_set1_ps(t);
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        size_t i0 = w * 64, i1 = n - i0 < 64 ? n : i0 + 64, i = i0;
        uint64_t b = 0;
        for (; i + 8 <= i1; i += 8)
            b |= (uint64_t)(unsigned)_mm256_movemask_ps(_mm256_cmp_ps(
                     _mm256_loadu_ps(x + i), tv, _CMP_GT_OQ))
                 << (i - i0);
        for (; i < i1; i++)
            b |= (uint64_t)(x[i] > t) << (i - i0);
        bits[w] = b;
    }
}

/* The Cholesky solve with AVX2 and fused multiply-adds (ISO C mode turns
   contraction off by default; the portable variant keeps it off). The
   AVX-512 level uses this variant too. */
__attribute__((target("avx2,fma"), optimize("fp-contract=fast"))) int
rec__chol_solve_avx2(double *A, int ld, double *b, int m)
{
    return chol_body(A, ld, b, m);
}

/* ---- the CG product, AVX2 ----
 * The portable variant's operations in its order: q in registers, 64
 * elements (eight chains) at a time; the dot products rec__dotf's, four
 * rows at a time (independent chains, so their adds overlap).
 */

/* Four rows' sums of eight lanes: ((l0+l4)+(l1+l5))+((l2+l6)+(l3+l7)). */
__attribute__((target("avx2"))) static inline __m128
hsum4_avx2(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
    __m128 s0 = _mm_add_ps(_mm256_castps256_ps128(a0),
                           _mm256_extractf128_ps(a0, 1));
    __m128 s1 = _mm_add_ps(_mm256_castps256_ps128(a1),
                           _mm256_extractf128_ps(a1, 1));
    __m128 s2 = _mm_add_ps(_mm256_castps256_ps128(a2),
                           _mm256_extractf128_ps(a2, 1));
    __m128 s3 = _mm_add_ps(_mm256_castps256_ps128(a3),
                           _mm256_extractf128_ps(a3, 1));
    return _mm_hadd_ps(_mm_hadd_ps(s0, s1), _mm_hadd_ps(s2, s3));
}

/* y_u . v for the four rows y + u ld, u < 4, as rec__dotf: lane l sums
   f = l mod 8 in order, then ((l0+l4)+(l1+l5))+((l2+l6)+(l3+l7)), plus
   the tail (f >= k8) summed in order. */
__attribute__((target("avx2"))) static inline __m128
dot4_avx2(const float *y, size_t ld, const float *v, int k8, int k)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int f = 0; f < k8; f += 8) {
        __m256 vv = _mm256_loadu_ps(v + f);
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_loadu_ps(y + f), vv));
        a1 = _mm256_add_ps(a1,
                           _mm256_mul_ps(_mm256_loadu_ps(y + ld + f), vv));
        a2 = _mm256_add_ps(
            a2, _mm256_mul_ps(_mm256_loadu_ps(y + 2 * ld + f), vv));
        a3 = _mm256_add_ps(
            a3, _mm256_mul_ps(_mm256_loadu_ps(y + 3 * ld + f), vv));
    }
    __m128 h = hsum4_avx2(a0, a1, a2, a3);
    __m128 tail = _mm_setzero_ps();
    for (int f = k8; f < k; f++)
        tail = _mm_add_ps(tail, _mm_mul_ps(_mm_set_ps(y[3 * ld + f],
                                                      y[2 * ld + f],
                                                      y[ld + f], y[f]),
                                           _mm_set1_ps(v[f])));
    return _mm_add_ps(h, tail);
}

/* dot4_avx2 for eight rows at once, without a tail (k a multiple of 8):
   eight chains keep both adders busy. */
__attribute__((target("avx2"))) static inline void
dot8_avx2(__m128 *lo, __m128 *hi, const float *y, size_t ld, const float *v,
          int k)
{
    __m256 a[8];
    for (int u = 0; u < 8; u++)
        a[u] = _mm256_setzero_ps();
    for (int f = 0; f < k; f += 8) {
        __m256 vv = _mm256_loadu_ps(v + f);
        for (int u = 0; u < 8; u++)
            a[u] = _mm256_add_ps(
                a[u], _mm256_mul_ps(_mm256_loadu_ps(y + u * ld + f), vv));
    }
    *lo = hsum4_avx2(a[0], a[1], a[2], a[3]);
    *hi = hsum4_avx2(a[4], a[5], a[6], a[7]);
}

/* s_t = cw_t (y_t . v) - b_t for the rows t0 <= t < t1 into s. */
__attribute__((target("avx2"))) static inline void
cg_coeffs(float *s, const float *Y, int k, const float *v, const float *cw,
          const float *cc, size_t t0, size_t t1, int minus_b)
{
    int k8 = k & ~7;
    size_t t = t0;
    /* the tail adds 0 to each sum when k8 == k: dot4's bits */
    for (; k8 == k && t + 8 <= t1; t += 8) {
        __m128 d[2];
        dot8_avx2(&d[0], &d[1], Y + t * (size_t)k, (size_t)k, v, k);
        for (int h = 0; h < 2; h++) {
            __m128 e = _mm_mul_ps(_mm_loadu_ps(cw + t + 4 * h),
                                  _mm_add_ps(d[h], _mm_setzero_ps()));
            if (minus_b)
                e = _mm_sub_ps(e, _mm_loadu_ps(cc + t + 4 * h));
            _mm_storeu_ps(s + (t + 4 * h - t0), e);
        }
    }
    for (; t + 4 <= t1; t += 4) {
        __m128 d = _mm_mul_ps(_mm_loadu_ps(cw + t),
                              dot4_avx2(Y + t * (size_t)k, (size_t)k, v, k8,
                                        k));
        if (minus_b)
            d = _mm_sub_ps(d, _mm_loadu_ps(cc + t));
        _mm_storeu_ps(s + (t - t0), d);
    }
    for (; t < t1; t++) {
        float d = cw[t] * rec__dotf(Y + t * (size_t)k, v, k);
        s[t - t0] = minus_b ? d - cc[t] : d;
    }
}

/* One chunk of q: elements [i0, i0 + 8 KC) (the last vector masked to
   the chunk's end unless FULL) with KC a constant, so that q stays in
   registers
   (named ones: an array of eight vectors ends up on the stack).
   `dense` starts it from (Y^T Y + lambda I) v, otherwise it is loaded;
   then the sparse terms s_t y_t for the rows t0 <= t < t1. */
#define CG_EACH(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7)
#define CG_LOAD(c, x)                                                       \
    ((c) == KC - 1 && !FULL ? _mm256_maskload_ps((x) + 8 * (c), mask)      \
                            : _mm256_loadu_ps((x) + 8 * (c)))
#define CG_ZERO(c) __m256 q##c = _mm256_setzero_ps();
#define CG_FROM_Q(c)                                                        \
    if (KC > (c))                                                          \
        q##c = CG_LOAD(c, q + i0);
#define CG_AXPY(c)                                                          \
    if (KC > (c))                                                          \
        q##c = _mm256_add_ps(q##c, _mm256_mul_ps(CG_LOAD(c, x), sv));
#define CG_DIAG(c)                                                          \
    if (KC > (c))                                                          \
        q##c = _mm256_mul_ps(CG_LOAD(c, diag + i0), CG_LOAD(c, v + i0));
#define CG_STORE(c)                                                         \
    if (KC > (c)) {                                                        \
        if ((c) == KC - 1 && !FULL)                                        \
            _mm256_maskstore_ps(q + i0 + 8 * (c), mask, q##c);             \
        else                                                               \
            _mm256_storeu_ps(q + i0 + 8 * (c), q##c);                      \
    }

__attribute__((target("avx2"), always_inline)) static inline void
cg_chunk(float *restrict q, const float *ytyf, const float *diag,
         float lambda, const float *Y, int k, const float *restrict v,
         const float *s, size_t t0, size_t t1, int i0, int dense,
         const int KC, const int FULL)
{
    int left = (k - i0) - 8 * (KC - 1); /* lanes of the last vector */
    if (left > 8)
        left = 8;
    __m256i mask = _mm256_loadu_si256(
        (const __m256i *)(tail_lanes + 8 - left));
    CG_EACH(CG_ZERO)
    if (dense && diag) {
        CG_EACH(CG_DIAG)
    } else if (dense) {
        for (int f = 0; f < k; f++) {
            __m256 sv = _mm256_set1_ps(v[f]);
            const float *x = ytyf + (size_t)f * k + i0;
            CG_EACH(CG_AXPY)
        }
    }
    if (dense) {
        __m256 sv = _mm256_set1_ps(lambda);
        const float *x = v + i0;
        CG_EACH(CG_AXPY)
    } else {
        CG_EACH(CG_FROM_Q)
    }
    for (size_t t = t0; t < t1; t++) {
        __m256 sv = _mm256_set1_ps(s[t - t0]);
        const float *x = Y + t * (size_t)k + i0;
        CG_EACH(CG_AXPY)
    }
    CG_EACH(CG_STORE)
}

__attribute__((target("avx2"))) static void
cg_chunk_any(float *q, const float *ytyf, const float *diag, float lambda,
             const float *Y, int k, const float *v, const float *s, size_t t0,
             size_t t1, int i0, int dense)
{
    int kc = (k - i0 + 7) / 8 < 8 ? (k - i0 + 7) / 8 : 8;
    int full = k - i0 >= 8 * kc;
    switch (kc * 2 + full) {
#define CG_CASE(K)                                                          \
    case 2 * K:                                                            \
        cg_chunk(q, ytyf, diag, lambda, Y, k, v, s, t0, t1, i0, dense, K,  \
                 0);                                                       \
        return;                                                            \
    case 2 * K + 1:                                                        \
        cg_chunk(q, ytyf, diag, lambda, Y, k, v, s, t0, t1, i0, dense, K,  \
                 1);                                                       \
        return;
        CG_CASE(1) CG_CASE(2) CG_CASE(3) CG_CASE(4)
        CG_CASE(5) CG_CASE(6) CG_CASE(7) CG_CASE(8)
#undef CG_CASE
    }
}
#undef CG_EACH
#undef CG_LOAD
#undef CG_ZERO
#undef CG_FROM_Q
#undef CG_AXPY
#undef CG_DIAG
#undef CG_STORE

/* Rows of the sparse part per pass over q's chunks. */
#define CG_ROWS 256

__attribute__((target("avx2"))) void
rec__cg_apply_avx2(float *q, const float *ytyf, const float *diag,
                   float lambda, const float *Y, int k, const float *v,
                   const float *cw, const float *cc, size_t n, int minus_b)
{
    float s[CG_ROWS];
    if (k <= 64) { /* one chunk: q stays in registers over all rows */
        for (size_t t0 = 0;; t0 += CG_ROWS) {
            size_t t1 = n - t0 < CG_ROWS ? n : t0 + CG_ROWS;
            cg_coeffs(s, Y, k, v, cw, cc, t0, t1, minus_b);
            cg_chunk_any(q, ytyf, diag, lambda, Y, k, v, s, t0, t1, 0,
                         t0 == 0);
            if (t1 == n)
                return;
        }
    }
    for (int i0 = 0; i0 < k; i0 += 64)
        cg_chunk_any(q, ytyf, diag, lambda, Y, k, v, NULL, 0, 0, i0, 1);
    for (size_t t0 = 0; t0 < n; t0 += CG_ROWS) {
        size_t t1 = n - t0 < CG_ROWS ? n : t0 + CG_ROWS;
        cg_coeffs(s, Y, k, v, cw, cc, t0, t1, minus_b);
        for (int i0 = 0; i0 < k; i0 += 64)
            cg_chunk_any(q, ytyf, diag, lambda, Y, k, v, s, t0, t1, i0, 0);
    }
}

__attribute__((target("avx2"))) void
rec__cosine_rows_avx2(float *out, const float *Y, int k, const float *y0,
                      float n0, size_t j0, size_t j1)
{
    cosine_body(out, Y, k, y0, n0, j0, j1);
}

/* ---- AVX-512 (F) ---- */

#define AVX512 __attribute__((target("avx512f,avx2,fma")))

/* The AVX2 horizontal sum of each 256-bit half. */
AVX512 static inline void hsum8_pair(float *out, __m512 v)
{
    out[0] = hsum8(_mm512_castps512_ps256(v));
    out[1] = hsum8(_mm256_castpd_ps(
        _mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

AVX512 static inline __m512 pair(const float *a, const float *b)
{
    __m512d lo = _mm512_castpd256_pd512(_mm256_castps_pd(_mm256_loadu_ps(a)));
    return _mm512_castpd_ps(
        _mm512_insertf64x4(lo, _mm256_castps_pd(_mm256_loadu_ps(b)), 1));
}

AVX512 static inline __m512 pair_tail(const float *a, const float *b, int t)
{
    __mmask16 m = (__mmask16)(((1u << t) - 1u) | (((1u << t) - 1u) << 8));
    /* lanes 0..t of a and 8..8+t of b (b - 8 + 8 = b) */
    __m512 va = _mm512_maskz_loadu_ps((__mmask16)((1u << t) - 1u), a);
    __m512 vb = _mm512_maskz_loadu_ps((__mmask16)(((1u << t) - 1u) << 8),
                                      b - 8);
    return _mm512_mask_blend_ps(m & 0xFF00, va, vb);
}

AVX512 void rec__score_rows_avx512(float *out, const float *Y, int k,
                                   const float *x, size_t j0, size_t j1)
{
    int k8 = k & ~7, tail = k - k8;
    __m256i mask =
        _mm256_loadu_si256((const __m256i *)(tail_lanes + 8 - tail));
    __m256 xt = _mm256_maskload_ps(x + k8, mask);
    __m512 xt2 = tail ? pair_tail(x + k8, x + k8, tail) : _mm512_setzero_ps();
    size_t j = j0;
    for (; j + 8 <= j1; j += 8) { /* eight movies, two per register */
        const float *y0 = Y + j * (size_t)k;
        size_t sk = (size_t)k;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int f = 0; f < k8; f += 8) {
            __m512 xv = pair(x + f, x + f);
            a0 = _mm512_fmadd_ps(pair(y0 + f, y0 + sk + f), xv, a0);
            a1 = _mm512_fmadd_ps(pair(y0 + 2 * sk + f, y0 + 3 * sk + f), xv,
                                 a1);
            a2 = _mm512_fmadd_ps(pair(y0 + 4 * sk + f, y0 + 5 * sk + f), xv,
                                 a2);
            a3 = _mm512_fmadd_ps(pair(y0 + 6 * sk + f, y0 + 7 * sk + f), xv,
                                 a3);
        }
        if (tail) {
            a0 = _mm512_fmadd_ps(
                pair_tail(y0 + k8, y0 + sk + k8, tail), xt2, a0);
            a1 = _mm512_fmadd_ps(
                pair_tail(y0 + 2 * sk + k8, y0 + 3 * sk + k8, tail), xt2, a1);
            a2 = _mm512_fmadd_ps(
                pair_tail(y0 + 4 * sk + k8, y0 + 5 * sk + k8, tail), xt2, a2);
            a3 = _mm512_fmadd_ps(
                pair_tail(y0 + 6 * sk + k8, y0 + 7 * sk + k8, tail), xt2, a3);
        }
        float *o = out + (j - j0);
        hsum8_pair(o, a0);
        hsum8_pair(o + 2, a1);
        hsum8_pair(o + 4, a2);
        hsum8_pair(o + 6, a3);
    }
    for (; j < j1; j++)
        out[j - j0] = dot_avx2(Y + j * (size_t)k, x, k8, tail, mask, xt);
}

/* Two column tiles (bj, bj + 1) of one tile row at once: per element the
   same FMA chain as tile_avx2. */
AVX512 static void tile_pair_avx512(double *restrict A,
                                    const float *restrict Z, size_t n, int ld,
                                    int bi, int bj)
{
    __m512 c[8];
    for (int r = 0; r < 8; r++)
        c[r] = _mm512_setzero_ps();
    const float *zi = Z + bi * 8, *zj = Z + bj * 8;
    for (size_t t = 0; t < n; t++, zi += ld, zj += ld) {
        __m512 y = _mm512_loadu_ps(zj);
        for (int r = 0; r < 8; r++)
            c[r] = _mm512_fmadd_ps(_mm512_set1_ps(zi[r]), y, c[r]);
    }
    for (int r = 0; r < 8; r++) {
        double *Ar = A + (size_t)(bi * 8 + r) * ld + bj * 8;
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(c[r]));
        __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(
            _mm512_extractf64x4_pd(_mm512_castps_pd(c[r]), 1)));
        _mm512_storeu_pd(Ar, _mm512_add_pd(_mm512_loadu_pd(Ar), lo));
        _mm512_storeu_pd(Ar + 8, _mm512_add_pd(_mm512_loadu_pd(Ar + 8), hi));
    }
}

AVX512 void rec__gram_add_avx512(double *restrict A, const float *restrict Z,
                                 size_t n, int ld, int kk)
{
    int nt = (kk + 7) / 8;
    for (int bi = 0; bi < nt; bi++) {
        int bj = bi;
        for (; bj + 2 <= nt; bj += 2)
            tile_pair_avx512(A, Z, n, ld, bi, bj);
        if (bj < nt)
            tile_avx2(A, Z, n, ld, bi, bj, kk);
    }
}
AVX512 void rec__above_avx512(uint64_t *bits, const float *x, size_t n,
                              float t)
{
    __m512 tv = _mm512_set1_ps(t);
    for (size_t w = 0; w < (n + 63) / 64; w++) {
        uint64_t b = 0;
        for (size_t i = w * 64; i < n && i < w * 64 + 64; i += 16) {
            size_t left = n - i;
            __mmask16 live = left >= 16 ? (__mmask16)0xFFFF
                                        : (__mmask16)((1u << left) - 1u);
            __m512 v = _mm512_maskz_loadu_ps(live, x + i);
            b |= (uint64_t)_mm512_mask_cmp_ps_mask(live, v, tv, _CMP_GT_OQ)
                 << (i - w * 64);
        }
        bits[w] = b;
    }
}

/* Sixteen movies at a time, each relevant score compared with all sixteen
   lanes. With many relevant scores, those above every lane's hi (pos is
   ascending) count for all lanes at once and only those between the
   block's lowest lo and highest hi are compared lane by lane. */
/* The sum of the 16 unsigned 32-bit lanes, without wrapping. */
AVX512 static inline uint64_t lane_sum_u32(__m512i v)
{
    __m512i lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(v));
    __m512i hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(v, 1));
    return (uint64_t)_mm512_reduce_add_epi64(_mm512_add_epi64(lo, hi));
}

AVX512 uint64_t rec__auc_count_avx512(const float *a, size_t n,
                                      const float *pos, size_t np, float w,
                                      uint32_t *near, size_t *n_near)
{
    __m512 wv = _mm512_set1_ps(w);
    const __m512i one = _mm512_set1_epi32(1);
    uint64_t right = 0;
    size_t nn = 0;
    int ranged = np > 32;
    /* the lanes' counts are summed once per `flush` blocks, not per block:
       a lane gains at most np per block, so they cannot wrap meanwhile */
    __m512i tot = _mm512_setzero_si512();
    size_t flush = np ? 0x7FFFFFFFu / np : SIZE_MAX, pending = 0;
    if (flush == 0)
        flush = 1;
    for (size_t i = 0; i < n; i += 16) {
        size_t left = n - i;
        __mmask16 live = left >= 16 ? (__mmask16)0xFFFF
                                    : (__mmask16)((1u << left) - 1u);
        __m512 av = _mm512_maskz_loadu_ps(live, a + i);
        __m512 hi = _mm512_add_ps(av, wv), lo = _mm512_sub_ps(av, wv);
        size_t p_lo = 0, p_hi = np;
        if (ranged) {
            p_hi = first_above(pos, np, _mm512_mask_reduce_max_ps(live, hi));
            p_lo = first_at_least(pos, np,
                                  _mm512_mask_reduce_min_ps(live, lo));
        }
        __m512i cnt = _mm512_setzero_si512();
        __mmask16 nearm = 0;
        for (size_t p = p_lo; p < p_hi; p++) {
            __m512 pv = _mm512_set1_ps(pos[p]);
            __mmask16 gt = _mm512_mask_cmp_ps_mask(live, pv, hi, _CMP_GT_OQ);
            __mmask16 ge = _mm512_mask_cmp_ps_mask(live, pv, lo, _CMP_GE_OQ);
            cnt = _mm512_mask_add_epi32(cnt, gt, cnt, one);
            nearm |= (__mmask16)(ge & (__mmask16)~gt);
        }
        __mmask16 far = (__mmask16)(live & (__mmask16)~nearm);
        tot = _mm512_mask_add_epi32(tot, far, tot, cnt);
        if (++pending == flush) {
            right += lane_sum_u32(tot);
            tot = _mm512_setzero_si512();
            pending = 0;
        }
        if (p_hi < np)
            right += (uint64_t)(np - p_hi) * (unsigned)__builtin_popcount(far);
        for (unsigned m = nearm; m; m &= m - 1)
            near[nn++] = (uint32_t)(i + (size_t)__builtin_ctz(m));
    }
    *n_near = nn;
    return right + lane_sum_u32(tot);
}

/* ---- the gather and Gram sums of one packed ALS row, AVX-512 ----
 * rec__gram_packed: a rating's row of Z is read straight from the packed
 * fixed side (16 floats, one cache line) with its target put in column m,
 * and its products go into the same registers in one pass: no Z chunk is
 * stored and read back, and the last tile row is not a second pass over
 * Z. Per element it is the chain of tile_pair_avx512 and tile_avx2 over
 * the same chunks (float FMAs in rating order, then one double add per
 * chunk), so A gets the same bits as gathering Z and calling
 * rec__gram_add_avx512 on a zeroed A; it sets the tiles it sums (rows
 * 0-7, and rows 8.. from column 8) instead of adding to them, so the
 * caller does not clear A first. m (8..15) and the rows of the second
 * tile row (4 or 8, as tile_avx2) are constants of each copy. */

#define GATHER_AHEAD 40 /* ratings prefetched ahead, as solve.c's gathers */

/* Ar[0..16) += c in double; on the first chunk Ar = 0 + c, the bits of
   adding to a zeroed A (so A needs no memset). */
AVX512 static inline void add_row16(double *Ar, __m512 c, int first)
{
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(c));
    __m512d hi = _mm512_cvtps_pd(
        _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(c), 1)));
    __m512d a0 = first ? _mm512_setzero_pd() : _mm512_loadu_pd(Ar);
    __m512d a1 = first ? _mm512_setzero_pd() : _mm512_loadu_pd(Ar + 8);
    _mm512_storeu_pd(Ar, _mm512_add_pd(a0, lo));
    _mm512_storeu_pd(Ar + 8, _mm512_add_pd(a1, hi));
}

AVX512 static inline void add_row8(double *Ar, __m256 c, int first)
{
    __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(c));
    __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(c, 1));
    __m256d a0 = first ? _mm256_setzero_pd() : _mm256_loadu_pd(Ar);
    __m256d a1 = first ? _mm256_setzero_pd() : _mm256_loadu_pd(Ar + 4);
    _mm256_storeu_pd(Ar, _mm256_add_pd(a0, lo));
    _mm256_storeu_pd(Ar + 4, _mm256_add_pd(a1, hi));
}

AVX512 __attribute__((always_inline)) static inline void
gram_packed_m(double *restrict A, const float *restrict P,
              const int32_t *restrict idx, const float *restrict vals,
              float mu, size_t n, size_t chunk, const int m)
{
    const int nr = m < 12 ? 4 : 8; /* rows 8.. that hold data */
    size_t t0 = 0;
    do { /* at least once: n = 0 sets the tiles to 0 */
        size_t t1 = n - t0 < chunk ? n : t0 + chunk;
        int first = t0 == 0;
        __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0,
               c5 = c0, c6 = c0, c7 = c0;
        __m256 d0 = _mm256_setzero_ps(), d1 = d0, d2 = d0, d3 = d0, d4 = d0,
               d5 = d0, d6 = d0, d7 = d0;
        for (size_t t = t0; t < t1; t++) {
            if (t + GATHER_AHEAD < n)
                __builtin_prefetch(P + (size_t)idx[t + GATHER_AHEAD] * 16);
            const float *y = P + (size_t)idx[t] * 16;
            float target = (vals[t] - mu) - y[m];
            __m512 z = _mm512_mask_broadcastss_ps(_mm512_loadu_ps(y),
                                                  (__mmask16)(1u << m),
                                                  _mm_set_ss(target));
            __m256 zh = _mm256_castpd_ps(
                _mm512_extractf64x4_pd(_mm512_castps_pd(z), 1));
#define GP_ROW(c, r) c = _mm512_fmadd_ps(_mm512_set1_ps(y[r]), z, c)
            GP_ROW(c0, 0); GP_ROW(c1, 1); GP_ROW(c2, 2); GP_ROW(c3, 3);
            GP_ROW(c4, 4); GP_ROW(c5, 5); GP_ROW(c6, 6); GP_ROW(c7, 7);
#undef GP_ROW
#define GP_ROW(d, r)                                                        \
    d = _mm256_fmadd_ps((r) == m ? _mm256_set1_ps(target)                  \
                                 : _mm256_broadcast_ss(y + (r)),           \
                        zh, d)
            GP_ROW(d0, 8); GP_ROW(d1, 9); GP_ROW(d2, 10); GP_ROW(d3, 11);
            if (nr == 8) {
                GP_ROW(d4, 12); GP_ROW(d5, 13); GP_ROW(d6, 14);
                GP_ROW(d7, 15);
            }
#undef GP_ROW
        }
        add_row16(A, c0, first); add_row16(A + 16, c1, first);
        add_row16(A + 32, c2, first); add_row16(A + 48, c3, first);
        add_row16(A + 64, c4, first); add_row16(A + 80, c5, first);
        add_row16(A + 96, c6, first); add_row16(A + 112, c7, first);
        add_row8(A + 8 * 16 + 8, d0, first);
        add_row8(A + 9 * 16 + 8, d1, first);
        add_row8(A + 10 * 16 + 8, d2, first);
        add_row8(A + 11 * 16 + 8, d3, first);
        if (nr == 8) {
            add_row8(A + 12 * 16 + 8, d4, first);
            add_row8(A + 13 * 16 + 8, d5, first);
            add_row8(A + 14 * 16 + 8, d6, first);
            add_row8(A + 15 * 16 + 8, d7, first);
        }
        t0 = t1;
    } while (t0 < n);
}

AVX512 int rec__gram_packed_avx512(double *A, int ld, const float *P,
                                   const int32_t *idx, const float *vals,
                                   float mu, size_t n, int m, size_t chunk)
{
    if (ld != 16)
        return 0;
    switch (m) {
#define GP_M(M)                                                             \
    case M:                                                                \
        gram_packed_m(A, P, idx, vals, mu, n, chunk, M);                   \
        return 1;
        GP_M(8) GP_M(9) GP_M(10) GP_M(11) GP_M(12) GP_M(13) GP_M(14) GP_M(15)
#undef GP_M
    default:
        return 0;
    }
}

/* ---- the row Cholesky solve of small systems, AVX-512 ----
 * Up to 16 unknowns (rank 10 plus a bias is 11), the general kernel spends
 * its time in loop control and in the sqrt -> divide -> update chain of
 * each column. Here the upper triangle lives in registers (two vectors of
 * 8 doubles per row), the loops are unrolled for each m, and A is factored
 * as U^T D U with U unit upper triangular (Cholesky without the square
 * roots): a column's only long-latency step is one division. Lanes left
 * of the diagonal hold values never read (masks keep them out), so any
 * row stride ld >= m works (masked loads read nothing beyond row m).
 * Results agree with the other variants within rounding (bench_solve,
 * check_kernels); A is left as it was. */

/* Lanes [lo, hi) of the 8 at 8 h (lo, hi in 0..16). */
static inline __mmask8 lanes8(int lo, int hi, int h)
{
    lo -= 8 * h;
    hi -= 8 * h;
    lo = lo < 0 ? 0 : lo;
    hi = hi > 8 ? 8 : hi;
    return lo < hi ? (__mmask8)(((1u << hi) - 1u) & ~((1u << lo) - 1u)) : 0;
}

AVX512 static inline __m512d lane_bcast(__m512d v, int lane)
{
    return _mm512_permutexvar_pd(_mm512_set1_epi64(lane), v);
}

AVX512 __attribute__((always_inline)) static inline int
chol_small_avx512(const double *A, int ld, double *b, const int M)
{
    const int NH = M > 8 ? 2 : 1;
    __m512d r[16][2];
    _Pragma("GCC unroll 16") for (int i = 0; i < M; i++)
        _Pragma("GCC unroll 16") for (int h = 0; h < NH; h++)
            r[i][h] = _mm512_maskz_loadu_pd(lanes8(i, M, h),
                                            A + (size_t)i * ld + 8 * h);
    double U[16][16] __attribute__((aligned(64)));
    double dinv[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < M; i++) {
        __m512d dv = lane_bcast(r[i][i >> 3], i & 7);
        double d = _mm512_cvtsd_f64(dv);
        if (!(d > 0.0) || !isfinite(d))
            return -1;
        __m512d iv = _mm512_div_pd(_mm512_set1_pd(1.0), dv);
        dinv[i] = _mm512_cvtsd_f64(iv);
        /* the trailing rows: r_j -= (r_i[j] r_i) / d, lanes >= j */
        _Pragma("GCC unroll 16") for (int j = i + 1; j < M; j++) {
            __m512d f = lane_bcast(r[i][j >> 3], j & 7);
            _Pragma("GCC unroll 16") for (int h = j >> 3; h < NH; h++)
                r[j][h] = _mm512_fnmadd_pd(_mm512_mul_pd(f, r[i][h]), iv,
                                           r[j][h]);
        }
        _Pragma("GCC unroll 16") for (int h = i >> 3; h < NH; h++) /* row i of U: r_i / d */
            _mm512_store_pd(&U[i][8 * h], _mm512_mul_pd(r[i][h], iv));
    }
    double x[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < M; i++)
        x[i] = b[i];
    _Pragma("GCC unroll 16") for (int i = 0; i < M; i++) /* U^T y = b, by columns of U^T */
        _Pragma("GCC unroll 16") for (int c = i + 1; c < M; c++)
            x[c] -= U[i][c] * x[i];
    _Pragma("GCC unroll 16") for (int i = 0; i < M; i++)
        x[i] *= dinv[i];
    _Pragma("GCC unroll 16") for (int c = M - 1; c > 0; c--) /* U x = y / D, by columns of U */
        _Pragma("GCC unroll 16") for (int i = 0; i < c; i++)
            x[i] -= U[i][c] * x[c];
    _Pragma("GCC unroll 16") for (int i = 0; i < M; i++) {
        if (!isfinite(x[i]))
            return -1;
        b[i] = x[i];
    }
    return 0;
}

/* m <= 16 by the kernel above (one unrolled copy per m), larger m by the
   AVX2 variant (then the same bits as AVX2). */
AVX512 int rec__chol_solve_avx512(double *A, int ld, double *b, int m)
{
    switch (m) {
#define SMALL_M(M)                                                          \
    case M:                                                                \
        return chol_small_avx512(A, ld, b, M);
        SMALL_M(1) SMALL_M(2) SMALL_M(3) SMALL_M(4) SMALL_M(5) SMALL_M(6)
        SMALL_M(7) SMALL_M(8) SMALL_M(9) SMALL_M(10) SMALL_M(11)
        SMALL_M(12) SMALL_M(13) SMALL_M(14) SMALL_M(15) SMALL_M(16)
#undef SMALL_M
    default:
        return rec__chol_solve_avx2(A, ld, b, m);
    }
}
#endif /* REC_HAVE_X86_KERNELS */
