/* check_kernels.c - the CPU variants of the inner kernels (kernels.c, chosen
   once by cpu.c): AVX-512 equals AVX2 bit for bit, the portable code agrees
   within rounding and exactly where the arithmetic is exact (small integer
   factors: then top-n cannot depend on the CPU), and MOVIEME_CPU forces the
   level. CTest runs this under MOVIEME_CPU=portable|avx2|avx512 too. */
#include <check.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test_util.h"

static float rnd(uint64_t *s, int integer)
{
    double u = (double)(rec__splitmix64(s) >> 11) * 0x1p-53;
    return integer ? (float)(int)(u * 9.0) - 4.0f : (float)(u * 2.0 - 1.0);
}

static const int ks[] = {1, 3, 7, 8, 9, 10, 15, 16, 17, 33, 50, 64, 100};

START_TEST(score_variants_agree)
{
    uint64_t s = 3;
    for (int integer = 0; integer <= 1; integer++)
        for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
            int k = ks[t];
            size_t n = 37; /* not a multiple of 4 or 8: the tails too */
            float *Y = malloc(n * (size_t)k * sizeof *Y), x[100];
            for (size_t i = 0; i < n * (size_t)k; i++)
                Y[i] = rnd(&s, integer);
            for (int f = 0; f < k; f++)
                x[f] = rnd(&s, integer);
            float p[37], a2[37], a5[37];
            /* from row 1: unaligned starts */
            rec__score_rows_at(REC_CPU_PORTABLE, p, Y, k, x, 1, n);
            rec__score_rows_at(REC_CPU_AVX2, a2, Y, k, x, 1, n);
            rec__score_rows_at(REC_CPU_AVX512, a5, Y, k, x, 1, n);
            ck_assert_mem_eq(a2, a5, (n - 1) * sizeof *a2);
            for (size_t j = 0; j + 1 < n; j++) {
                double mag = 0.0;
                for (int f = 0; f < k; f++)
                    mag += fabs((double)x[f] * Y[(j + 1) * (size_t)k + f]);
                double tol = integer ? 0.0 : 2.0 * (k + 2) * FLT_EPSILON * mag;
                ck_assert_msg(fabs((double)p[j] - a2[j]) <= tol,
                              "k %d row %zu: %.9g vs %.9g", k, j, p[j], a2[j]);
            }
            free(Y);
        }
}
END_TEST

START_TEST(gram_variants_agree)
{
    uint64_t s = 5;
    for (int integer = 0; integer <= 1; integer++)
        for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
            int kk = ks[t] + 2, ld = (kk + 7) & ~7;
            size_t n = 100;
            float *Z = calloc(n * (size_t)ld, sizeof *Z);
            for (size_t r = 0; r < n; r++)
                for (int c = 0; c < kk; c++)
                    Z[r * ld + c] = rnd(&s, integer);
            size_t cells = (size_t)ld * ld;
            double *A[3];
            for (int l = 0; l < 3; l++) {
                A[l] = calloc(cells, sizeof **A);
                for (size_t i = 0; i < cells; i++)
                    A[l][i] = 0.25 * (double)(i % 7); /* added to */
                rec__gram_add_at((rec_cpu_level)l, A[l], Z, n, ld, kk);
            }
            ck_assert_mem_eq(A[1], A[2], cells * sizeof **A);
            for (int i = 0; i < kk; i++)
                for (int j = i; j < kk; j++) {
                    double mag = 0.0;
                    for (size_t r = 0; r < n; r++)
                        mag += fabs((double)Z[r * ld + i] * Z[r * ld + j]);
                    double tol = integer ? 0.0 : 2.0 * 130 * FLT_EPSILON * mag;
                    double d = fabs(A[0][(size_t)i * ld + j] -
                                    A[1][(size_t)i * ld + j]);
                    ck_assert_msg(d <= tol, "kk %d (%d,%d): %g", kk, i, j, d);
                }
            for (int l = 0; l < 3; l++)
                free(A[l]);
            free(Z);
        }
}
END_TEST

/* Whether the CPU itself has AVX-512F (the _at kernels run the level
   asked for when the CPU has it, whatever MOVIEME_CPU says). */
static int cpu_avx512(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

/* The fused gather + Gram of packed rows (AVX-512 only) gives the bits of
   gathering Z chunk by chunk, as solve.c does without it, and calling the
   Gram kernel of the same level on a zeroed A, whatever A held in the
   tiles it sets (NaN here); other shapes and levels decline and leave A
   alone. Short rows, chunk boundaries and rows that repeat. */
START_TEST(gram_packed_matches_gather)
{
    uint64_t s = 41;
    enum { NP = 300, CH = 128 };
    static const size_t ns[] = {0, 1, 39, 40, 41, 127, 128, 129, 300, 700};
    float *P = aligned_alloc(64, NP * 16 * sizeof *P);
    float *Z = malloc(CH * 16 * sizeof *Z), vals[700];
    int32_t idx[700];
    double A[2][256];
    for (int m = 7; m <= 16; m++) {
        for (size_t j = 0; j < NP; j++)
            for (int c = 0; c < 16; c++)
                P[j * 16 + c] = c <= m ? rnd(&s, 0) : 0.0f;
        for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
            size_t n = ns[t];
            for (size_t i = 0; i < n; i++) {
                idx[i] = (int32_t)(rec__splitmix64(&s) % NP);
                vals[i] = 0.5f * (float)(1 + rec__splitmix64(&s) % 10);
            }
            float mu = 3.25f;
            for (size_t i = 0; i < 256; i++)
                A[0][i] = A[1][i] = 0.0;
            for (size_t t0 = 0; t0 < n; t0 += CH) { /* solve.c's gather */
                size_t cn = n - t0 < CH ? n - t0 : CH;
                for (size_t u = 0; u < cn; u++) {
                    memcpy(Z + u * 16, P + (size_t)idx[t0 + u] * 16,
                           16 * sizeof *Z);
                    Z[u * 16 + (m < 16 ? m : 15)] =
                        (vals[t0 + u] - mu) -
                        P[(size_t)idx[t0 + u] * 16 + (m < 16 ? m : 15)];
                }
                rec__gram_add_at(REC_CPU_AVX512, A[0], Z, cn, 16,
                                 m < 16 ? m + 1 : 16);
            }
            /* the tiles it sets: rows 0-7, rows 8.. (4 or 8) from col 8 */
            size_t rows = m < 12 ? 12 : 16;
#define SET_TILE(i) ((i) / 16 < 8 || ((i) % 16 >= 8 && (i) / 16 < rows))
            for (size_t i = 0; i < 256; i++) /* it sets, not adds */
                A[1][i] = SET_TILE(i) ? NAN : 0.0;
            int done = rec__gram_packed_at(REC_CPU_AVX512, A[1], 16, P, idx,
                                           vals, mu, n, m, CH);
            ck_assert_int_eq(done, m >= 8 && m <= 15 && cpu_avx512());
            if (done)
                ck_assert_mem_eq(A[0], A[1], sizeof A[0]);
            else
                for (size_t i = 0; i < 256; i++) /* untouched */
                    ck_assert(SET_TILE(i) ? isnan(A[1][i]) : A[1][i] == 0.0);
#undef SET_TILE
            for (int l = 0; l < 2; l++) /* no such kernel: declined */
                ck_assert_int_eq(rec__gram_packed_at((rec_cpu_level)l, A[1],
                                                     16, P, idx, vals, mu, n,
                                                     m, CH),
                                 0);
            /* another row stride: declined */
            ck_assert_int_eq(rec__gram_packed_at(REC_CPU_AVX512, A[1], 24, P,
                                                 idx, vals, mu, n, m, CH),
                             0);
        }
    }
    free(P);
    free(Z);
}
END_TEST

/* The selection kernels compare only: every level gives the same bits
   and counts, and the counts are those of the definition. Scores on a
   coarse grid, so ties and near scores are frequent. */
START_TEST(selection_variants_agree)
{
    uint64_t s = 21;
    static const size_t ns[] = {1, 15, 16, 17, 63, 64, 65, 200, 1024, 1030};
    static const size_t nps[] = {1, 2, 5, 16, 32, 33, 70};
    float x[1030], pos[70];
    uint32_t near[3][1030];
    for (size_t t = 0; t < sizeof ns / sizeof *ns; t++) {
        size_t n = ns[t];
        for (size_t i = 0; i < n; i++)
            x[i] = 0.25f * (float)(int)(rnd(&s, 0) * 40.0f);
        for (size_t q = 0; q < 5; q++) {
            float th = q == 0 ? -INFINITY : 0.25f * (float)((int)q * 7 - 14);
            uint64_t bits[3][17];
            for (int l = 0; l < 3; l++)
                rec__above_at((rec_cpu_level)l, bits[l], x, n, th);
            for (size_t i = 0; i < n; i++) {
                int want = x[i] > th;
                for (int l = 0; l < 3; l++)
                    ck_assert_int_eq((int)(bits[l][i / 64] >> (i % 64) & 1),
                                     want);
            }
        }
        for (size_t u = 0; u < sizeof nps / sizeof *nps; u++) {
            size_t np = nps[u];
            for (size_t p = 0; p < np; p++)
                pos[p] = 0.25f * (float)(int)(rnd(&s, 0) * 40.0f);
            if (np > 2)
                pos[0] = -INFINITY; /* a NaN score ranks as -inf */
            for (size_t i = 1; i < np; i++) /* ascending */
                for (size_t j = i; j > 0 && pos[j - 1] > pos[j]; j--) {
                    float tmp = pos[j];
                    pos[j] = pos[j - 1];
                    pos[j - 1] = tmp;
                }
            float w = u % 2 ? 0.1f : 0.3f;
            uint64_t want = 0;
            size_t want_near = 0;
            for (size_t i = 0; i < n; i++) {
                float hi = x[i] + w, lo = x[i] - w;
                size_t above = 0, in = 0;
                for (size_t p = 0; p < np; p++) {
                    above += pos[p] > hi;
                    in += pos[p] >= lo && pos[p] <= hi;
                }
                if (in)
                    want_near++;
                else
                    want += above;
            }
            for (int l = 0; l < 3; l++) {
                size_t nn = 0;
                uint64_t got = rec__auc_count_at((rec_cpu_level)l, x, n, pos,
                                                 np, w, near[l], &nn);
                ck_assert_msg(got == want, "n %zu np %zu level %d: %llu vs "
                              "%llu", n, np, l, (unsigned long long)got,
                              (unsigned long long)want);
                ck_assert_uint_eq(nn, want_near);
                ck_assert_mem_eq(near[l], near[0], nn * sizeof **near);
                for (size_t i = 1; i < nn; i++)
                    ck_assert_uint_lt(near[l][i - 1], near[l][i]);
            }
        }
    }
}
END_TEST

/* The row Cholesky solve agrees within rounding at every level (the AVX2
   variant contracts to FMA, the AVX-512 one solves up to 16 unknowns in
   registers without square roots; above, it is AVX2's, bit for bit), with
   the padded row stride of ALS rows and with rows of exactly m (its masked
   loads must not read past the matrix), whatever lies left of the
   diagonal; the CG product of implicit ALS and the similar-movies cosines
   give the same bits at every level. */
static const int chol_ms[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                              12, 13, 14, 15, 16, 17, 33, 50, 64, 100};

START_TEST(solve_cg_cosine_variants)
{
    uint64_t s = 31;
    for (size_t t = 0; t < 2 * (sizeof chol_ms / sizeof *chol_ms); t++) {
        int m = chol_ms[t / 2];
        int ld = t % 2 ? m : (m + 1 + 7) & ~7;
        size_t cells = (size_t)ld * m; /* exactly the m rows */
        double *A0 = calloc(cells, sizeof *A0), *A[3], b[3][104];
        /* A = B^T B + m I: positive definite; NaN below the diagonal,
           which no variant may read */
        for (int i = 0; i < m; i++)
            for (int j = 0; j < ld; j++) {
                double v = i == j ? m : 0.0;
                for (int r = 0; j >= i && j < m && r < m; r++)
                    v += (double)rnd(&s, 0) * rnd(&s, 0) * 0.1;
                A0[(size_t)i * ld + j] = j < i ? NAN : v;
            }
        for (int l = 0; l < 3; l++) {
            A[l] = malloc(cells * sizeof **A);
            memcpy(A[l], A0, cells * sizeof **A);
            uint64_t sb = 7;
            for (int i = 0; i < m; i++)
                b[l][i] = rnd(&sb, 0);
            ck_assert_int_eq(rec__chol_solve_at((rec_cpu_level)l, A[l], ld,
                                                b[l], m), 0);
        }
        for (int l = 1; l < 3; l++)
            for (int i = 0; i < m; i++)
                ck_assert_msg(fabs(b[0][i] - b[l][i]) <=
                                  1e-9 * (1 + fabs(b[0][i])),
                              "level %d m %d ld %d x[%d]: %.17g vs %.17g", l,
                              m, ld, i, b[0][i], b[l][i]);
        if (m > 16)
            ck_assert_mem_eq(b[1], b[2], (size_t)m * sizeof **b);
        /* not positive definite at the last pivot: every level refuses */
        for (int l = 0; l < 3; l++) {
            memcpy(A[l], A0, cells * sizeof **A);
            A[l][(size_t)(m - 1) * ld + (m - 1)] = -1e6;
            ck_assert_int_eq(rec__chol_solve_at((rec_cpu_level)l, A[l], ld,
                                                b[l], m), -1);
        }
        for (int l = 0; l < 3; l++)
            free(A[l]);
        free(A0);
        /* not positive definite */
        double bad[64] = {0}, rhs[8] = {1, 1, 1, 1, 1, 1, 1, 1};
        bad[0] = -1.0;
        for (int l = 0; l < 3; l++)
            ck_assert_int_eq(rec__chol_solve_at((rec_cpu_level)l, bad, 8, rhs,
                                                1), -1);
    }
    /* beyond 64: q in chunks of 64; more than 256 rows: several passes */
    static const int cg_ks[] = {1,  3,  7,  8,  9,  10,  15, 16,
                                17, 33, 50, 64, 100, 128, 130};
    for (size_t t = 0; t < sizeof cg_ks / sizeof *cg_ks; t++) {
        int k = cg_ks[t];
        size_t ny = 40, n = k % 3 == 0 ? 300 : 25;
        float *Y = malloc(ny * (size_t)k * sizeof *Y);
        float *G = malloc((size_t)k * k * sizeof *G), v[130], q[3][130];
        float cw[300], cc[300], cos[3][40];
        int32_t idx[300];
        for (size_t i = 0; i < ny * (size_t)k; i++)
            Y[i] = rnd(&s, 0);
        for (int i = 0; i < k; i++) /* symmetric, as Y^T Y */
            for (int j = i; j < k; j++)
                G[(size_t)i * k + j] = G[(size_t)j * k + i] = rnd(&s, 0);
        for (int f = 0; f < k; f++)
            v[f] = rnd(&s, 0);
        /* a row's interactions, gathered (rows may repeat) */
        float *R = malloc(n * (size_t)k * sizeof *R);
        for (size_t i = 0; i < n; i++) {
            idx[i] = (int32_t)(rec__splitmix64(&s) % ny);
            memcpy(R + i * (size_t)k, Y + (size_t)idx[i] * k,
                   (size_t)k * sizeof *R);
            cc[i] = i % 5 == 3 ? 0.5f : 1.0f + 2.0f * (rnd(&s, 0) + 1.0f);
            cw[i] = cc[i] - 1.0f;
        }
        float D[130]; /* a diagonal Y^T Y (its eigenbasis) */
        for (int f = 0; f < k; f++)
            D[f] = rnd(&s, 0) + 1.5f;
        for (int minus_b = 0; minus_b <= 1; minus_b++)
        for (int use_diag = 0; use_diag <= 1; use_diag++) {
            const float *dg = use_diag ? D : NULL;
            for (int l = 0; l < 3; l++)
                rec__cg_apply_at((rec_cpu_level)l, q[l], G, dg, 0.5f, R, k,
                                 v, cw, cc, n, minus_b);
            ck_assert_mem_eq(q[0], q[1], (size_t)k * sizeof **q);
            ck_assert_mem_eq(q[0], q[2], (size_t)k * sizeof **q);
            /* the definition, in double */
            for (int i = 0; i < k; i++) {
                double want = 0.5 * v[i], mag = fabs(want);
                for (int j = 0; j < k; j++) {
                    double g = use_diag ? (i == j ? D[i] : 0.0)
                                        : G[(size_t)i * k + j];
                    want += g * v[j];
                    mag += fabs(g * v[j]);
                }
                for (size_t u = 0; u < n; u++) {
                    const float *y = Y + (size_t)idx[u] * k;
                    double d = 0.0;
                    for (int j = 0; j < k; j++)
                        d += (double)y[j] * v[j];
                    double sj = cw[u] * d - (minus_b ? cc[u] : 0.0);
                    want += sj * y[i];
                    mag += fabs(sj * y[i]) + fabs(cw[u] * d * y[i]);
                }
                ck_assert_msg(fabs(q[0][i] - want) <= 1e-5 * (1.0 + mag),
                              "k %d q[%d]: %g vs %g", k, i, q[0][i], want);
            }
        }
        /* rec__rotate: q = Q^T v for any square Q (here not symmetric) */
        for (size_t i = 0; i < (size_t)k * k; i++)
            G[i] = rnd(&s, 0);
        rec__rotate(q[0], G, k, v);
        for (int i = 0; i < k; i++) {
            double want = 0.0, mag = 0.0;
            for (int f = 0; f < k; f++) {
                want += (double)G[(size_t)f * k + i] * v[f];
                mag += fabs((double)G[(size_t)f * k + i] * v[f]);
            }
            ck_assert_msg(fabs(q[0][i] - want) <= 1e-5 * (1.0 + mag),
                          "rotate k %d q[%d]: %g vs %g", k, i, q[0][i], want);
        }
        free(R);
        memset(Y, 0, (size_t)k * sizeof *Y); /* a zero row: cosine 0 */
        float n0 = sqrtf(rec__dotf(Y + k, Y + k, k));
        for (int l = 0; l < 3; l++)
            rec__cosine_rows_at((rec_cpu_level)l, cos[l], Y, k, Y + k, n0, 0,
                                ny);
        ck_assert_mem_eq(cos[0], cos[1], ny * sizeof **cos);
        ck_assert_mem_eq(cos[0], cos[2], ny * sizeof **cos);
        ck_assert(cos[0][0] == 0.0f);
        ck_assert(fabsf(cos[0][1] - 1.0f) < 1e-5f);
        free(Y);
        free(G);
    }
}
END_TEST

/* MOVIEME_CPU picks the level, capped by the CPU; the default is the best. */
START_TEST(level_follows_the_environment)
{
    rec_cpu_level best = REC_CPU_PORTABLE;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        best = __builtin_cpu_supports("avx512f") ? REC_CPU_AVX512
                                                 : REC_CPU_AVX2;
#endif
    const char *env = getenv("MOVIEME_CPU");
    rec_cpu_level want = best;
    if (env && strcmp(env, "portable") == 0)
        want = REC_CPU_PORTABLE;
    else if (env && strcmp(env, "avx2") == 0)
        want = REC_CPU_AVX2;
    if (want > best)
        want = best;
    ck_assert_int_eq(rec__cpu_level(), want);
    printf("kernels: %s (MOVIEME_CPU=%s, CPU best %s)\n",
           rec__cpu_name(rec__cpu_level()), env ? env : "", rec__cpu_name(best));
    /* the dispatched kernel is that level's */
    float Y[30], x[10], a[3], b[3];
    uint64_t s = 9;
    for (int i = 0; i < 30; i++)
        Y[i] = rnd(&s, 0);
    for (int i = 0; i < 10; i++)
        x[i] = rnd(&s, 0);
    rec__score_rows(a, Y, 10, x, 0, 3);
    rec__score_rows_at(want, b, Y, 10, x, 0, 3);
    ck_assert_mem_eq(a, b, sizeof a);
}
END_TEST

/* Top-n on a model with small integer factors (every dot product exact) is
   the same list at every level: here through the dispatched kernel, and
   the scores equal those of each variant. */
START_TEST(top_n_exact_at_every_level)
{
    rec_error e = {0};
    rec_ratings *r = NULL;
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    rec_rating rows[400];
    uint64_t s = 11;
    size_t nr = 0;
    for (int u = 1; u <= 20; u++)
        for (int j = 1; j <= 20; j++)
            if ((u * 7 + j * 3) % 5 == 0)
                rows[nr++] = (rec_rating){u, j, (float)(1 + (u + j) % 5)};
    ck_assert_ok(rec_ratings_add(r, rows, nr, &e), &e);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 12;
    p.iterations = 2;
    p.preference = 0;
    rec_model *m = NULL;
    ck_assert_ok(rec_train_als(&m, r, &p, &e), &e);
    /* integer factors, zero biases: exact scores, many ties */
    for (size_t i = 0; i < m->n_users * (size_t)m->rank; i++)
        m->user_factors[i] = rnd(&s, 1);
    for (size_t i = 0; i < m->n_movies * (size_t)m->rank; i++)
        m->movie_factors[i] = rnd(&s, 1);
    memset(m->user_bias, 0, m->n_users * sizeof *m->user_bias);
    memset(m->movie_bias, 0, m->n_movies * sizeof *m->movie_bias);
    m->global_mean = 0.0f;
    ck_assert_ok(rec__model_finish(m, &e), &e);
    for (int u = 1; u <= 20; u++) {
        rec_scored top[20];
        size_t got = 0;
        ck_assert_ok(rec_top_n(top, 20, &got, m, u, &e), &e);
        rec_user_view v;
        rec__user_view(&v, m, (size_t)rec__idmap_get(&m->user_map, u));
        float vec[64], c;
        rec__user_rank_vec(vec, &c, m, v.x, v.bias, v.p);
        for (size_t i = 0; i < got; i++) {
            size_t j = (size_t)rec__idmap_get(&m->movie_map, top[i].movie_id);
            for (int l = 0; l < 3; l++) {
                float d;
                rec__score_rows_at((rec_cpu_level)l, &d, m->rank_movie,
                                   m->rank_dim, vec, j, j + 1);
                ck_assert(d + c == top[i].score);
            }
        }
    }
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *t = tcase_create("core");
    tcase_add_test(t, score_variants_agree);
    tcase_add_test(t, gram_variants_agree);
    tcase_add_test(t, gram_packed_matches_gather);
    tcase_add_test(t, selection_variants_agree);
    tcase_add_test(t, solve_cg_cosine_variants);
    tcase_add_test(t, level_follows_the_environment);
    tcase_add_test(t, top_n_exact_at_every_level);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return run_suite(suite());
}
