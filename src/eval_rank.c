/*
 * eval_rank.c - on top of evaluation (eval.c, which never calls back here):
 * the leave-k-out split and the popularity baseline.
 *
 * The baseline is a rank-1 model whose user factors are 1 and whose movie
 * factors are the training counts, so rec_evaluate() ranks it with the very
 * code that ranks a trained model (same exclusions, same tie order, same
 * metrics); only its predictions (RMSE, MAE) are replaced by movie means.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- leave-k-out ---- */

rec_status rec_ratings_split_per_user(rec_ratings **train_out,
                                      rec_ratings **test_out,
                                      const rec_ratings *r, int k_out,
                                      uint64_t seed, rec_error *err)
{
    if (!train_out || !test_out || !r)
        return rec__fail(err, REC_EINVAL,
                         "rec_ratings_split_per_user: NULL argument");
    if (k_out < 1)
        return rec__fail(err, REC_EINVAL,
                         "rec_ratings_split_per_user: k %d must be >= 1",
                         k_out);
    size_t kk = (size_t)k_out, max_n = 0, n_test = 0;
    for (size_t u = 0; u < r->n_users; u++) {
        size_t n = (size_t)(r->user_off[u + 1] - r->user_off[u]);
        if (n > max_n)
            max_n = n;
        if (n > kk)
            n_test += kk;
    }
    size_t n_train = r->nnz - n_test;
    unsigned char *to_test = calloc(r->nnz ? r->nnz : 1, 1);
    size_t *perm = malloc((max_n ? max_n : 1) * sizeof *perm);
    int32_t *cu[2], *cm[2];
    float *cv[2];
    size_t cap[2] = {n_train ? n_train : 1, n_test ? n_test : 1};
    int ok = to_test && perm;
    for (int s = 0; s < 2; s++) {
        cu[s] = malloc(cap[s] * sizeof(int32_t));
        cm[s] = malloc(cap[s] * sizeof(int32_t));
        cv[s] = malloc(cap[s] * sizeof(float));
        ok = ok && cu[s] && cm[s] && cv[s];
    }
    if (!ok) {
        free(to_test);
        free(perm);
        for (int s = 0; s < 2; s++) {
            free(cu[s]);
            free(cm[s]);
            free(cv[s]);
        }
        return rec__fail(err, REC_ENOMEM,
                         "rec_ratings_split_per_user: out of memory");
    }
    size_t w[2] = {0, 0};
    for (size_t u = 0; u < r->n_users; u++) {
        uint64_t a = r->user_off[u];
        size_t n = (size_t)(r->user_off[u + 1] - a);
        if (n > kk) { /* partial Fisher-Yates keyed by (seed, user id) */
            uint64_t st = seed ^ (0xA0761D6478BD642FULL *
                                  ((uint64_t)(uint32_t)r->user_ids[u] + 1));
            for (size_t i = 0; i < n; i++)
                perm[i] = i;
            for (size_t i = 0; i < kk; i++) {
                size_t j = i + (size_t)(rec__splitmix64(&st) % (n - i));
                size_t t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
                to_test[a + perm[i]] = 1;
            }
        }
        for (size_t i = 0; i < n; i++) {
            int s = to_test[a + i];
            cu[s][w[s]] = r->user_ids[u];
            cm[s][w[s]] = r->movie_ids[r->user_items[a + i]];
            cv[s][w[s]++] = r->user_vals[a + i];
        }
    }
    free(to_test);
    free(perm);
    rec_ratings *train = NULL, *test = NULL;
    rec_status st = rec__ratings_build_owned(&train, cu[0], cm[0], cv[0],
                                             n_train, r->movie_ids, &r->meta,
                                             err);
    if (st != REC_OK) {
        free(cu[1]);
        free(cm[1]);
        free(cv[1]);
        return st;
    }
    st = rec__ratings_build_owned(&test, cu[1], cm[1], cv[1], n_test,
                                  r->movie_ids, &r->meta, err);
    if (st != REC_OK) {
        rec_ratings_free(train);
        return st;
    }
    *train_out = train;
    *test_out = test;
    return REC_OK;
}

/* ---- popularity baseline ---- */

rec_status rec_evaluate_popularity(rec_eval_result *out,
                                   const rec_ratings *train,
                                   const rec_ratings *test, int k,
                                   float relevant_min, rec_error *err)
{
    if (!out || !train || !test)
        return rec__fail(err, REC_EINVAL,
                         "rec_evaluate_popularity: NULL argument");
    if (train->nnz == 0)
        return rec__fail(err, REC_EINVAL,
                         "rec_evaluate_popularity: no training ratings");
    rec_model *m = NULL;
    rec_status st = rec__model_alloc(&m, 1, train->n_users, train->n_movies,
                                     train->nnz, err);
    if (st != REC_OK)
        return st;
    rec_als_params p;
    rec_als_params_init(&p);
    p.preference = 0; /* no preference part: the counts are the ranking */
    st = rec__train_fill_model(m, train, &p, err);
    if (st != REC_OK) {
        rec_model_free(m);
        return st;
    }
    float mu = m->global_mean; /* biases on: the training mean */
    m->has_biases = 0;
    m->global_mean = 0.0f;
    for (size_t u = 0; u < m->n_users; u++)
        m->user_factors[u] = 1.0f;
    for (size_t j = 0; j < m->n_movies; j++)
        m->movie_factors[j] = (float)m->movie_count[j];
    m->bias_prior = 0.0;
    rec_eval_result res;
    st = rec__model_finish(m, err);
    if (st == REC_OK)
        st = rec_evaluate(&res, m, test, k, relevant_min, err);
    if (st == REC_OK) { /* predictions: the movie's training mean */
        double se = 0.0, ae = 0.0;
        for (size_t t = 0; t < test->nnz; t++) {
            int32_t j = rec__idmap_get(
                &m->movie_map, test->movie_ids[test->user_items[t]]);
            double pred = j >= 0 && m->movie_count[j] ? m->movie_mean[j] : mu;
            double d = pred - test->user_vals[t];
            se += d * d;
            ae += fabs(d);
        }
        res.rmse = test->nnz ? sqrt(se / (double)test->nnz) : 0.0;
        res.mae = test->nnz ? ae / (double)test->nnz : 0.0;
        memcpy(out, &res, sizeof res);
    }
    rec_model_free(m);
    return st;
}
