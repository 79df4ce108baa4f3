/*
 * weighting.c - the weight of each interaction in implicit ALS.
 *
 * A rating that counts (rec__implicit_weight) has a base weight r: 1, or
 * the rating itself with implicit_weight_by_value. With BM25 weighting
 * (Robertson's Okapi BM25, as the implicit library's bm25_weight) it
 * becomes
 *
 *   w = r * (k1 + 1) / (k1 * (1 - b + b * len_u / avg_len) + r) * idf_j,
 *   idf_j = log(n_users) - log1p(count_j)
 *
 * where len_u is the sum of the user's base weights and count_j the movie's
 * number of interactions. Popular movies and heavy raters weigh less, so the
 * preference model stops recommending the same blockbusters to everyone.
 * Everything the formula needs at fold-in (n_users, avg_len and the movie
 * counts) is kept in the model, so a new user is weighted as in training.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>

/* A floor for idf: a movie almost everybody rated still counts a little,
   and the confidence 1 + alpha * w never drops below 1. */
#define IDF_FLOOR 1e-3

void rec__weighting_from_params(rec_weighting *w, const rec_als_params *p,
                                float min_rating, int by_value)
{
    bool implicit = p->version >= 2 && p->implicit;
    w->kind = p->version < 3 ? REC_WEIGHT_NONE
              : implicit     ? p->implicit_weighting
                             : p->preference_weighting;
    w->min_rating = min_rating;
    w->by_value = by_value != 0;
    w->k1 = p->version >= 3 ? p->bm25_k1 : 0.0;
    w->b = p->version >= 3 ? p->bm25_b : 0.0;
    w->n_users = 0.0;
    w->avg_len = 0.0;
}

static inline double idf(const rec_weighting *w, uint32_t count)
{
    double v = log(w->n_users) - log1p((double)count);
    return v > IDF_FLOOR ? v : IDF_FLOOR;
}

static inline double bm25(const rec_weighting *w, double r, double len,
                          uint32_t count)
{
    double norm = w->avg_len > 0.0 ? len / w->avg_len : 1.0;
    return r * (w->k1 + 1.0) / (w->k1 * (1.0 - w->b + w->b * norm) + r) *
           idf(w, count);
}

/* Base weight of one rating (0: not an interaction). */
static inline double base(const rec_weighting *w, float rating)
{
    return rec__implicit_weight(rating, w->min_rating, w->by_value);
}

rec_status rec__weigh_dataset(float **user_w, float **movie_w,
                              uint32_t **counts_out, rec_weighting *w,
                              const rec_ratings *r, rec_error *err)
{
    *user_w = NULL;
    *movie_w = NULL;
    *counts_out = NULL;
    size_t nnz = r->nnz;
    float *uw = malloc((nnz ? nnz : 1) * sizeof *uw);
    float *mw = malloc((nnz ? nnz : 1) * sizeof *mw);
    uint32_t *cnt = calloc(r->n_movies ? r->n_movies : 1, sizeof *cnt);
    double *len = calloc(r->n_users ? r->n_users : 1, sizeof *len);
    if (!uw || !mw || !cnt || !len) {
        free(uw);
        free(mw);
        free(cnt);
        free(len);
        return rec__fail(err, REC_ENOMEM, "weighting: out of memory");
    }
    double total = 0.0;
    for (size_t u = 0; u < r->n_users; u++) {
        double s = 0.0;
        for (uint64_t t = r->user_off[u]; t < r->user_off[u + 1]; t++) {
            double b = base(w, r->user_vals[t]);
            s += b;
            cnt[r->user_items[t]] += b > 0.0;
        }
        len[u] = s;
        total += s;
    }
    w->n_users = (double)r->n_users;
    w->avg_len = r->n_users ? total / (double)r->n_users : 0.0;
    for (size_t u = 0; u < r->n_users; u++)
        for (uint64_t t = r->user_off[u]; t < r->user_off[u + 1]; t++) {
            double b = base(w, r->user_vals[t]);
            uw[t] = b <= 0.0 ? 0.0f
                    : w->kind == REC_WEIGHT_BM25
                        ? (float)bm25(w, b, len[u], cnt[r->user_items[t]])
                        : (float)b;
        }
    for (size_t j = 0; j < r->n_movies; j++)
        for (uint64_t t = r->movie_off[j]; t < r->movie_off[j + 1]; t++) {
            double b = base(w, r->movie_vals[t]);
            mw[t] = b <= 0.0 ? 0.0f
                    : w->kind == REC_WEIGHT_BM25
                        ? (float)bm25(w, b, len[r->movie_users[t]], cnt[j])
                        : (float)b;
        }
    free(len);
    *user_w = uw;
    *movie_w = mw;
    *counts_out = cnt;
    return REC_OK;
}

void rec__weigh_user(float *out, const rec_weighting *w,
                     const uint32_t *counts, const int32_t *items,
                     const float *vals, size_t n)
{
    double len = 0.0;
    for (size_t t = 0; t < n; t++)
        len += base(w, vals[t]);
    for (size_t t = 0; t < n; t++) {
        double b = base(w, vals[t]);
        out[t] = b <= 0.0 ? 0.0f
                 : w->kind == REC_WEIGHT_BM25
                     ? (float)bm25(w, b, len, counts[items[t]])
                     : (float)b;
    }
}

void rec__weighting_none(rec_weighting *w, float min_rating, int by_value)
{
    w->kind = REC_WEIGHT_NONE;
    w->min_rating = min_rating;
    w->by_value = by_value != 0;
    w->k1 = w->b = w->n_users = w->avg_len = 0.0;
}
