/*
 * eval_rank.c - ranking evaluation beside eval.c: per-user AUC, the
 * leave-k-out split and the popularity baseline.
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

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* First index of sorted[0..n) with sorted[i] > v (or >= v when `ge`). */
static size_t bound(const float *sorted, size_t n, float v, int ge)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ge ? sorted[mid] >= v : sorted[mid] > v)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static float nan_last(float s)
{
    return s == s ? s : -INFINITY; /* NaN ranks last, as in top-n */
}

double rec__user_auc(const rec_model *m, const rec_user_view *u,
                     const rec_candidates *cand, const int32_t *rel,
                     size_t n_rel)
{
    float stack[256], dots[256], vstack[256];
    float *pos = n_rel <= 256 ? stack : malloc(n_rel * sizeof *pos);
    float *v = m->rank_dim <= 256 ? vstack
                                  : malloc((size_t)m->rank_dim * sizeof *v);
    if (!pos || !v || n_rel == 0) {
        if (pos != stack)
            free(pos);
        if (v != vstack)
            free(v);
        return 0.5;
    }
    float c;
    rec__user_rank_vec(v, &c, m, u->x, u->bias, u->p);
    size_t np = 0;
    for (size_t i = 0; i < n_rel; i++) {
        int32_t j = rec__idmap_get(&m->movie_map, rel[i]);
        if (j < 0)
            continue;
        float d;
        rec__score_rows(&d, m->rank_movie, m->rank_dim, v, (size_t)j,
                        (size_t)j + 1);
        pos[np++] = nan_last(d + c);
    }
    qsort(pos, np, sizeof *pos, cmp_float);
    double right = 0.0;
    size_t n_neg = 0, e = 0, q = 0;
    for (size_t j0 = 0; j0 < m->n_movies; j0 += 256) {
        size_t j1 = m->n_movies - j0 < 256 ? m->n_movies : j0 + 256;
        rec__score_rows(dots, m->rank_movie, m->rank_dim, v, j0, j1);
        for (size_t j = j0; j < j1; j++) {
            while (e < u->n_rated && (size_t)u->rated[e] < j)
                e++;
            if (e < u->n_rated && (size_t)u->rated[e] == j)
                continue;
            while (q < n_rel && rel[q] < m->movie_ids[j])
                q++;
            if (q < n_rel && rel[q] == m->movie_ids[j])
                continue; /* a positive */
            if (!rec__candidate(cand, j))
                continue;
            float s = nan_last(dots[j - j0] + c);
            size_t gt = bound(pos, np, s, 0), ge = bound(pos, np, s, 1);
            right += (double)(np - gt) + 0.5 * (double)(gt - ge);
            n_neg++;
        }
    }
    if (pos != stack)
        free(pos);
    if (v != vstack)
        free(v);
    return n_neg && np ? right / ((double)np * (double)n_neg) : 1.0;
}

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
