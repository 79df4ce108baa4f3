/*
 * eval.c - accuracy (RMSE, MAE) and ranking quality (precision, recall,
 * nDCG and MAP at k) of a model on held-out ratings.
 *
 * Ranking: each test user known to the model with at least one relevant
 * test movie (rating >= relevant_min, movie known to the model) gets the
 * top k of all movies they did not rate in training (as rec_top_n), which
 * are compared with the relevant set. Ranking goes through the batch path
 * (recommend_batch.c: SGEMM blocks, exact top k, cold users as rec_top_n);
 * the AUC decides each pair on the block's approximate score unless a
 * relevant score lies within the rounding bound, so it equals the exact
 * computation. Per-user results are summed in user order: no dependence on
 * the thread count. Calls flow one way: popularity (eval_rank.c) ->
 * metrics (here) -> batch ranking (recommend_batch.c) -> scoring
 * (recommend.c).
 */
#include "internal.h"

#include <math.h>
#include <omp.h>
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

/* The same for a double threshold (compared exactly, no rounding). */
static size_t bound_d(const float *sorted, size_t n, double v, int ge)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ge ? (double)sorted[mid] >= v : (double)sorted[mid] > v)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The exact ranking score (the user's vector, cold users too). */
static float exact_score(const rec__row_scores *rs, size_t j)
{
    float s = rec__score_one(rs->m, rs->v, rs->c, j);
    return s == s ? s : -INFINITY; /* NaN ranks last, as in top-n */
}

/* AUC of one user: the share of (relevant, other) pairs in the right
   order, ties half; "other" is every candidate the user did not rate that
   is not relevant. `rel` are ascending external movie ids; `pos` room for
   n_rel floats. An other movie is decided on the block's approximate score
   when no relevant score lies within twice the rounding bound of it, else
   on its exact score: the result equals scoring every pair exactly. */
static double user_auc(const rec__row_scores *rs, const rec_candidates *cand,
                       const int32_t *rel, size_t n_rel, float *pos)
{
    const rec_model *m = rs->m;
    const rec_user_view *u = &rs->view;
    size_t np = 0;
    for (size_t i = 0; i < n_rel; i++) {
        int32_t j = rec__idmap_get(&m->movie_map, rel[i]);
        if (j >= 0)
            pos[np++] = exact_score(rs, (size_t)j);
    }
    if (np == 0)
        return 0.5;
    qsort(pos, np, sizeof *pos, cmp_float);
    double right = 0.0, w = 2.0 * rs->margin;
    double lowest = pos[0], highest = pos[np - 1];
    size_t n_neg = 0, e = 0, q = 0;
    for (size_t j = 0; j < m->n_movies; j++) {
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
        n_neg++;
        if (rs->approx) { /* the exact score is within w / 2 of a */
            double a = rs->approx[j];
            if (a + w < lowest) { /* below every relevant one: most movies */
                right += (double)np;
                continue;
            }
            if (a - w > highest)
                continue;
            /* the relevant scores above a + w, and whether the nearest
               one below it is under a - w (then none is near) */
            size_t above = bound_d(pos, np, a + w, 0);
            if (above == 0 || (double)pos[above - 1] < a - w) {
                right += (double)(np - above);
                continue;
            }
        }
        float s = exact_score(rs, j);
        size_t gt = bound(pos, np, s, 0), ge = bound(pos, np, s, 1);
        right += (double)(np - gt) + 0.5 * (double)(gt - ge);
    }
    return n_neg ? right / ((double)np * (double)n_neg) : 1.0;
}

/* The same AUC by counting: the kernel (rec__auc_count) counts the pairs
   of every movie at once, deciding on the approximate score wherever no
   relevant score is within twice the rounding bound; the movies that are
   no "other" (rated, relevant, not candidates: `excl`, ascending, no
   repeats) are taken out again with the kernel's very float test, and the
   near ones are decided on their exact score. Counts of pairs and half
   pairs are exact in double, so the sum equals user_auc's. */
static double user_auc_counted(const rec__row_scores *rs, const float *pos,
                               size_t np, const int32_t *excl, size_t n_excl,
                               uint32_t *near)
{
    const rec_model *m = rs->m;
    double w = 2.0 * rs->margin;
    float wf = (float)w; /* rounded up: the test may only get wider */
    if ((double)wf < w)
        wf = nextafterf(wf, INFINITY);
    size_t n_near = 0;
    uint64_t right = rec__auc_count(rs->approx, m->n_movies, pos, np, wf,
                                    near, &n_near);
    for (size_t i = 0; i < n_excl; i++) {
        float a = rs->approx[excl[i]], hi = a + wf, lo = a - wf;
        size_t g = bound(pos, np, hi, 0);
        if (!(g > 0 && pos[g - 1] >= lo)) /* counted by the kernel */
            right -= np - g;
    }
    double half = 0.0; /* the near movies that are others, exactly */
    for (size_t i = 0, e = 0; i < n_near; i++) {
        while (e < n_excl && (uint32_t)excl[e] < near[i])
            e++;
        if (e < n_excl && (uint32_t)excl[e] == near[i])
            continue;
        float sc = exact_score(rs, near[i]);
        size_t gt = bound(pos, np, sc, 0), ge = bound(pos, np, sc, 1);
        half += (double)(np - gt) + 0.5 * (double)(gt - ge);
    }
    size_t n_neg = m->n_movies - n_excl;
    return n_neg ? ((double)right + half) / ((double)np * (double)n_neg)
                 : 1.0;
}

/* Merge ascending a and b into out, without repeats. */
static size_t merge_unique(int32_t *out, const int32_t *a, size_t na,
                           const int32_t *b, size_t nb)
{
    size_t i = 0, j = 0, w = 0;
    while (i < na || j < nb) {
        int32_t v = j >= nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
        while (i < na && a[i] == v)
            i++;
        while (j < nb && b[j] == v)
            j++;
        out[w++] = v;
    }
    return w;
}

typedef struct user_metrics {
    double precision, recall, ndcg, ap, auc;
    int ranked;
    size_t got; /* entries of its top k (eval_ctx.tops) */
} user_metrics;

typedef struct eval_ctx {
    const rec_ratings *test;
    const rec_candidates *cands; /* the defaults, as rec_top_n */
    const int32_t *row_tu;  /* row -> test user */
    user_metrics *um;       /* per test user */
    rec_scored *tops;       /* k per test user */
    int k;
    float relevant_min;
    int32_t *rel;           /* max_per_user per thread */
    float *pos;             /* max_per_user per thread */
    int32_t *cand;          /* n_movies per thread */
    size_t max_per_user, n_movies;
    /* counted AUC (user_auc_counted), when few movies are not candidates */
    const int32_t *noncand; /* ascending */
    size_t n_noncand;
    int counted;
    uint32_t *near;         /* n_movies per thread */
    int32_t *excl;          /* excl_len per thread */
    size_t excl_len;        /* 2 * n_movies + max_per_user */
} eval_ctx;

/* AUC of one ranked user: counted where the row has a rounding bound. */
static double row_auc(const eval_ctx *c, const rec__row_scores *rs,
                      const int32_t *rel, size_t n_rel, int tid)
{
    float *pos = c->pos + (size_t)tid * c->max_per_user;
    if (!c->counted || !rs->approx)
        return user_auc(rs, c->cands, rel, n_rel, pos);
    const rec_model *m = rs->m;
    size_t nx = c->excl_len;
    /* the excluded movies, the rated and relevant ones, the relevant */
    int32_t *excl = c->excl + (size_t)tid * nx, *tmp = excl + c->n_movies,
            *reld = tmp + c->n_movies;
    size_t np = 0;
    for (size_t i = 0; i < n_rel; i++) {
        int32_t j = rec__idmap_get(&m->movie_map, rel[i]);
        if (j >= 0) {
            reld[np] = j;
            pos[np++] = exact_score(rs, (size_t)j);
        }
    }
    if (np == 0)
        return 0.5;
    qsort(pos, np, sizeof *pos, cmp_float);
    qsort(reld, np, sizeof *reld, cmp_i32);
    /* rated (ascending, unique) + relevant, then + not candidates */
    size_t n1 = merge_unique(tmp, rs->view.rated, rs->view.n_rated, reld, np);
    size_t n2 = merge_unique(excl, tmp, n1, c->noncand, c->n_noncand);
    return user_auc_counted(rs, pos, np, excl, n2,
                            c->near + (size_t)tid * c->n_movies);
}

/* Ranking metrics of one test user (a row of the batch). */
static void rank_row(void *vc, size_t row, const rec__row_scores *rs, int tid)
{
    eval_ctx *c = vc;
    const rec_ratings *test = c->test;
    const rec_model *m = rs->m;
    size_t tu = (size_t)c->row_tu[row];
    user_metrics *um = &c->um[tu];
    int32_t *rel = c->rel + (size_t)tid * c->max_per_user;
    size_t n_rel = 0, k = (size_t)c->k;
    for (uint64_t t = test->user_off[tu]; t < test->user_off[tu + 1]; t++) {
        if (test->user_vals[t] < c->relevant_min)
            continue;
        int32_t j = rec__idmap_get(&m->movie_map,
                                   test->movie_ids[test->user_items[t]]);
        if (j >= 0)
            rel[n_rel++] = m->movie_ids[j];
    }
    if (n_rel == 0)
        return;
    qsort(rel, n_rel, sizeof *rel, cmp_i32);
    rec_scored *top = c->tops + tu * k;
    size_t got = rec__row_top_n(top, k, rs, c->cands,
                                c->cand + (size_t)tid * c->n_movies);
    double hits = 0.0, dcg = 0.0, idcg = 0.0, ap = 0.0;
    for (size_t i = 0; i < got; i++) {
        if (contains(rel, n_rel, top[i].movie_id)) {
            hits += 1.0;
            dcg += 1.0 / log2((double)i + 2.0);
            ap += hits / (double)(i + 1);
        }
    }
    size_t ideal = n_rel < k ? n_rel : k;
    for (size_t i = 0; i < ideal; i++)
        idcg += 1.0 / log2((double)i + 2.0);
    um->precision = hits / (double)k;
    um->recall = hits / (double)n_rel;
    um->ndcg = dcg / idcg;
    um->ap = ap / (double)ideal;
    um->auc = row_auc(c, rs, rel, n_rel, tid);
    um->got = got;
    um->ranked = 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Coverage and median training count of all ranked users' top-k lists. */
static rec_status list_stats(rec_eval_result *res, const rec_model *m,
                             const eval_ctx *c, size_t n_test_users)
{
    size_t k = (size_t)c->k, total = 0;
    for (size_t tu = 0; tu < n_test_users; tu++)
        total += c->um[tu].ranked ? c->um[tu].got : 0;
    unsigned char *seen = calloc(m->n_movies ? m->n_movies : 1, 1);
    uint32_t *counts = malloc((total ? total : 1) * sizeof *counts);
    if (!seen || !counts) {
        free(seen);
        free(counts);
        return REC_ENOMEM;
    }
    size_t w = 0, distinct = 0, trained = 0;
    for (size_t tu = 0; tu < n_test_users; tu++) {
        if (!c->um[tu].ranked)
            continue;
        for (size_t i = 0; i < c->um[tu].got; i++) {
            int32_t j = rec__idmap_get(&m->movie_map,
                                       c->tops[tu * k + i].movie_id);
            distinct += !seen[j];
            seen[j] = 1;
            counts[w++] = m->movie_count[j];
        }
    }
    for (size_t j = 0; j < m->n_movies; j++)
        trained += m->movie_count[j] > 0;
    res->coverage = trained ? (double)distinct / (double)trained : 0.0;
    if (w) {
        qsort(counts, w, sizeof *counts, cmp_u32);
        res->median_train_count =
            w % 2 ? counts[w / 2]
                  : 0.5 * ((double)counts[w / 2 - 1] + counts[w / 2]);
    }
    free(seen);
    free(counts);
    return REC_OK;
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
    /* The test users the model knows, as rows of the batch. */
    size_t nt = (size_t)omp_get_max_threads(), n_rows = 0;
    rec_candidates cands;
    rec_status st = rec__candidates_init(&cands, m, NULL, err);
    if (st != REC_OK)
        return st;
    eval_ctx c = {.test = test, .cands = &cands, .k = k,
                  .relevant_min = relevant_min,
                  .max_per_user = max_per_user ? max_per_user : 1,
                  .n_movies = m->n_movies ? m->n_movies : 1};
    size_t nu = test->n_users ? test->n_users : 1;
    user_metrics *um = c.um = calloc(nu, sizeof *um);
    int32_t *rows = malloc(nu * sizeof *rows);
    int32_t *row_tu = malloc(nu * sizeof *row_tu);
    c.tops = malloc(nu * (size_t)k * sizeof *c.tops);
    c.rel = malloc(nt * c.max_per_user * sizeof *c.rel);
    c.pos = malloc(nt * c.max_per_user * sizeof *c.pos);
    c.cand = malloc(nt * c.n_movies * sizeof *c.cand);
    /* The counted AUC takes the movies that are not candidates out of
       every user's count: worth it while they are few. */
    int32_t *noncand = malloc(c.n_movies * sizeof *noncand);
    for (size_t j = 0; noncand && j < m->n_movies; j++)
        if (!rec__candidate(&cands, j))
            noncand[c.n_noncand++] = (int32_t)j;
    c.noncand = noncand;
    c.counted = c.n_noncand <= m->n_movies / 4;
    c.excl_len = 2 * c.n_movies + c.max_per_user;
    if (c.counted) {
        c.near = malloc(nt * c.n_movies * sizeof *c.near);
        c.excl = malloc(nt * c.excl_len * sizeof *c.excl);
    }
    if (!um || !rows || !row_tu || !c.tops || !c.rel || !c.pos || !c.cand ||
        !noncand || (c.counted && (!c.near || !c.excl)))
        st = rec__fail(err, REC_ENOMEM, "rec_evaluate: out of memory");
    for (size_t tu = 0; st == REC_OK && tu < test->n_users; tu++) {
        int32_t u = rec__idmap_get(&m->user_map, test->user_ids[tu]);
        if (u >= 0) {
            rows[n_rows] = u;
            row_tu[n_rows++] = (int32_t)tu;
        }
    }
    c.row_tu = row_tu;
    if (st == REC_OK)
        st = rec__for_each_row(m, rows, n_rows, rank_row, &c, err);
    if (st == REC_OK && list_stats(&res, m, &c, test->n_users) != REC_OK)
        st = rec__fail(err, REC_ENOMEM, "rec_evaluate: out of memory");
    free(rows);
    free(row_tu);
    free(c.rel);
    free(c.pos);
    free(c.cand);
    free(c.tops);
    free(noncand);
    free(c.near);
    free(c.excl);
    rec__candidates_free(&cands);
    if (st != REC_OK) {
        free(um);
        return st;
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
