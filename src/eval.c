/*
 * eval.c - accuracy (RMSE, MAE) and ranking quality (precision, recall,
 * nDCG and MAP at k) of a model on held-out ratings.
 *
 * Ranking: each test user known to the model with at least one relevant
 * test movie (rating >= relevant_min, movie known to the model) gets the
 * top k of the default candidates they did not rate in training (as
 * rec_top_n: movies with a training rating), which are compared with the
 * relevant set; the AUC's other movies are those candidates too. Ranking goes through the batch path
 * (recommend_batch.c: SGEMM tiles, exact top k, cold users as rec_top_n);
 * the AUC counts the pairs of each tile of approximate scores at once
 * (rec__auc_count) and decides exactly only where a relevant score lies
 * within the rounding bound, so it equals the exact computation. Per-user
 * results are summed in user order: no dependence on the thread count.
 * Calls flow one way: popularity (eval_rank.c) ->
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

/* The exact ranking score (the user's vector, cold users too). */
static float exact_score(const rec__row_scores *rs, size_t j)
{
    float s = rec__score_one(rs->m, rs->v, rs->c, j);
    return s == s ? s : -INFINITY; /* NaN ranks last, as in top-n */
}

/* AUC of one user, every pair scored exactly: the share of (relevant,
   other) pairs in the right order, ties half; "other" is every candidate
   the user did not rate that is not relevant. `rel` are ascending
   external movie ids; `pos` room for n_rel floats. For the rows without a
   rounding bound (cold start, non-finite scores). */
static double user_auc_exact(const rec__row_scores *rs,
                             const rec_candidates *cand, const int32_t *rel,
                             size_t n_rel, float *pos)
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
    double right = 0.0;
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
        float s = exact_score(rs, j);
        size_t gt = bound(pos, np, s, 0), ge = bound(pos, np, s, 1);
        right += (double)(np - gt) + 0.5 * (double)(gt - ge);
    }
    return n_neg ? right / ((double)np * (double)n_neg) : 1.0;
}

typedef struct user_metrics {
    double precision, recall, ndcg, ap, auc;
    int ranked;
    size_t got; /* entries of its top k (eval_ctx.tops) */
} user_metrics;

/* A row's state between its tiles. The AUC by counting: the kernel
   (rec__auc_count) counts the pairs of all the tile's movies on their
   approximate scores wherever no relevant score is within twice the
   rounding bound; the tile's movies that are no "other" (rated, relevant,
   not candidates) are taken out again with the kernel's very float test;
   the near ones are decided on their exact score. Counts of pairs and half
   pairs are exact in double, so the result equals user_auc_exact's. */
typedef struct row_state {
    size_t n_rel;        /* relevant movies; 0: the user is not ranked */
    rec__sel sel;        /* the top k */
    size_t er, ep, en;   /* walks of rated, relevant, not candidates */
    size_t n_excl;       /* movies that are no "other", so far */
    uint64_t right;      /* pairs decided on approximate scores */
    double exact;        /* pairs of near movies, decided exactly */
    float w;             /* twice the margin, rounded up */
} row_state;

typedef struct eval_ctx {
    const rec_ratings *test;
    const rec_candidates *cands; /* the defaults, as rec_top_n */
    const int32_t *row_tu;  /* row -> test user */
    user_metrics *um;       /* per test user */
    rec_scored *tops;       /* k per test user */
    int k;
    float relevant_min;
    size_t rows, cap, max_per_user, tile;
    row_state *st;          /* rows per thread */
    rec__near *near;        /* rows * cap per thread */
    int32_t *rel, *reld;    /* rows * max_per_user per thread */
    float *pos;             /* rows * max_per_user per thread */
    const int32_t *noncand; /* ascending */
    size_t n_noncand;
    uint32_t *near_t;       /* tile per thread: near movies of a tile */
    int32_t *excl_t;        /* tile per thread: excluded movies of a tile */
} eval_ctx;

static size_t slot_of(const eval_ctx *c, size_t slot, int tid)
{
    return (size_t)tid * c->rows + slot;
}

static void eval_begin(void *vc, size_t row, size_t slot,
                       const rec__row_scores *rs, int tid)
{
    eval_ctx *c = vc;
    const rec_ratings *test = c->test;
    const rec_model *m = rs->m;
    size_t tu = (size_t)c->row_tu[row], q = slot_of(c, slot, tid);
    row_state *st = &c->st[q];
    int32_t *rel = c->rel + q * c->max_per_user;
    int32_t *reld = c->reld + q * c->max_per_user;
    float *pos = c->pos + q * c->max_per_user;
    memset(st, 0, sizeof *st);
    size_t n_rel = 0;
    for (uint64_t t = test->user_off[tu]; t < test->user_off[tu + 1]; t++) {
        if (test->user_vals[t] < c->relevant_min)
            continue;
        int32_t j = rec__idmap_get(&m->movie_map,
                                   test->movie_ids[test->user_items[t]]);
        if (j >= 0)
            rel[n_rel++] = m->movie_ids[j];
    }
    st->n_rel = n_rel;
    if (n_rel == 0)
        return;
    qsort(rel, n_rel, sizeof *rel, cmp_i32);
    rec__sel_start(&st->sel, c->tops + tu * (size_t)c->k, (size_t)c->k,
                   c->near + q * c->cap, c->cap);
    if (!rs->bounded)
        return;
    for (size_t i = 0; i < n_rel; i++) {
        reld[i] = rec__idmap_get(&m->movie_map, rel[i]);
        pos[i] = exact_score(rs, (size_t)reld[i]);
    }
    qsort(pos, n_rel, sizeof *pos, cmp_float);
    qsort(reld, n_rel, sizeof *reld, cmp_i32);
    double w = 2.0 * rs->margin;
    st->w = (float)w; /* rounded up: the test may only get wider */
    if ((double)st->w < w)
        st->w = nextafterf(st->w, INFINITY);
}

/* The next movie below `end` of ascending list[*i..n), skipping repeats,
   or INT32_MAX. */
static int32_t head_below(const int32_t *list, size_t n, size_t i, size_t end)
{
    return i < n && (size_t)list[i] < end ? list[i] : INT32_MAX;
}

static void eval_tile(void *vc, size_t row, size_t slot,
                      const rec__row_scores *rs, size_t j0, size_t j1,
                      int tid)
{
    (void)row;
    eval_ctx *c = vc;
    size_t q = slot_of(c, slot, tid);
    row_state *st = &c->st[q];
    if (st->n_rel == 0)
        return;
    rec__sel_tile(&st->sel, rs, c->cands, j0, j1);
    const float *pos = c->pos + q * c->max_per_user;
    const int32_t *reld = c->reld + q * c->max_per_user;
    size_t np = st->n_rel, nn = 0, nx = 0;
    uint32_t *near = c->near_t + (size_t)tid * c->tile;
    int32_t *excl = c->excl_t + (size_t)tid * c->tile;
    st->right += rec__auc_count(rs->approx, j1 - j0, pos, np, st->w, near,
                                &nn);
    /* the tile's excluded movies: rated, relevant, not candidates */
    const rec_user_view *u = &rs->view;
    for (;;) {
        int32_t v = head_below(u->rated, u->n_rated, st->er, j1);
        int32_t b = head_below(reld, np, st->ep, j1);
        int32_t d = head_below(c->noncand, c->n_noncand, st->en, j1);
        v = b < v ? b : v;
        v = d < v ? d : v;
        if (v == INT32_MAX)
            break;
        while (st->er < u->n_rated && u->rated[st->er] == v)
            st->er++;
        while (st->ep < np && reld[st->ep] == v)
            st->ep++;
        while (st->en < c->n_noncand && c->noncand[st->en] == v)
            st->en++;
        excl[nx++] = v;
        float a = rs->approx[(size_t)v - j0], hi = a + st->w,
              lo = a - st->w;
        size_t g = bound(pos, np, hi, 0);
        if (!(g > 0 && pos[g - 1] >= lo)) /* counted by the kernel */
            st->right -= np - g;
    }
    st->n_excl += nx;
    for (size_t i = 0, e = 0; i < nn; i++) {
        size_t j = j0 + near[i];
        while (e < nx && (size_t)excl[e] < j)
            e++;
        if (e < nx && (size_t)excl[e] == j)
            continue;
        float sc = exact_score(rs, j);
        size_t gt = bound(pos, np, sc, 0), ge = bound(pos, np, sc, 1);
        st->exact += (double)(np - gt) + 0.5 * (double)(gt - ge);
    }
}

/* Ranking metrics of one test user (a row of the batch). */
static void eval_end(void *vc, size_t row, size_t slot,
                     const rec__row_scores *rs, int tid)
{
    eval_ctx *c = vc;
    size_t q = slot_of(c, slot, tid);
    row_state *st = &c->st[q];
    size_t n_rel = st->n_rel, k = (size_t)c->k;
    if (n_rel == 0)
        return;
    size_t tu = (size_t)c->row_tu[row];
    user_metrics *um = &c->um[tu];
    const int32_t *rel = c->rel + q * c->max_per_user;
    rec_scored *top = st->sel.out;
    size_t got = rec__sel_finish(&st->sel, rs, c->cands);
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
    if (rs->bounded) {
        size_t n_neg = rs->m->n_movies - st->n_excl;
        um->auc = n_neg ? ((double)st->right + st->exact) /
                              ((double)n_rel * (double)n_neg)
                        : 1.0;
    } else {
        um->auc = user_auc_exact(rs, c->cands, rel, n_rel,
                                 c->pos + q * c->max_per_user);
    }
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
                  .cap = rec__sel_cap((size_t)k),
                  .tile = rec__tile_movies(m)};
    /* rows per block: the selections' lists and the relevant movies of a
       thread's rows within a few MB */
    c.rows = rec__tile_rows((size_t)k);
    size_t per_row = c.max_per_user * 12;
    if (c.rows * per_row > ((size_t)4 << 20))
        c.rows = ((size_t)4 << 20) / per_row ? ((size_t)4 << 20) / per_row : 1;
    size_t slots = nt * c.rows;
    size_t nu = test->n_users ? test->n_users : 1;
    user_metrics *um = c.um = calloc(nu, sizeof *um);
    int32_t *rows = malloc(nu * sizeof *rows);
    int32_t *row_tu = malloc(nu * sizeof *row_tu);
    c.tops = malloc(nu * (size_t)k * sizeof *c.tops);
    c.st = malloc(slots * sizeof *c.st);
    c.near = malloc(slots * c.cap * sizeof *c.near);
    c.rel = malloc(slots * c.max_per_user * sizeof *c.rel);
    c.reld = malloc(slots * c.max_per_user * sizeof *c.reld);
    c.pos = malloc(slots * c.max_per_user * sizeof *c.pos);
    c.near_t = malloc(nt * c.tile * sizeof *c.near_t);
    c.excl_t = malloc(nt * c.tile * sizeof *c.excl_t);
    /* the movies that are no candidate (with the defaults: no training
       rating), taken out of every user's AUC count */
    int32_t *noncand = malloc((m->n_movies ? m->n_movies : 1) *
                              sizeof *noncand);
    for (size_t j = 0; noncand && j < m->n_movies; j++)
        if (!rec__candidate(&cands, j))
            noncand[c.n_noncand++] = (int32_t)j;
    c.noncand = noncand;
    if (!um || !rows || !row_tu || !c.tops || !c.st || !c.near || !c.rel ||
        !c.reld || !c.pos || !c.near_t || !c.excl_t || !noncand)
        st = rec__fail(err, REC_ENOMEM, "rec_evaluate: out of memory");
    for (size_t tu = 0; st == REC_OK && tu < test->n_users; tu++) {
        int32_t u = rec__idmap_get(&m->user_map, test->user_ids[tu]);
        if (u >= 0) {
            rows[n_rows] = u;
            row_tu[n_rows++] = (int32_t)tu;
        }
    }
    c.row_tu = row_tu;
    static const rec__tile_fns fns = {eval_begin, eval_tile, eval_end};
    if (st == REC_OK)
        st = rec__for_each_tile(m, rows, n_rows, c.rows, &fns, &c, err);
    if (st == REC_OK && list_stats(&res, m, &c, test->n_users) != REC_OK)
        st = rec__fail(err, REC_ENOMEM, "rec_evaluate: out of memory");
    free(rows);
    free(row_tu);
    free(c.tops);
    free(c.st);
    free(c.near);
    free(c.rel);
    free(c.reld);
    free(c.pos);
    free(c.near_t);
    free(c.excl_t);
    free(noncand);
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
