/*
 * als.c - explicit-feedback ALS with biases (ALS-WR regularisation).
 *
 * Each iteration solves every movie with the users fixed, then every user
 * with the movies fixed. A half-iteration is one OpenMP parallel region
 * (num_threads(params->n_threads) when > 0) over independent rows, each
 * thread with its own scratch; rows are solved by the single-threaded,
 * BLAS-free kernels of solve.c, so OpenBLAS threads never multiply with
 * OpenMP threads and nothing is allocated inside the loops.
 *
 * Determinism: the initial user factors come from rec__splitmix64 keyed by
 * (seed, row), every row's solve depends only on the other side's factors,
 * and per-row losses are summed serially in row order. The model is thus
 * the same for the same data and seed, whatever the thread count or the
 * scheduling.
 *
 * The loss costs almost nothing: the user half runs last, and each user's
 * squared error follows from its normal equations (rec__solve_row).
 */
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void rec_als_params_init(rec_als_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->version = REC_ALS_PARAMS_VERSION;
    p->rank = 32;
    p->iterations = 10;
    p->reg = 0.12;
    p->seed = 42;
    p->n_threads = 0;
    p->nonnegative = 0;
    p->biases = 1;
    p->bias_reg = 0.1;
    p->progress = NULL;
    p->progress_userdata = NULL;
    p->implicit = 0; /* version 2: implicit feedback (als_implicit.c) */
    p->alpha = 1.0;
    p->solver = REC_SOLVER_CG;
    p->cg_steps = 3;
    p->implicit_min_rating = 0.0f;
    p->implicit_weight_by_value = 0;
}

static rec_status check_params(const rec_ratings *r, const rec_als_params *p,
                               rec_error *err)
{
    if (!r || !p)
        return rec__fail(err, REC_EINVAL, "rec_train_als: NULL argument");
    if (p->version < 1 || p->version > REC_ALS_PARAMS_VERSION)
        return rec__fail(err, REC_EINVAL,
                         "rec_als_params: unknown version %u (use "
                         "rec_als_params_init)",
                         (unsigned)p->version);
    if (p->rank < 1 || p->rank > REC_MAX_RANK)
        return rec__fail(err, REC_EINVAL, "rank %d out of range 1..%d",
                         p->rank, REC_MAX_RANK);
    if (p->iterations < 1)
        return rec__fail(err, REC_EINVAL, "iterations %d must be >= 1",
                         p->iterations);
    if (!(p->reg >= 0.0) || !isfinite(p->reg))
        return rec__fail(err, REC_EINVAL, "reg must be finite and >= 0");
    if (!(p->bias_reg >= 0.0) || !isfinite(p->bias_reg))
        return rec__fail(err, REC_EINVAL, "bias_reg must be finite and >= 0");
    if (p->n_threads < 0)
        return rec__fail(err, REC_EINVAL, "n_threads %d must be >= 0",
                         p->n_threads);
    if (r->nnz == 0 || r->n_users == 0 || r->n_movies == 0)
        return rec__fail(err, REC_EINVAL, "rec_train_als: no ratings");
    return REC_OK;
}

/* Copy what serving needs from the dataset into the model. */
static rec_status fill_model(rec_model *m, const rec_ratings *r,
                             const rec_als_params *p, rec_error *err)
{
    memcpy(m->user_ids, r->user_ids, r->n_users * sizeof *m->user_ids);
    memcpy(m->movie_ids, r->movie_ids, r->n_movies * sizeof *m->movie_ids);
    memcpy(m->rated_off, r->user_off, (r->n_users + 1) * sizeof(uint64_t));
    memcpy(m->rated_items, r->user_items, r->nnz * sizeof(int32_t));
    memcpy(m->rated_vals, r->user_vals, r->nnz * sizeof(float));
    if (rec__idmap_copy(&m->user_map, &r->user_map) != REC_OK ||
        rec__idmap_copy(&m->movie_map, &r->movie_map) != REC_OK ||
        rec__meta_copy(&m->meta, &r->meta) != REC_OK)
        return rec__fail(err, REC_ENOMEM, "rec_train_als: out of memory");
    double total = 0.0;
    for (size_t j = 0; j < r->n_movies; j++) {
        uint64_t a = r->movie_off[j], b = r->movie_off[j + 1];
        double s = 0.0;
        for (uint64_t t = a; t < b; t++)
            s += r->movie_vals[t];
        total += s;
        m->movie_count[j] = (uint32_t)(b - a);
        m->movie_mean[j] = b > a ? (float)(s / (double)(b - a)) : 0.0f;
    }
    m->has_biases = p->biases != 0;
    m->global_mean = m->has_biases ? (float)(total / (double)r->nnz) : 0.0f;
    m->rating_min = r->rating_min;
    m->rating_max = r->rating_max;
    m->reg = p->reg;
    m->bias_reg = p->bias_reg;
    m->nonnegative = p->nonnegative != 0;
    return REC_OK;
}

/* Uniform in [0, 1) from 53 random bits. */
static double unit(uint64_t *s)
{
    return (double)(rec__splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static void init_factors(float *f, size_t n, int k, uint64_t seed, int nonneg)
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

/* One half-iteration: solve every row of `x` (n rows) from its ratings
   [off[i], off[i+1]) against the fixed side in `c`. Returns the number of
   rows whose system could not be solved (they hold zero factors). */
static size_t half_step(float *x, float *xbias, size_t n, const uint64_t *off,
                        const int32_t *idx, const float *vals,
                        const rec_row_ctx *c, int nt, double *scratch,
                        size_t scratch_len, double *sse, double *pen)
{
    size_t failed = 0;
#pragma omp parallel num_threads(nt) reduction(+ : failed)
    {
        double *s = scratch + (size_t)omp_get_thread_num() * scratch_len;
#pragma omp for schedule(dynamic, 4)
        for (size_t i = 0; i < n; i++) {
            uint64_t a = off[i], b = off[i + 1];
            if (rec__solve_row(x + i * (size_t)c->k, xbias ? xbias + i : NULL,
                               c, idx + a, vals + a, (size_t)(b - a), s,
                               sse ? sse + i : NULL, pen ? pen + i : NULL) != 0)
                failed++;
        }
    }
    return failed;
}

/* REC_ELAPACK for a half-iteration whose rows could not all be solved:
   the header promises it, and zero factors would pass in silence. */
static rec_status solve_failures(size_t failed, const char *side, int it,
                                 rec_error *err)
{
    return rec__fail(err, REC_ELAPACK,
                     "rec_train_als: the normal equations of %zu %s could "
                     "not be solved at iteration %d (non-finite values: "
                     "check the ratings' scale, or use a larger reg)",
                     failed, side, it);
}

static double now_seconds(void)
{
    return omp_get_wtime();
}

rec_status rec_train_als(rec_model **out, const rec_ratings *r,
                         const rec_als_params *params, rec_error *err)
{
    return rec__train_als_from(out, r, params, NULL, err);
}

/* A warm start must come from a model of the same dataset: same rank and
   the same users and movies in the same dense order. */
static rec_status check_warm(const rec_model *w, const rec_ratings *r, int k,
                             rec_error *err)
{
    if (w->implicit || w->rank != k || w->n_users != r->n_users ||
        w->n_movies != r->n_movies ||
        memcmp(w->user_ids, r->user_ids, r->n_users * sizeof *r->user_ids) ||
        memcmp(w->movie_ids, r->movie_ids,
               r->n_movies * sizeof *r->movie_ids))
        return rec__fail(err, REC_EINVAL,
                         "warm start: the model does not match the dataset "
                         "or the rank");
    return REC_OK;
}

rec_status rec__train_als_from(rec_model **out, const rec_ratings *r,
                               const rec_als_params *params,
                               const rec_model *warm, rec_error *err)
{
    if (!out)
        return rec__fail(err, REC_EINVAL, "rec_train_als: NULL argument");
    *out = NULL;
    rec_status st = check_params(r, params, err);
    if (st != REC_OK)
        return st;
    if (params->version >= 2 && params->implicit) { /* als_implicit.c */
        if (warm)
            return rec__fail(err, REC_EINVAL,
                             "warm start: not supported for implicit ALS");
        return rec__train_implicit(out, r, params, err);
    }
    if (warm && (st = check_warm(warm, r, params->rank, err)) != REC_OK)
        return st;
    double t0 = now_seconds();
    const rec_als_params *p = params;
    int k = p->rank;
    int nt = p->n_threads > 0 ? p->n_threads : omp_get_max_threads();
    if (nt < 1)
        nt = 1;

    rec_model *m = NULL;
    st = rec__model_alloc(&m, k, r->n_users, r->n_movies, r->nnz, err);
    if (st != REC_OK)
        return st;
    st = fill_model(m, r, p, err);
    if (st != REC_OK) {
        rec_model_free(m);
        return st;
    }

    size_t scratch_len = rec__row_scratch(k);
    double *scratch = malloc((size_t)nt * scratch_len * sizeof(double));
    double *sse = malloc(r->n_users * sizeof(double));
    double *pen = malloc(r->n_users * sizeof(double));
    double *mpen = malloc(r->n_movies * sizeof(double));
    if (!scratch || !sse || !pen || !mpen) {
        st = rec__fail(err, REC_ENOMEM, "rec_train_als: out of memory");
        goto done;
    }

    /* The movie half comes first and reads only the user side, so the
       user factors and biases are the whole state of an iteration: a warm
       start from them continues the warm model's training exactly. */
    if (warm) {
        memcpy(m->user_factors, warm->user_factors,
               r->n_users * (size_t)k * sizeof *m->user_factors);
        if (m->has_biases && warm->has_biases)
            memcpy(m->user_bias, warm->user_bias,
                   r->n_users * sizeof *m->user_bias);
    } else {
        init_factors(m->user_factors, r->n_users, k, p->seed,
                     m->nonnegative);
    }

    rec_row_ctx movies_ctx = {
        .k = k, .biases = m->has_biases, .nonnegative = m->nonnegative,
        .reg = p->reg, .bias_reg = p->bias_reg, .mu = m->global_mean,
        .other = m->user_factors,
        .other_bias = m->has_biases ? m->user_bias : NULL};
    rec_row_ctx users_ctx = movies_ctx;
    users_ctx.other = m->movie_factors;
    users_ctx.other_bias = m->has_biases ? m->movie_bias : NULL;

    for (int it = 1; it <= p->iterations; it++) {
        size_t failed = half_step(
            m->movie_factors, m->has_biases ? m->movie_bias : NULL,
            r->n_movies, r->movie_off, r->movie_users, r->movie_vals,
            &movies_ctx, nt, scratch, scratch_len, NULL, mpen);
        if (failed) {
            st = solve_failures(failed, "movies", it, err);
            goto done;
        }
        failed = half_step(m->user_factors,
                           m->has_biases ? m->user_bias : NULL, r->n_users,
                           r->user_off, r->user_items, r->user_vals,
                           &users_ctx, nt, scratch, scratch_len, sse, pen);
        if (failed) {
            st = solve_failures(failed, "users", it, err);
            goto done;
        }
        if (p->progress) {
            double total_sse = 0.0, total_pen = 0.0;
            for (size_t u = 0; u < r->n_users; u++) {
                total_sse += sse[u];
                total_pen += pen[u];
            }
            /* movie penalties at the final movie factors (mpen was
               computed with them) */
            for (size_t j = 0; j < r->n_movies; j++)
                total_pen += mpen[j];
            rec_progress pr = {
                .iteration = it,
                .iterations = p->iterations,
                .train_rmse = sqrt(total_sse / (double)r->nnz),
                .loss = total_sse + total_pen,
                .seconds = now_seconds() - t0};
            if (p->progress(p->progress_userdata, &pr) != 0) {
                st = rec__fail(err, REC_ECANCELED,
                               "training cancelled at iteration %d of %d", it,
                               p->iterations);
                goto done;
            }
        }
    }

done:
    free(scratch);
    free(sse);
    free(pen);
    free(mpen);
    if (st != REC_OK) {
        rec_model_free(m);
        return st;
    }
    *out = m;
    return REC_OK;
}

/* ---- shared with distributed training (src/mpi/als_mpi.c) ----
   The same steps, so that a distributed run reproduces rec_train_als. */

rec_status rec__als_check_params(const rec_ratings *r,
                                 const rec_als_params *p, rec_error *err)
{
    /* implicit parameters are checked by rec__implicit_check too */
    return check_params(r, p, err);
}

rec_status rec__als_fill_model(rec_model *m, const rec_ratings *r,
                               const rec_als_params *p, rec_error *err)
{
    return fill_model(m, r, p, err);
}

void rec__als_init_factors(float *f, size_t n, int k, uint64_t seed,
                           int nonneg)
{
    init_factors(f, n, k, seed, nonneg);
}

size_t rec__als_half_step(float *x, float *xbias, size_t n,
                          const uint64_t *off, const int32_t *idx,
                          const float *vals, const rec_row_ctx *c, int nt,
                          double *scratch, size_t scratch_len, double *sse,
                          double *pen)
{
    return half_step(x, xbias, n, off, idx, vals, c, nt, scratch, scratch_len,
                     sse, pen);
}
