/*
 * recommend_batch.c - ranking many users at once: top-N for a list of users
 * (or all of them, block by block through a callback), predictions for many
 * pairs, similar movies for many movies. Evaluation ranks through here too.
 *
 * Scoring: the ranking vectors of a block of users (rec__user_rank_vec)
 * times the movies' ranking vectors, one SGEMM (OpenBLAS, single-threaded;
 * OpenMP runs the blocks), with scratch bounded by REC_BATCH_SCRATCH bytes
 * over all threads. Cold-start users (no usable ratings) have no vector:
 * they are ranked as rec_top_n ranks them. SGEMM sums in another
 * order than the library's dot product (recommend.c), so its scores are
 * only approximate: each row's top n is selected on them, every movie whose
 * approximate score is within twice a rounding bound of the n-th is scored
 * again exactly (rec__score_one), and the final top n is chosen on exact
 * scores. The result equals rec_top_n's bit for bit, ties and order too.
 */
#include "internal.h"
#include "topn.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Upper bound of the score scratch of one call, all threads together. */
#define REC_BATCH_SCRATCH ((size_t)64 << 20)
/* Rows of one SGEMM block at most. */
#define REC_BATCH_MAX_ROWS 256
/* Users per callback of rec_top_n_each. */
#define REC_BATCH_CHUNK 4096

/* Rows per block for this model and thread count. */
static size_t block_rows(const rec_model *m, int nt)
{
    size_t per_thread = REC_BATCH_SCRATCH / (size_t)nt;
    size_t row_bytes = (m->n_movies ? m->n_movies : 1) * sizeof(float);
    size_t rows = per_thread / row_bytes;
    if (rows > REC_BATCH_MAX_ROWS)
        rows = REC_BATCH_MAX_ROWS;
    return rows ? rows : 1;
}

/* Largest norm of a movie's ranking vector: the rounding bound (infinite
   when a vector is not finite). */
static double movie_extent(const rec_model *m)
{
    double y = 0.0;
    int d = m->rank_dim;
    for (size_t j = 0; j < m->n_movies; j++) {
        const float *v = m->rank_movie + j * (size_t)d;
        double s = 0.0;
        for (int f = 0; f < d; f++)
            s += (double)v[f] * v[f];
        if (!isfinite(s))
            return INFINITY; /* then no row has a bound */
        if (s > y)
            y = s;
    }
    return sqrt(y);
}

static bool user_cold(const rec_model *m, const rec_user_view *v)
{
    if (v->n_rated == 0)
        return true;
    if (!m->implicit)
        return false;
    for (int f = 0; f < m->rank; f++)
        if (v->x[f] != 0.0f)
            return false;
    return true;
}

rec_status rec__for_each_row(const rec_model *m, const int32_t *users,
                             size_t n, rec__row_fn fn, void *ctx,
                             rec_error *err)
{
    if (n == 0)
        return REC_OK;
    rec__blas_single_threaded();
    int nt = omp_get_max_threads();
    size_t rows = block_rows(m, nt), k = (size_t)m->rank_dim;
    size_t n_blocks = (n + rows - 1) / rows;
    if ((size_t)nt > n_blocks)
        nt = (int)n_blocks;
    double ymax = movie_extent(m);
    int failed = 0;
#pragma omp parallel num_threads(nt) reduction(| : failed)
    {
        float *S = malloc(rows * (m->n_movies ? m->n_movies : 1) * sizeof *S);
        float *X = malloc(rows * k * sizeof *X);
        float *C = malloc(rows * sizeof *C);
        if (!S || !X || !C)
            failed = 1;
        int tid = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < n_blocks; b++) {
            if (!S || !X || !C)
                continue;
            size_t r0 = b * rows, nr = n - r0 < rows ? n - r0 : rows;
            for (size_t r = 0; r < nr; r++) {
                rec_user_view v;
                rec__user_view(&v, m, (size_t)users[r0 + r]);
                rec__user_rank_vec(X + r * k, &C[r], m, v.x, v.bias, v.p);
            }
            int use_blas = rec__blas_buffer_ok();
            /* S starts at each row's constant and SGEMM adds the dot
               products to it (beta 1): one rounding of the addition, as
               rec__score_one, in the bound below */
            for (size_t r = 0; use_blas && r < nr; r++) {
                float *row = S + r * m->n_movies;
                for (size_t j = 0; j < m->n_movies; j++)
                    row[j] = C[r];
            }
            if (use_blas) {
                int token = rec__blas_enter();
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr,
                            (int)m->n_movies, (int)k, 1.0f, X, (int)k,
                            m->rank_movie, (int)k, 1.0f, S,
                            (int)m->n_movies);
                rec__blas_leave(token);
            }
            for (size_t r = 0; r < nr; r++) {
                size_t u = (size_t)users[r0 + r];
                float *row = S + r * m->n_movies;
                rec__row_scores rs = {.m = m, .u = u, .v = X + r * k,
                                      .c = C[r]};
                rec__user_view(&rs.view, m, u);
                double vn = 0.0;
                for (size_t f = 0; f < k; f++)
                    vn += (double)rs.v[f] * rs.v[f];
                /* |dot_sgemm - dot_exact| <= 2 gamma_k |v||y| (any order
                   of summation), plus one rounding of the addition;
                   FLT_EPSILON is 2u, so this is about twice the bound. */
                double extent = sqrt(vn) * ymax + fabs((double)rs.c);
                rs.margin = 2.0 * ((double)k + 4.0) * FLT_EPSILON * extent;
                /* Every partial sum is within about extent (Cauchy-Schwarz)
                   so, far below FLT_MAX, every score is finite. */
                int finite = isfinite(rs.margin) && extent < 1e37;
                rs.approx = use_blas && finite && !user_cold(m, &rs.view)
                                ? row
                                : NULL;
                fn(ctx, r0 + r, &rs, tid);
            }
        }
        free(S);
        free(X);
        free(C);
    }
    if (failed)
        return rec__fail(err, REC_ENOMEM, "batch ranking: out of memory");
    return REC_OK;
}

/* Whether dense movie j may be in the row's list: a candidate, and not
   rated by the user unless rated movies are asked for (e walks `rated`). */
static inline bool eligible(const rec_candidates *cands,
                            const rec_user_view *v, size_t *e, size_t j)
{
    if (!rec__candidate(cands, j))
        return false;
    if (cands->include_rated)
        return true;
    while (*e < v->n_rated && (size_t)v->rated[*e] < j)
        (*e)++;
    return !(*e < v->n_rated && (size_t)v->rated[*e] == j);
}

/* Movies per threshold refresh of the selection scans. */
#define SCAN_CHUNK 1024

/* Offer every eligible movie of the row with an approximate score above
   the heap's worst to the heap: the threshold is refreshed per chunk and a
   vector compare (rec__above) finds the few movies that beat it, so the
   eligibility checks and heap updates run for those alone. A movie equal
   to the worst never enters (the worst has a lower index). */
static size_t approx_top(rec_scored *out, size_t n, const rec__row_scores *rs,
                         const rec_candidates *cands)
{
    const rec_model *m = rs->m;
    uint64_t bits[SCAN_CHUNK / 64];
    size_t size = 0, e = 0;
    for (size_t j0 = 0; j0 < m->n_movies; j0 += SCAN_CHUNK) {
        size_t nb = m->n_movies - j0 < SCAN_CHUNK ? m->n_movies - j0
                                                  : SCAN_CHUNK;
        /* approx is finite: -inf lets every movie in while filling */
        rec__above(bits, rs->approx + j0, nb,
                   size < n ? -INFINITY : out[0].score);
        for (size_t w = 0; w < (nb + 63) / 64; w++)
            for (uint64_t b = bits[w]; b; b &= b - 1) {
                size_t j = j0 + w * 64 + (size_t)__builtin_ctzll(b);
                if (eligible(cands, &rs->view, &e, j))
                    rec__heap_offer(out, &size, n, (int32_t)j,
                                    rs->approx[j]);
            }
    }
    return size;
}

/* The eligible movies whose approximate score is >= thr, ascending. */
static size_t near_top(int32_t *cand, const rec__row_scores *rs,
                       const rec_candidates *cands, double thr)
{
    const rec_model *m = rs->m;
    /* scan for > the float below thr rounded down: a superset, then the
       exact test in double */
    float t = (float)thr;
    if ((double)t > thr)
        t = nextafterf(t, -INFINITY);
    t = nextafterf(t, -INFINITY);
    uint64_t bits[SCAN_CHUNK / 64];
    size_t nc = 0, e = 0;
    for (size_t j0 = 0; j0 < m->n_movies; j0 += SCAN_CHUNK) {
        size_t nb = m->n_movies - j0 < SCAN_CHUNK ? m->n_movies - j0
                                                  : SCAN_CHUNK;
        rec__above(bits, rs->approx + j0, nb, t);
        for (size_t w = 0; w < (nb + 63) / 64; w++)
            for (uint64_t b = bits[w]; b; b &= b - 1) {
                size_t j = j0 + w * 64 + (size_t)__builtin_ctzll(b);
                if ((double)rs->approx[j] >= thr &&
                    eligible(cands, &rs->view, &e, j))
                    cand[nc++] = (int32_t)j;
            }
    }
    return nc;
}

size_t rec__row_top_n(rec_scored *out, size_t n, const rec__row_scores *rs,
                      const rec_candidates *cands, int32_t *cand)
{
    const rec_model *m = rs->m;
    size_t got = 0;
    if (n == 0)
        return 0;
    if (!rs->approx) { /* cold start, or no bound on the rounding */
        rec__rank(out, n, &got, m, &rs->view, cands, NULL);
        return got;
    }
    if (approx_top(out, n, rs, cands) < n) {
        /* every candidate is in: rank them exactly */
        rec__rank(out, n, &got, m, &rs->view, cands, NULL);
        return got;
    }
    /* Any movie of the exact top n scores within 2 margins of the n-th
       approximate score. */
    size_t nc = near_top(cand, rs, cands,
                         (double)out[0].score - 2.0 * rs->margin);
    size_t size = 0;
    for (size_t c = 0; c < nc; c++)
        rec__heap_offer(out, &size, n, cand[c],
                        rec__score_one(m, rs->v, rs->c, (size_t)cand[c]));
    rec__heap_finish(out, size, NULL);
    for (size_t i = 0; i < size; i++) { /* as rec__rank finishes */
        size_t j = (size_t)out[i].movie_id;
        out[i].rating = rec__shown_rating(m, &rs->view, j);
        out[i].movie_id = m->movie_ids[j];
    }
    return size;
}

/* ---- the public calls ---- */

/* External user ids -> dense indices; REC_ENOTFOUND names the first
   unknown one. */
static rec_status dense_users(int32_t **out, const rec_model *m,
                              const int32_t *ids, size_t n, const char *fn,
                              rec_error *err)
{
    int32_t *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return rec__fail(err, REC_ENOMEM, "%s: out of memory", fn);
    for (size_t i = 0; i < n; i++) {
        d[i] = ids ? rec__idmap_get(&m->user_map, ids[i]) : (int32_t)i;
        if (d[i] < 0) {
            free(d);
            return rec__fail(err, REC_ENOTFOUND,
                             "%s: unknown user id %ld (entry %zu)", fn,
                             (long)ids[i], i);
        }
    }
    *out = d;
    return REC_OK;
}

rec_status rec_model_user_ids(int32_t *out, size_t cap, size_t *n_out,
                              const rec_model *m, rec_error *err)
{
    if (!m || !n_out || (!out && cap > 0))
        return rec__fail(err, REC_EINVAL, "rec_model_user_ids: NULL argument");
    size_t n = m->n_users < cap ? m->n_users : cap;
    memcpy(out, m->user_ids, n * sizeof *out);
    *n_out = n;
    return REC_OK;
}

typedef struct many_ctx {
    rec_scored *out;
    size_t n;
    size_t *n_out;
    const rec_candidates *cands;
    int32_t *cand; /* n_movies per thread */
    size_t n_movies;
} many_ctx;

static void many_row(void *ctx, size_t row, const rec__row_scores *rs,
                     int tid)
{
    many_ctx *c = ctx;
    c->n_out[row] = rec__row_top_n(c->out + row * c->n, c->n, rs, c->cands,
                                   c->cand + (size_t)tid * c->n_movies);
}

/* Top n of dense users[0..nu) into out/n_out. */
static rec_status top_n_dense(rec_scored *out, size_t n, size_t *n_out,
                              const rec_model *m, const int32_t *users,
                              size_t nu, const rec_candidates *cands,
                              rec_error *err)
{
    size_t nt = (size_t)omp_get_max_threads();
    many_ctx c = {.out = out, .n = n, .n_out = n_out, .cands = cands,
                  .n_movies = m->n_movies ? m->n_movies : 1};
    c.cand = malloc(nt * c.n_movies * sizeof *c.cand);
    if (!c.cand)
        return rec__fail(err, REC_ENOMEM, "batch top-n: out of memory");
    rec_status st = rec__for_each_row(m, users, nu, many_row, &c, err);
    free(c.cand);
    return st;
}

rec_status rec_top_n_many(rec_scored *out, size_t n, size_t *n_out,
                          const rec_model *m, const int32_t *user_ids,
                          size_t n_users,
                          const struct rec_top_n_options *opts,
                          rec_error *err)
{
    if (!m || (!n_out && n_users) || (!out && n && n_users) ||
        (!user_ids && n_users))
        return rec__fail(err, REC_EINVAL, "rec_top_n_many: NULL argument");
    rec_candidates cands;
    rec_status st = rec__candidates_init(&cands, m, opts, err);
    if (st != REC_OK)
        return st;
    int32_t *d = NULL;
    st = dense_users(&d, m, user_ids, n_users, "rec_top_n_many", err);
    if (st == REC_OK)
        st = top_n_dense(out, n, n_out, m, d, n_users, &cands, err);
    free(d);
    rec__candidates_free(&cands);
    return st;
}

rec_status rec_top_n_each(const rec_model *m, const int32_t *user_ids,
                          size_t n_users, size_t n,
                          const struct rec_top_n_options *opts,
                          rec_top_n_block_fn fn, void *userdata,
                          rec_error *err)
{
    if (!m || !fn)
        return rec__fail(err, REC_EINVAL, "rec_top_n_each: NULL argument");
    if (!user_ids)
        n_users = m->n_users;
    rec_candidates cands;
    rec_status st = rec__candidates_init(&cands, m, opts, err);
    if (st != REC_OK)
        return st;
    int32_t *d = NULL;
    if ((st = dense_users(&d, m, user_ids, n_users, "rec_top_n_each", err)) !=
        REC_OK) {
        rec__candidates_free(&cands);
        return st;
    }
    size_t chunk = REC_BATCH_CHUNK;
    rec_scored *top = malloc(chunk * (n ? n : 1) * sizeof *top);
    size_t *got = malloc(chunk * sizeof *got);
    int32_t *ids = malloc(chunk * sizeof *ids);
    if (!top || !got || !ids)
        st = rec__fail(err, REC_ENOMEM, "rec_top_n_each: out of memory");
    for (size_t i0 = 0; st == REC_OK && i0 < n_users; i0 += chunk) {
        size_t nb = n_users - i0 < chunk ? n_users - i0 : chunk;
        st = top_n_dense(top, n, got, m, d + i0, nb, &cands, err);
        if (st != REC_OK)
            break;
        for (size_t i = 0; i < nb; i++)
            ids[i] = m->user_ids[d[i0 + i]];
        if (fn(userdata, ids, nb, top, got, n) != 0)
            st = rec__fail(err, REC_ECANCELED,
                           "rec_top_n_each: stopped by the callback after "
                           "%zu users", i0 + nb);
    }
    free(top);
    free(got);
    free(ids);
    free(d);
    rec__candidates_free(&cands);
    return st;
}

rec_status rec_predict_many(float *out, const rec_model *m,
                            const int32_t *user_ids, const int32_t *movie_ids,
                            size_t n, rec_error *err)
{
    if (!m || (n && (!out || !user_ids || !movie_ids)))
        return rec__fail(err, REC_EINVAL, "rec_predict_many: NULL argument");
    /* Independent pairs: rec_predict cannot fail on a valid model. */
#pragma omp parallel for schedule(static) if (n > 4096)
    for (size_t i = 0; i < n; i++)
        rec_predict(&out[i], m, user_ids[i], movie_ids[i], NULL);
    return REC_OK;
}

rec_status rec_similar_movies_many(rec_scored *out, size_t n, size_t *n_out,
                                   const rec_model *m,
                                   const int32_t *movie_ids, size_t n_movies,
                                   const struct rec_top_n_options *opts,
                                   rec_error *err)
{
    if (!m || (n_movies && (!n_out || !movie_ids || (!out && n))))
        return rec__fail(err, REC_EINVAL,
                         "rec_similar_movies_many: NULL argument");
    rec_candidates probe; /* options checked once, before any work */
    rec_status st = rec__candidates_init(&probe, m, opts, err);
    if (st != REC_OK)
        return st;
    rec__candidates_free(&probe);
    for (size_t i = 0; i < n_movies; i++)
        if (rec__idmap_get(&m->movie_map, movie_ids[i]) < 0)
            return rec__fail(err, REC_ENOTFOUND,
                             "rec_similar_movies_many: unknown movie id %ld "
                             "(entry %zu)", (long)movie_ids[i], i);
    /* Each movie by the single-movie code (exact, same order); movies in
       parallel. */
#pragma omp parallel for schedule(dynamic, 4)
    for (size_t i = 0; i < n_movies; i++)
        rec_similar_movies_ex(out + i * n, n, &n_out[i], m, movie_ids[i],
                              opts, NULL);
    return REC_OK;
}
