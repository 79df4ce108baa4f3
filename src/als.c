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

/* One half-iteration: solve every row of `x` (n rows) from its ratings
   [off[i], off[i+1]) against the fixed side in `c`. Returns the number of
   rows whose system could not be solved (they hold zero factors). */
static size_t half_step(float *x, float *xbias, size_t n, const uint64_t *off,
                        const int32_t *idx, const float *vals,
                        const rec_row_ctx *c, size_t n_other, int nt,
                        double *scratch, size_t scratch_len, double *sse,
                        double *pen)
{
    size_t failed = 0;
    size_t pld = (size_t)rec__row_ld(c->k, c->biases);
#pragma omp parallel num_threads(nt) reduction(+ : failed)
    {
        double *s = scratch + (size_t)omp_get_thread_num() * scratch_len;
        if (c->packed) { /* the fixed side, packed for the gathers */
#pragma omp for schedule(static)
            for (size_t j = 0; j < n_other; j++)
                rec__pack_row((float *)c->packed + j * pld, c, j);
        }
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

rec_status rec__explicit_fit(rec_model *m, const rec_ratings *r,
                             const rec_als_params *p, const rec_model *warm,
                             int nt,
                             rec_iter_fn on_iter, void *iter_ctx,
                             rec_error *err)
{
    int k = m->rank;
    rec_status st = REC_OK;
    size_t scratch_len = rec__row_scratch(k);
    double *scratch = malloc((size_t)nt * scratch_len * sizeof(double));
    double *sse = malloc(r->n_users * sizeof(double));
    double *pen = malloc(r->n_users * sizeof(double));
    double *mpen = malloc(r->n_movies * sizeof(double));
    /* The fixed side of each half, packed (rec__pack_row): a rating's
       gather is then one or two cache lines instead of a factor row and a
       bias elsewhere. Up to rank 62 (4 lines), where the gathers weigh
       most; above, the copy would cost more memory than it saves time. */
    size_t pld = (size_t)rec__row_ld(k, m->has_biases);
    size_t nmax = r->n_users > r->n_movies ? r->n_users : r->n_movies;
    float *packed = pld <= 64 ? aligned_alloc(64, nmax * pld * sizeof(float))
                              : NULL;
    if (!scratch || !sse || !pen || !mpen || (pld <= 64 && !packed)) {
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
        rec__init_factors(m->user_factors, r->n_users, k, p->seed,
                          m->nonnegative);
    }

    rec_row_ctx movies_ctx = {
        .k = k, .biases = m->has_biases, .nonnegative = m->nonnegative,
        .reg = m->reg, .bias_reg = m->bias_reg, .bias_prior = m->bias_prior,
        .mu = m->global_mean, .other = m->user_factors,
        .other_bias = m->has_biases ? m->user_bias : NULL,
        .packed = packed};
    rec_row_ctx users_ctx = movies_ctx;
    users_ctx.other = m->movie_factors;
    users_ctx.other_bias = m->has_biases ? m->movie_bias : NULL;

    for (int it = 1; it <= p->iterations; it++) {
        size_t failed = half_step(
            m->movie_factors, m->has_biases ? m->movie_bias : NULL,
            r->n_movies, r->movie_off, r->movie_users, r->movie_vals,
            &movies_ctx, r->n_users, nt, scratch, scratch_len, NULL, mpen);
        if (failed) {
            st = solve_failures(failed, "movies", it, err);
            goto done;
        }
        failed = half_step(m->user_factors,
                           m->has_biases ? m->user_bias : NULL, r->n_users,
                           r->user_off, r->user_items, r->user_vals,
                           &users_ctx, r->n_movies, nt, scratch, scratch_len,
                           sse, pen);
        if (failed) {
            st = solve_failures(failed, "users", it, err);
            goto done;
        }
        if (on_iter) {
            double total_sse = 0.0, total_pen = 0.0;
            for (size_t u = 0; u < r->n_users; u++) {
                total_sse += sse[u];
                total_pen += pen[u];
            }
            /* movie penalties at the final movie factors (mpen was
               computed with them) */
            for (size_t j = 0; j < r->n_movies; j++)
                total_pen += mpen[j];
            if (on_iter(iter_ctx, sqrt(total_sse / (double)r->nnz),
                        total_sse + total_pen) != 0) {
                st = REC_ECANCELED;
                goto done;
            }
        }
    }

done:
    free(packed);
    free(scratch);
    free(sse);
    free(pen);
    free(mpen);
    return st;
}

/* ---- shared with distributed training (src/mpi/als_mpi.c) ---- */

size_t rec__als_half_step(float *x, float *xbias, size_t n,
                          const uint64_t *off, const int32_t *idx,
                          const float *vals, const rec_row_ctx *c, int nt,
                          double *scratch, size_t scratch_len, double *sse,
                          double *pen)
{
    return half_step(x, xbias, n, off, idx, vals, c, 0, nt, scratch,
                     scratch_len, sse, pen);
}
