/*
 * recommend.c - serving: predict, top-N, fold-in, similar movies.
 *
 * Top-N scores every movie (one dot product each, factors contiguous) and
 * keeps the best n in a small heap built inside the caller's buffer, so it
 * needs no allocation and no full sort. Scores are unclamped predicted
 * ratings, so ranking keeps its resolution above the rating range; ties go
 * to the lower movie id (dense indices follow ascending movie ids).
 */
#include "internal.h"
#include "topn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Dot product with eight partial sums (internal.h). */
static inline float dotf(const float *a, const float *b, int k)
{
    return rec__dotf(a, b, k);
}

static void score_block(float *out, const rec_model *m, const float *x,
                        size_t j0, size_t j1)
{
    rec__score_rows(out, m->movie_factors, m->rank, x, j0, j1);
}

/* The rating model's unclamped prediction of dense movie j for a user
   vector x with bias. */
static float rating_score(const rec_model *m, const float *x, float bias,
                          size_t j)
{
    float d = 0.0f; /* always written: j < j + 1 */
    score_block(&d, m, x, j, j + 1);
    return m->global_mean + bias + m->movie_bias[j] + d;
}

/* The preference model's score of dense movie j for preference vector p. */
static float pref_score(const rec_model *m, const float *p, size_t j)
{
    float s = 0.0f;
    rec__score_rows(&s, m->pref_movie, m->pref_rank, p, j, j + 1);
    return s;
}

static float with_rating_pref(const rec_model *m, float s, float ps)
{
    return s + (float)(m->rating_pref_weight * ps + m->rating_pref_shift);
}

/* Unclamped predicted rating of dense movie j for a user vector x with
   bias and preference vector p (NULL: none) (rec_predict, and the rating
   shown beside a result). */
static float raw_score(const rec_model *m, const float *x, float bias,
                      const float *p, size_t j)
{
    float s = rating_score(m, x, bias, j);
    if (!p || !rec__model_has_rating_pref(m))
        return s;
    return with_rating_pref(m, s, pref_score(m, p, j));
}

float rec__score_one(const rec_model *m, const float *v, float c, size_t j)
{
    float d = 0.0f;
    rec__score_rows(&d, m->rank_movie, m->rank_dim, v, j, j + 1);
    return d + c;
}

float rec__clamp_rating(const rec_model *m, float s)
{
    if (m->rating_max > m->rating_min) {
        if (s < m->rating_min)
            s = m->rating_min;
        if (s > m->rating_max)
            s = m->rating_max;
    }
    return s;
}

rec_status rec_predict(float *out, const rec_model *m, int32_t user_id,
                       int32_t movie_id, rec_error *err)
{
    if (!out || !m)
        return rec__fail(err, REC_EINVAL, "rec_predict: NULL argument");
    /* the preference score only when the term uses it */
    bool term = rec__model_has_rating_pref(m);
    float ps, s = rec__predict_parts(m, user_id, movie_id, term ? &ps : NULL);
    if (term && !isnan(ps))
        s = with_rating_pref(m, s, ps);
    *out = m->implicit ? s : rec__clamp_rating(m, s); /* implicit: preference */
    return REC_OK;
}

float rec__predict_parts(const rec_model *m, int32_t user_id,
                         int32_t movie_id, float *pref)
{
    int32_t u = rec__idmap_get(&m->user_map, user_id);
    int32_t j = rec__idmap_get(&m->movie_map, movie_id);
    if (pref)
        *pref = NAN;
    if (u < 0 || j < 0)
        return m->global_mean + (u >= 0 ? m->user_bias[u] : 0.0f) +
               (j >= 0 ? m->movie_bias[j] : 0.0f);
    if (pref && m->pref_rank && !m->implicit)
        *pref = pref_score(m, m->pref_user + (size_t)u * m->pref_rank,
                           (size_t)j);
    return rating_score(m, m->user_factors + (size_t)u * m->rank,
                        m->user_bias[u], (size_t)j);
}

/* ---- ranking ---- */

float rec__shown_rating(const rec_model *m, const rec_user_view *u, size_t j)
{
    if (m->implicit) /* no rating model: the movie's mean */
        return rec__clamp_rating(m, m->movie_count[j] ? m->movie_mean[j]
                                                 : m->data_mean);
    return rec__clamp_rating(m, raw_score(m, u->x, u->bias, u->p, j));
}

void rec__user_view(rec_user_view *v, const rec_model *m, size_t u)
{
    v->x = m->user_factors + u * (size_t)m->rank;
    v->bias = m->user_bias[u];
    v->p = m->pref_rank ? m->pref_user + u * (size_t)m->pref_rank : NULL;
    const float *vals;
    rec__model_user_rated(m, u, &v->rated, &vals, &v->n_rated);
}

static bool all_zero(const float *x, int k)
{
    for (int f = 0; f < k; f++)
        if (x[f] != 0.0f)
            return false;
    return true;
}

/* No ratings the model can use: nothing personal to rank by. */
static bool cold(const rec_model *m, const rec_user_view *u)
{
    if (u->n_rated == 0)
        return true;
    return m->implicit && all_zero(u->x, m->rank); /* no interaction */
}

/* The cold-start score of dense movie j: its Bayesian average rating. */
static float cold_score(const rec_model *m, size_t j)
{
    double c = m->movie_count[j];
    return (float)((m->cold_prior * (double)m->data_mean +
                    c * (double)m->movie_mean[j]) /
                   (m->cold_prior + c));
}

#define RANK_BLOCK 256

rec_status rec__rank(rec_scored *out, size_t n, size_t *n_out,
                     const rec_model *m, const rec_user_view *u,
                     const rec_candidates *cand, rec_error *err)
{
    if (!n_out || !m || !u || (!out && n > 0) || (!u->rated && u->n_rated))
        return rec__fail(err, REC_EINVAL, "top-n: NULL argument");
    bool is_cold = cold(m, u);
    float vbuf[256], *v = vbuf, c = 0.0f;
    if (!is_cold) {
        if (m->rank_dim > 256 &&
            !(v = malloc((size_t)m->rank_dim * sizeof *v)))
            return rec__fail(err, REC_ENOMEM, "top-n: out of memory");
        rec__user_rank_vec(v, &c, m, u->x, u->bias, u->p);
    }
    size_t size = 0, e = 0;
    float dots[RANK_BLOCK];
    for (size_t j0 = 0; j0 < m->n_movies; j0 += RANK_BLOCK) {
        size_t j1 = m->n_movies - j0 < RANK_BLOCK ? m->n_movies
                                                  : j0 + RANK_BLOCK;
        if (!is_cold)
            rec__score_rows(dots, m->rank_movie, m->rank_dim, v, j0, j1);
        for (size_t j = j0; j < j1; j++) {
            if (!rec__candidate(cand, j))
                continue;
            if (!cand->include_rated) {
                while (e < u->n_rated && (size_t)u->rated[e] < j)
                    e++;
                if (e < u->n_rated && (size_t)u->rated[e] == j)
                    continue;
            }
            rec__heap_offer(out, &size, n, (int32_t)j,
                            is_cold ? cold_score(m, j) : dots[j - j0] + c);
        }
    }
    if (v != vbuf)
        free(v);
    rec__heap_finish(out, size, NULL);
    for (size_t i = 0; i < size; i++) { /* dense index -> id and rating */
        size_t j = (size_t)out[i].movie_id;
        out[i].rating = rec__shown_rating(m, u, j);
        out[i].movie_id = m->movie_ids[j];
    }
    *n_out = size;
    return REC_OK;
}

rec_status rec_top_n_ex(rec_scored *out, size_t n, size_t *n_out,
                        const rec_model *m, int32_t user_id,
                        const rec_top_n_options *opts, rec_error *err)
{
    if (!n_out || !m || (!out && n > 0))
        return rec__fail(err, REC_EINVAL, "rec_top_n: NULL argument");
    int32_t u = rec__idmap_get(&m->user_map, user_id);
    if (u < 0)
        return rec__fail(err, REC_ENOTFOUND, "unknown user id %ld",
                         (long)user_id);
    rec_candidates cand;
    rec_status st = rec__candidates_init(&cand, m, opts, err);
    if (st != REC_OK)
        return st;
    rec_user_view v;
    rec__user_view(&v, m, (size_t)u);
    st = rec__rank(out, n, n_out, m, &v, &cand, err);
    rec__candidates_free(&cand);
    return st;
}

rec_status rec_top_n(rec_scored *out, size_t n, size_t *n_out,
                     const rec_model *m, int32_t user_id, rec_error *err)
{
    return rec_top_n_ex(out, n, n_out, m, user_id, NULL, err);
}

/* ---- ratings given at the API -> sorted dense (index, value) arrays ---- */

typedef struct keyed {
    int32_t idx;
    uint32_t pad;
    size_t pos;
    float val;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->idx != y->idx)
        return x->idx < y->idx ? -1 : 1;
    return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

/* Keep ratings of known movies, check they are within the limits (even for
   movies the model does not know), sort by dense index
   and keep the last of duplicates. The arrays are malloc'd (n >= 1). */
rec_status rec__prepare_ratings(int32_t **items, float **vals,
                                size_t *n_out, const rec_model *m,
                                const rec_movie_rating *r, size_t n,
                                rec_error *err)
{
    *items = NULL;
    *vals = NULL;
    *n_out = 0;
    if (!r && n > 0)
        return rec__fail(err, REC_EINVAL, "ratings: NULL with n > 0");
    for (size_t i = 0; i < n; i++)
        if (!rec__rating_ok(r[i].rating))
            return rec__fail(err, REC_EINVAL,
                             "rating %zu (movie %ld): %g is not finite or "
                             "beyond +-%g (REC_MAX_RATING)",
                             i, (long)r[i].movie_id, (double)r[i].rating,
                             REC_MAX_RATING);
    keyed *tmp = malloc((n ? n : 1) * sizeof *tmp);
    *items = malloc((n ? n : 1) * sizeof **items);
    *vals = malloc((n ? n : 1) * sizeof **vals);
    if (!tmp || !*items || !*vals) {
        free(tmp);
        free(*items);
        free(*vals);
        *items = NULL;
        *vals = NULL;
        return rec__fail(err, REC_ENOMEM, "ratings: out of memory");
    }
    size_t c = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t j = rec__idmap_get(&m->movie_map, r[i].movie_id);
        if (j < 0)
            continue; /* unknown to the model: ignored */
        tmp[c].idx = j;
        tmp[c].pad = 0;
        tmp[c].pos = i;
        tmp[c].val = r[i].rating;
        c++;
    }
    qsort(tmp, c, sizeof *tmp, cmp_keyed);
    size_t w = 0;
    for (size_t i = 0; i < c; i++) {
        if (i + 1 < c && tmp[i + 1].idx == tmp[i].idx)
            continue; /* a later duplicate wins */
        (*items)[w] = tmp[i].idx;
        (*vals)[w] = tmp[i].val;
        w++;
    }
    free(tmp);
    *n_out = w;
    return REC_OK;
}

/* The implicit solve of a user's preference vector (k floats) against the
   movie factors Y of a model's implicit part. */
static rec_status implicit_foldin(float *x, const rec_model *m, int k,
                                  const float *Y, const double *yty,
                                  double lambda, double alpha,
                                  const int32_t *items, const float *vals,
                                  size_t n, rec_error *err)
{
    float *w = malloc((n ? n : 1) * sizeof *w);
    if (!w)
        return rec__fail(err, REC_ENOMEM, "fold-in: out of memory");
    rec__weigh_user(w, &m->weighting, m->interactions, items, vals, n);
    rec_status st = rec__implicit_solve(x, k, Y, yty, lambda, alpha,
                                        rec__conf_base(!m->implicit &&
                                                       m->pref_scaled),
                                        items,
                                        w, n, err);
    free(w);
    return st;
}

/* Fold in (items, vals): the rating-model factors x (rank floats) and
   bias, and the preference factors p (pref_rank floats, hybrid only). */
static rec_status foldin(float *x, float *bias, float *p, const rec_model *m,
                         const int32_t *items, const float *vals, size_t n,
                         rec_error *err)
{
    if (m->implicit) { /* confidence-weighted, no bias */
        *bias = 0.0f;
        return implicit_foldin(x, m, m->rank, m->movie_factors, m->yty,
                               m->reg, m->alpha, items, vals, n, err);
    }
    double *scratch = malloc(rec__foldin_scratch(m->rank) * sizeof *scratch);
    if (!scratch)
        return rec__fail(err, REC_ENOMEM, "fold-in: out of memory");
    int failed = rec__foldin(x, bias, m, items, vals, n, scratch);
    free(scratch);
    if (failed)
        return rec__fail(err, REC_ELAPACK,
                         "fold-in: the user's normal equations could not be "
                         "solved (factors beyond REC_MAX_FACTOR)");
    if (!m->pref_rank)
        return REC_OK;
    return implicit_foldin(p, m, m->pref_rank, m->pref_movie, m->pref_yty,
                           m->pref_reg, m->pref_alpha, items, vals, n, err);
}

/* A user's factors, solved from their ratings (one allocation). */
typedef struct folded {
    float *x, *p;
    float bias;
    int32_t *items;
    float *vals;
    size_t n;
} folded;

static void folded_free(folded *f)
{
    free(f->x);
    free(f->items);
    free(f->vals);
}

static rec_status fold(folded *f, const rec_model *m,
                       const rec_movie_rating *ratings, size_t n_ratings,
                       rec_error *err)
{
    memset(f, 0, sizeof *f);
    rec_status st = rec__prepare_ratings(&f->items, &f->vals, &f->n, m,
                                         ratings, n_ratings, err);
    if (st != REC_OK)
        return st;
    f->x = calloc((size_t)m->rank + (size_t)m->pref_rank, sizeof *f->x);
    if (!f->x) {
        folded_free(f);
        return rec__fail(err, REC_ENOMEM, "fold-in: out of memory");
    }
    f->p = m->pref_rank ? f->x + m->rank : NULL;
    st = foldin(f->x, &f->bias, f->p, m, f->items, f->vals, f->n, err);
    if (st != REC_OK)
        folded_free(f);
    return st;
}

rec_status rec_recommend_for_ratings_ex(rec_scored *out, size_t n,
                                        size_t *n_out, const rec_model *m,
                                        const rec_movie_rating *ratings,
                                        size_t n_ratings,
                                        const rec_top_n_options *opts,
                                        rec_error *err)
{
    if (!n_out || !m || (!out && n > 0))
        return rec__fail(err, REC_EINVAL,
                         "rec_recommend_for_ratings: NULL argument");
    rec_candidates cand;
    rec_status st = rec__candidates_init(&cand, m, opts, err);
    if (st != REC_OK)
        return st;
    folded f;
    st = fold(&f, m, ratings, n_ratings, err);
    if (st == REC_OK) {
        rec_user_view v = {.x = f.x, .bias = f.bias, .p = f.p,
                           .rated = f.items, .n_rated = f.n};
        st = rec__rank(out, n, n_out, m, &v, &cand, err);
        folded_free(&f);
    }
    rec__candidates_free(&cand);
    return st;
}

rec_status rec_recommend_for_ratings(rec_scored *out, size_t n, size_t *n_out,
                                     const rec_model *m,
                                     const rec_movie_rating *ratings,
                                     size_t n_ratings, rec_error *err)
{
    return rec_recommend_for_ratings_ex(out, n, n_out, m, ratings, n_ratings,
                                        NULL, err);
}

/* ---- rec_add_user ---- */

static rec_status grow_users(rec_model *m, size_t need)
{
    if (need <= m->users_cap)
        return REC_OK;
    size_t cap = m->users_cap ? m->users_cap : 8;
    while (cap < need)
        cap *= 2;
    size_t k = (size_t)m->rank;
    float *f = realloc(m->user_factors, cap * k * sizeof *f);
    if (!f)
        return REC_ENOMEM;
    m->user_factors = f;
    float *b = realloc(m->user_bias, cap * sizeof *b);
    if (!b)
        return REC_ENOMEM;
    m->user_bias = b;
    int32_t *ids = realloc(m->user_ids, cap * sizeof *ids);
    if (!ids)
        return REC_ENOMEM;
    m->user_ids = ids;
    if (m->pref_rank) {
        float *pf = realloc(m->pref_user,
                            cap * (size_t)m->pref_rank * sizeof *pf);
        if (!pf)
            return REC_ENOMEM;
        m->pref_user = pf;
    }
    if (m->overrides) {
        rec_user_ratings *ov = realloc(m->overrides, cap * sizeof *ov);
        if (!ov)
            return REC_ENOMEM;
        memset(ov + m->users_cap, 0, (cap - m->users_cap) * sizeof *ov);
        m->overrides = ov;
    }
    m->users_cap = cap;
    return REC_OK;
}

/* Merge old (ascending) with new (ascending, deduplicated): new values
   replace old ones for the same movie. Results are malloc'd. */
static rec_status merge(int32_t **items_out, float **vals_out, size_t *n_out,
                        const int32_t *oi, const float *ov, size_t on,
                        const int32_t *ni, const float *nv, size_t nn)
{
    int32_t *items = malloc((on + nn ? on + nn : 1) * sizeof *items);
    float *vals = malloc((on + nn ? on + nn : 1) * sizeof *vals);
    if (!items || !vals) {
        free(items);
        free(vals);
        return REC_ENOMEM;
    }
    size_t a = 0, b = 0, w = 0;
    while (a < on || b < nn) {
        if (b >= nn || (a < on && oi[a] < ni[b])) {
            items[w] = oi[a];
            vals[w++] = ov[a++];
        } else {
            if (a < on && oi[a] == ni[b])
                a++; /* re-rated: the new value replaces it */
            items[w] = ni[b];
            vals[w++] = nv[b++];
        }
    }
    *items_out = items;
    *vals_out = vals;
    *n_out = w;
    return REC_OK;
}

static rec_status fresh_user_id(int32_t *id, rec_model *m, rec_error *err)
{
    /* One scan when the maximum is not known: after rec_remove_user or a
       model file with added users, the trained ids are no longer in
       ascending order. Otherwise the cached maximum makes this O(1). */
    if (!m->max_user_id_known) {
        int64_t best = -1;
        for (size_t u = 0; u < m->n_users; u++)
            if (m->user_ids[u] > best)
                best = m->user_ids[u];
        m->max_user_id = best;
        m->max_user_id_known = true;
    }
    if (m->max_user_id >= INT32_MAX)
        return rec__fail(err, REC_EINVAL, "no user id left after %ld",
                         (long)m->max_user_id);
    *id = (int32_t)(m->max_user_id + 1);
    return REC_OK;
}

rec_status rec_add_user(int32_t *user_id_out, rec_model *m, int32_t user_id,
                        const rec_movie_rating *ratings, size_t n,
                        rec_error *err)
{
    if (!m)
        return rec__fail(err, REC_EINVAL, "rec_add_user: NULL model");
    if (user_id < 0 && user_id != REC_NEW_USER)
        return rec__fail(err, REC_EINVAL, "bad user id %ld", (long)user_id);
    int32_t id = user_id;
    rec_status st = REC_OK;
    if (id == REC_NEW_USER && (st = fresh_user_id(&id, m, err)) != REC_OK)
        return st;
    int32_t u = rec__idmap_get(&m->user_map, id);

    int32_t *ni, *items = NULL;
    float *nv, *vals = NULL;
    size_t nn, cnt = 0;
    st = rec__prepare_ratings(&ni, &nv, &nn, m, ratings, n, err);
    if (st != REC_OK)
        return st;
    if (u >= 0) {
        const int32_t *oi;
        const float *ov;
        size_t on;
        rec__model_user_rated(m, (size_t)u, &oi, &ov, &on);
        st = merge(&items, &vals, &cnt, oi, ov, on, ni, nv, nn);
        free(ni);
        free(nv);
    } else {
        items = ni;
        vals = nv;
        cnt = nn;
    }
    float *x = calloc((size_t)m->rank + (size_t)m->pref_rank, sizeof *x);
    float bias = 0.0f;
    if (st == REC_OK && !x)
        st = REC_ENOMEM;
    if (st != REC_OK) {
        st = rec__fail(err, st, "rec_add_user: out of memory");
        goto fail;
    }
    if ((st = foldin(x, &bias, x + m->rank, m, items, vals, cnt, err)) !=
        REC_OK)
        goto fail;

    /* Growing capacity is harmless on a later failure. */
    size_t du = u >= 0 ? (size_t)u : m->n_users;
    if (grow_users(m, du + 1) != REC_OK)
        goto nomem;
    if (!m->overrides) {
        m->overrides = calloc(m->users_cap, sizeof *m->overrides);
        if (!m->overrides)
            goto nomem;
    }
    if (u < 0 && (rec__idmap_reserve(&m->user_map, m->n_users + 1) != REC_OK ||
                  rec__idmap_put(&m->user_map, id, (int32_t)du) != REC_OK))
        goto nomem;

    /* Commit. */
    rec_user_ratings *o = &m->overrides[du];
    free(o->items);
    free(o->vals);
    o->items = items;
    o->vals = vals;
    o->n = cnt;
    o->used = true;
    memcpy(m->user_factors + du * (size_t)m->rank, x,
           (size_t)m->rank * sizeof *x);
    if (m->pref_rank)
        memcpy(m->pref_user + du * (size_t)m->pref_rank, x + m->rank,
               (size_t)m->pref_rank * sizeof *x);
    m->user_bias[du] = bias;
    if (u < 0) {
        m->user_ids[du] = id;
        m->n_users++;
        if (m->max_user_id_known && id > m->max_user_id)
            m->max_user_id = id;
    }
    free(x);
    if (user_id_out)
        *user_id_out = id;
    return REC_OK;

nomem:
    st = rec__fail(err, REC_ENOMEM, "rec_add_user: out of memory");
fail:
    free(x);
    free(items);
    free(vals);
    return st;
}

/* ---- similar movies ---- */

/* Cosine of movie factors: the preference model's where there is one
   (movies the same people chose), else the rating model's; the cosines of
   a block of movies by one kernel (rec__cosine_rows). */
rec_status rec_similar_movies_ex(rec_scored *out, size_t n, size_t *n_out,
                                 const rec_model *m, int32_t movie_id,
                                 const rec_top_n_options *opts,
                                 rec_error *err)
{
    if (!n_out || !m || (!out && n > 0))
        return rec__fail(err, REC_EINVAL, "rec_similar_movies: NULL argument");
    int32_t j0 = rec__idmap_get(&m->movie_map, movie_id);
    if (j0 < 0)
        return rec__fail(err, REC_ENOTFOUND, "unknown movie id %ld",
                         (long)movie_id);
    rec_candidates cand;
    rec_status st = rec__candidates_init(&cand, m, opts, err);
    if (st != REC_OK)
        return st;
    int k = m->pref_rank ? m->pref_rank : m->rank;
    const float *Y = m->pref_rank ? m->pref_movie : m->movie_factors;
    const float *y0 = Y + (size_t)j0 * k;
    float n0 = sqrtf(dotf(y0, y0, k));
    size_t size = 0;
    float cosines[RANK_BLOCK];
    for (size_t b0 = 0; b0 < m->n_movies; b0 += RANK_BLOCK) {
        size_t b1 = m->n_movies - b0 < RANK_BLOCK ? m->n_movies
                                                  : b0 + RANK_BLOCK;
        rec__cosine_rows(cosines, Y, k, y0, n0, b0, b1);
        for (size_t j = b0; j < b1; j++)
            if (j != (size_t)j0 && rec__candidate(&cand, j))
                rec__heap_offer(out, &size, n, (int32_t)j, cosines[j - b0]);
    }
    rec__candidates_free(&cand);
    rec__heap_finish(out, size, NULL);
    rec_user_view none = {0};
    float zero[1] = {0};
    none.x = zero; /* unused: the baseline needs no user */
    for (size_t i = 0; i < size; i++) {
        size_t j = (size_t)out[i].movie_id;
        out[i].rating = m->implicit ? rec__shown_rating(m, &none, j)
                                    : rec__clamp_rating(m, m->global_mean +
                                                          m->movie_bias[j]);
        out[i].movie_id = m->movie_ids[j];
    }
    *n_out = size;
    return REC_OK;
}

rec_status rec_similar_movies(rec_scored *out, size_t n, size_t *n_out,
                              const rec_model *m, int32_t movie_id,
                              rec_error *err)
{
    return rec_similar_movies_ex(out, n, n_out, m, movie_id, NULL, err);
}
