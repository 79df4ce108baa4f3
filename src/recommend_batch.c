/*
 * recommend_batch.c - ranking many users at once: top-N for a list of users
 * (or all of them, block by block through a callback), predictions for many
 * pairs, similar movies for many movies. Evaluation ranks through here too.
 *
 * Scoring: the user vectors of a block of rows times the movie factors, one
 * SGEMM (OpenBLAS, single-threaded; OpenMP runs the blocks), with scratch
 * bounded by REC_BATCH_SCRATCH bytes over all threads. SGEMM sums in another
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

/* Largest factor norm and |movie bias| of the model: the rounding bound. */
static void movie_extent(const rec_model *m, double *ymax, double *bmax)
{
    double y = 0.0, b = 0.0;
    for (size_t j = 0; j < m->n_movies; j++) {
        const float *v = m->movie_factors + j * (size_t)m->rank;
        double s = 0.0;
        for (int f = 0; f < m->rank; f++)
            s += (double)v[f] * v[f];
        if (s > y)
            y = s;
        if (fabs(m->movie_bias[j]) > b)
            b = fabs(m->movie_bias[j]);
    }
    *ymax = sqrt(y);
    *bmax = b;
}

rec_status rec__for_each_row(const rec_model *m, const int32_t *users,
                             size_t n, rec__row_fn fn, void *ctx,
                             rec_error *err)
{
    if (n == 0)
        return REC_OK;
    rec__blas_single_threaded();
    int nt = omp_get_max_threads();
    size_t rows = block_rows(m, nt), k = (size_t)m->rank;
    size_t n_blocks = (n + rows - 1) / rows;
    if ((size_t)nt > n_blocks)
        nt = (int)n_blocks;
    double ymax, bmax;
    movie_extent(m, &ymax, &bmax);
    int failed = 0;
#pragma omp parallel num_threads(nt) reduction(| : failed)
    {
        float *S = malloc(rows * (m->n_movies ? m->n_movies : 1) * sizeof *S);
        float *X = malloc(rows * k * sizeof *X);
        if (!S || !X)
            failed = 1;
        int tid = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < n_blocks; b++) {
            if (!S || !X)
                continue;
            size_t r0 = b * rows, nr = n - r0 < rows ? n - r0 : rows;
            for (size_t r = 0; r < nr; r++)
                memcpy(X + r * k, m->user_factors + (size_t)users[r0 + r] * k,
                       k * sizeof *X);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr,
                        (int)m->n_movies, (int)k, 1.0f, X, (int)k,
                        m->movie_factors, (int)k, 0.0f, S,
                        (int)m->n_movies);
            for (size_t r = 0; r < nr; r++) {
                size_t u = (size_t)users[r0 + r];
                float *row = S + r * m->n_movies;
                rec__row_scores rs = {.m = m, .u = u,
                                      .x = m->user_factors + u * k,
                                      .bias = m->user_bias[u]};
                rec__model_user_rated(m, u, &rs.exclude, &rs.exclude_vals,
                                      &rs.n_exclude);
                /* The same float additions as rec__score_one. */
                float base = m->global_mean + rs.bias;
                int finite = 1;
                for (size_t j = 0; j < m->n_movies; j++) {
                    row[j] = base + m->movie_bias[j] + row[j];
                    finite &= isfinite(row[j]) != 0;
                }
                double xn = 0.0;
                for (size_t f = 0; f < k; f++)
                    xn += (double)rs.x[f] * rs.x[f];
                /* |dot_sgemm - dot_exact| <= 2 gamma_k |x||y| (any order
                   of summation), plus one rounding of each addition;
                   FLT_EPSILON is 2u, so this is about twice the bound. */
                rs.margin = 2.0 * ((double)k + 4.0) * FLT_EPSILON *
                            (sqrt(xn) * ymax + fabs((double)base) + bmax);
                rs.approx = finite && isfinite(rs.margin) ? row : NULL;
                fn(ctx, r0 + r, &rs, tid);
            }
        }
        free(S);
        free(X);
    }
    if (failed)
        return rec__fail(err, REC_ENOMEM, "batch ranking: out of memory");
    return REC_OK;
}

size_t rec__row_top_n(rec_scored *out, size_t n, const rec__row_scores *rs,
                      int32_t *cand)
{
    const rec_model *m = rs->m;
    size_t got = 0;
    if (n == 0)
        return 0;
    if (!rs->approx) { /* no bound on the rounding: score exactly */
        rec__rank(out, n, &got, m, rs->x, rs->bias, rs->exclude,
                  rs->n_exclude, NULL);
        return got;
    }
    const int32_t *ex = rs->exclude;
    size_t size = 0, e = 0;
    for (size_t j = 0; j < m->n_movies; j++) {
        while (e < rs->n_exclude && (size_t)ex[e] < j)
            e++;
        if (e < rs->n_exclude && (size_t)ex[e] == j)
            continue;
        rec__heap_offer(out, &size, n, (int32_t)j, rs->approx[j]);
    }
    if (size < n) { /* every candidate is in: rank them exactly */
        rec__rank(out, n, &got, m, rs->x, rs->bias, rs->exclude,
                  rs->n_exclude, NULL);
        return got;
    }
    /* Any movie of the exact top n scores within 2 margins of the n-th
       approximate score. */
    double thr = (double)out[0].score - 2.0 * rs->margin;
    size_t nc = 0;
    e = 0;
    for (size_t j = 0; j < m->n_movies; j++) {
        while (e < rs->n_exclude && (size_t)ex[e] < j)
            e++;
        if (e < rs->n_exclude && (size_t)ex[e] == j)
            continue;
        if ((double)rs->approx[j] >= thr)
            cand[nc++] = (int32_t)j;
    }
    size = 0;
    for (size_t c = 0; c < nc; c++)
        rec__heap_offer(out, &size, n, cand[c],
                        rec__score_one(m, rs->x, rs->bias, (size_t)cand[c]));
    rec__heap_finish(out, size, m->movie_ids);
    return size;
}

/* ---- the public calls ---- */

static rec_status check_opts(const struct rec_top_n_options *opts,
                             const char *fn, rec_error *err)
{
    if (opts)
        return rec__fail(err, REC_EINVAL,
                         "%s: top-N options are not supported yet (pass "
                         "NULL)", fn);
    return REC_OK;
}

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
    int32_t *cand; /* n_movies per thread */
    size_t n_movies;
} many_ctx;

static void many_row(void *ctx, size_t row, const rec__row_scores *rs,
                     int tid)
{
    many_ctx *c = ctx;
    c->n_out[row] = rec__row_top_n(c->out + row * c->n, c->n, rs,
                                   c->cand + (size_t)tid * c->n_movies);
}

/* Top n of dense users[0..nu) into out/n_out. */
static rec_status top_n_dense(rec_scored *out, size_t n, size_t *n_out,
                              const rec_model *m, const int32_t *users,
                              size_t nu, rec_error *err)
{
    size_t nt = (size_t)omp_get_max_threads();
    many_ctx c = {.out = out, .n = n, .n_out = n_out,
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
    rec_status st = check_opts(opts, "rec_top_n_many", err);
    int32_t *d = NULL;
    if (st == REC_OK)
        st = dense_users(&d, m, user_ids, n_users, "rec_top_n_many", err);
    if (st == REC_OK)
        st = top_n_dense(out, n, n_out, m, d, n_users, err);
    free(d);
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
    rec_status st = check_opts(opts, "rec_top_n_each", err);
    if (st != REC_OK)
        return st;
    if (!user_ids)
        n_users = m->n_users;
    int32_t *d = NULL;
    if ((st = dense_users(&d, m, user_ids, n_users, "rec_top_n_each", err)) !=
        REC_OK)
        return st;
    size_t chunk = REC_BATCH_CHUNK;
    rec_scored *top = malloc(chunk * (n ? n : 1) * sizeof *top);
    size_t *got = malloc(chunk * sizeof *got);
    int32_t *ids = malloc(chunk * sizeof *ids);
    if (!top || !got || !ids)
        st = rec__fail(err, REC_ENOMEM, "rec_top_n_each: out of memory");
    for (size_t i0 = 0; st == REC_OK && i0 < n_users; i0 += chunk) {
        size_t nb = n_users - i0 < chunk ? n_users - i0 : chunk;
        st = top_n_dense(top, n, got, m, d + i0, nb, err);
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
    rec_status st = check_opts(opts, "rec_similar_movies_many", err);
    if (st != REC_OK)
        return st;
    for (size_t i = 0; i < n_movies; i++)
        if (rec__idmap_get(&m->movie_map, movie_ids[i]) < 0)
            return rec__fail(err, REC_ENOTFOUND,
                             "rec_similar_movies_many: unknown movie id %ld "
                             "(entry %zu)", (long)movie_ids[i], i);
    /* Each movie by the single-movie code (exact, same order); movies in
       parallel. */
#pragma omp parallel for schedule(dynamic, 4)
    for (size_t i = 0; i < n_movies; i++)
        rec_similar_movies(out + i * n, n, &n_out[i], m, movie_ids[i], NULL);
    return REC_OK;
}
