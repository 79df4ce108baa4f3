/* Fixtures shared by the ALS, model, recommend and eval suites: small
   synthetic datasets built in memory, and hand-made models whose scores are
   known exactly. Header-only (static functions) so that each suite stays
   one executable. */
#ifndef REC_ALS_FIXTURE_H
#define REC_ALS_FIXTURE_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test_util.h"

/* A dense-ish low-rank dataset: n_users x n_movies, each pair rated with
   probability ~density, ratings in halves 0.5..5 from a rank-2 model.
   User ids are 10, 20, ...; movie ids 1, 3, 5, ... (sparse on purpose). */
static inline rec_ratings *fx_ratings(size_t n_users, size_t n_movies,
                                      double density)
{
    rec_ratings *r = NULL;
    rec_error e;
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    rec_rating *rows = malloc(n_users * n_movies * sizeof *rows);
    ck_assert_ptr_nonnull(rows);
    size_t n = 0;
    uint64_t s = 7;
    for (size_t u = 0; u < n_users; u++) {
        for (size_t j = 0; j < n_movies; j++) {
            double p = (double)(rec__splitmix64(&s) >> 11) / 9007199254740992.0;
            if (p >= density)
                continue;
            double a = sin((double)u * 0.7) * cos((double)j * 0.3);
            double b = cos((double)u * 0.4) * sin((double)j * 1.1);
            double v = 3.0 + 1.2 * a + 0.8 * b + 0.3 * ((double)(j % 3) - 1.0);
            v = round(v * 2.0) / 2.0;
            if (v < 0.5)
                v = 0.5;
            if (v > 5.0)
                v = 5.0;
            rows[n].user_id = (int32_t)(10 * (u + 1));
            rows[n].movie_id = (int32_t)(2 * j + 1);
            rows[n].rating = (float)v;
            n++;
        }
    }
    ck_assert_ok(rec_ratings_add(r, rows, n, &e), &e);
    free(rows);
    return r;
}

static inline rec_model *fx_train(const rec_ratings *r, int rank,
                                  int threads)
{
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = rank;
    p.n_threads = threads;
    rec_model *m = NULL;
    rec_error e;
    ck_assert_ok(rec_train_als(&m, r, &p, &e), &e);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* A hand-made model: users `uids` (ascending), movies `mids` (ascending),
   rank 2, zero factors and biases, mean 3, ratings 0.5..5, no rated
   movies. Callers set factors and biases directly. */
static inline rec_model *fx_model(const int32_t *uids, size_t nu,
                                  const int32_t *mids, size_t nm)
{
    rec_model *m = NULL;
    rec_error e;
    ck_assert_ok(rec__model_alloc(&m, 2, nu, nm, 0, &e), &e);
    ck_assert_int_eq(rec__idmap_reserve(&m->user_map, nu), REC_OK);
    ck_assert_int_eq(rec__idmap_reserve(&m->movie_map, nm), REC_OK);
    for (size_t u = 0; u < nu; u++) {
        m->user_ids[u] = uids[u];
        ck_assert_int_eq(rec__idmap_put(&m->user_map, uids[u], (int32_t)u),
                         REC_OK);
    }
    for (size_t j = 0; j < nm; j++) {
        m->movie_ids[j] = mids[j];
        ck_assert_int_eq(rec__idmap_put(&m->movie_map, mids[j], (int32_t)j),
                         REC_OK);
    }
    ck_assert_int_eq(rec__meta_resize(&m->meta, nm), REC_OK);
    m->global_mean = 3.0f;
    m->rating_min = 0.5f;
    m->rating_max = 5.0f;
    m->has_biases = 1;
    m->reg = 0.1;
    m->bias_reg = 0.1;
    for (size_t j = 0; j < nm; j++)
        m->movie_count[j] = 1; /* candidates need a training rating */
    return m;
}

/* After setting a hand-made model's factors: derive what serving needs. */
static inline void fx_ready(rec_model *m)
{
    rec_error e;
    ck_assert_ok(rec__model_finish(m, &e), &e);
}

/* Set the factors of dense movie j of a rank-2 model. */
static inline void fx_movie(rec_model *m, size_t j, float f0, float f1,
                            float bias)
{
    m->movie_factors[2 * j] = f0;
    m->movie_factors[2 * j + 1] = f1;
    m->movie_bias[j] = bias;
}

/* Train/test split of the bundled ml-latest-small (90/10, seed 42). */
static inline void fx_small_split(rec_ratings **train, rec_ratings **test)
{
    rec_ratings *all = NULL;
    rec_error e;
    ck_assert_ok(rec_load_movielens(&all, repo_data("ml-latest-small"), &e),
                 &e);
    ck_assert_ok(rec_ratings_split(train, test, all, 0.1, 42, &e), &e);
    rec_ratings_free(all);
}

#endif
