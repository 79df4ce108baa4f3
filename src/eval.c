/*
 * eval.c - accuracy (RMSE, MAE) and ranking quality (precision, recall,
 * nDCG and MAP at k) of a model on held-out ratings.
 *
 * Ranking: each test user known to the model with at least one relevant
 * test movie (rating >= relevant_min, movie known to the model) gets the
 * top k of all movies they did not rate in training (as rec_top_n), which
 * are compared with the relevant set. Users are ranked in parallel; per-user
 * results are summed in user order, so the result does not depend on the
 * thread count.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int contains(const int32_t *sorted, size_t n, int32_t v)
{
    return bsearch(&v, sorted, n, sizeof v, cmp_i32) != NULL;
}

typedef struct user_metrics {
    double precision, recall, ndcg, ap, auc;
    int ranked;
} user_metrics;

/* Ranking metrics of one test user (dense index tu in `test`). `scratch`
   holds room for the user's test ratings and k results. */
static void rank_user(user_metrics *um, const rec_model *m,
                      const rec_ratings *test, size_t tu, int k,
                      float relevant_min, int32_t *rel, rec_scored *top)
{
    um->ranked = 0;
    int32_t u = rec__idmap_get(&m->user_map, test->user_ids[tu]);
    if (u < 0)
        return;
    size_t n_rel = 0;
    for (uint64_t t = test->user_off[tu]; t < test->user_off[tu + 1]; t++) {
        if (test->user_vals[t] < relevant_min)
            continue;
        int32_t j = rec__idmap_get(&m->movie_map,
                                   test->movie_ids[test->user_items[t]]);
        if (j >= 0)
            rel[n_rel++] = m->movie_ids[j];
    }
    if (n_rel == 0)
        return;
    qsort(rel, n_rel, sizeof *rel, cmp_i32);
    size_t got = 0;
    rec_user_view view;
    rec__user_view(&view, m, (size_t)u);
    rec_candidates cand;
    if (rec__candidates_init(&cand, m, NULL, NULL) != REC_OK ||
        rec__rank(top, (size_t)k, &got, m, &view, &cand, NULL) != REC_OK)
        return;
    double hits = 0.0, dcg = 0.0, idcg = 0.0, ap = 0.0;
    for (size_t i = 0; i < got; i++) {
        if (contains(rel, n_rel, top[i].movie_id)) {
            hits += 1.0;
            dcg += 1.0 / log2((double)i + 2.0);
            ap += hits / (double)(i + 1);
        }
    }
    size_t ideal = n_rel < (size_t)k ? n_rel : (size_t)k;
    for (size_t i = 0; i < ideal; i++)
        idcg += 1.0 / log2((double)i + 2.0);
    um->precision = hits / (double)k;
    um->recall = hits / (double)n_rel;
    um->ndcg = dcg / idcg;
    um->ap = ap / (double)ideal;
    um->auc = rec__user_auc(m, &view, &cand, rel, n_rel);
    um->ranked = 1;
}

rec_status rec_evaluate(rec_eval_result *out, const rec_model *m,
                        const rec_ratings *test, int k, float relevant_min,
                        rec_error *err)
{
    if (!out || !m || !test)
        return rec__fail(err, REC_EINVAL, "rec_evaluate: NULL argument");
    if (k < 1)
        return rec__fail(err, REC_EINVAL, "rec_evaluate: k %d must be >= 1", k);
    if (!isfinite(relevant_min))
        return rec__fail(err, REC_EINVAL,
                         "rec_evaluate: relevant_min must be finite");

    rec_eval_result res;
    memset(&res, 0, sizeof res); /* padding too: callers may memcmp */
    res.k = k;
    /* Accuracy over every test rating, with the fallbacks of rec_predict. */
    double se = 0.0, ae = 0.0;
    for (size_t tu = 0; tu < test->n_users; tu++) {
        for (uint64_t t = test->user_off[tu]; t < test->user_off[tu + 1];
             t++) {
            float p = 0.0f;
            rec_predict(&p, m, test->user_ids[tu],
                        test->movie_ids[test->user_items[t]], NULL);
            double d = (double)p - test->user_vals[t];
            se += d * d;
            ae += fabs(d);
        }
    }
    res.n_predictions = test->nnz;
    if (test->nnz) {
        res.rmse = sqrt(se / (double)test->nnz);
        res.mae = ae / (double)test->nnz;
    }

    size_t max_per_user = 0;
    for (size_t tu = 0; tu < test->n_users; tu++) {
        size_t c = (size_t)(test->user_off[tu + 1] - test->user_off[tu]);
        if (c > max_per_user)
            max_per_user = c;
    }
    user_metrics *um = calloc(test->n_users ? test->n_users : 1, sizeof *um);
    if (!um)
        return rec__fail(err, REC_ENOMEM, "rec_evaluate: out of memory");
    int failed = 0;
#pragma omp parallel reduction(| : failed)
    {
        int32_t *rel = malloc((max_per_user ? max_per_user : 1) * sizeof *rel);
        rec_scored *top = malloc((size_t)k * sizeof *top);
        if (!rel || !top)
            failed = 1;
#pragma omp for schedule(dynamic, 8)
        for (size_t tu = 0; tu < test->n_users; tu++) {
            if (rel && top)
                rank_user(&um[tu], m, test, tu, k, relevant_min, rel, top);
        }
        free(rel);
        free(top);
    }
    if (failed) {
        free(um);
        return rec__fail(err, REC_ENOMEM, "rec_evaluate: out of memory");
    }
    for (size_t tu = 0; tu < test->n_users; tu++) {
        if (!um[tu].ranked)
            continue;
        res.n_users_ranked++;
        res.precision_at_k += um[tu].precision;
        res.recall_at_k += um[tu].recall;
        res.ndcg_at_k += um[tu].ndcg;
        res.map_at_k += um[tu].ap;
        res.auc += um[tu].auc;
    }
    free(um);
    if (res.n_users_ranked) {
        double nr = (double)res.n_users_ranked;
        res.precision_at_k /= nr;
        res.recall_at_k /= nr;
        res.ndcg_at_k /= nr;
        res.map_at_k /= nr;
        res.auc /= nr;
    }
    memcpy(out, &res, sizeof res);
    return REC_OK;
}
