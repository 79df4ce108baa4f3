/*
 * explain.c - why a movie is recommended: its ranking score decomposed over
 * the movies the user rated.
 *
 * With the movie side fixed, a user's factors are a linear function of
 * their ratings, so each score is a sum over those ratings:
 *  - preference (Hu, Koren and Volinsky 2008, section 5): with
 *    W = (Y^T C Y + lambda I)^-1, p_uj = sum_l c_l (y_j^T W y_l), so rated
 *    movie l contributes c_l y_l . z with z = W y_j (one solve);
 *  - rating model: [x_u, b_u] = A^-1 sum_l z_l t_l with z_l = [y_l, 1] and
 *    t_l = r_l - mu - b_l (the normal equations of rec__solve_row), so the
 *    personal part x_u . y_j + b_u gets t_l z_l . (A^-1 [y_j, 1]) from l.
 * The ranking score adds them as the model ranks (rec__user_rank_vec):
 * hybrid = preference + blend * (s_j x_u . y_j + b_u) (s_j the movie's
 * support damping), explicit-only = mu + b_j + personal, implicit =
 * preference.
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Contributions of each rated movie to the preference score of movie j,
   added to w[] (times `scale`). */
static rec_status preference_part(double *w, const rec_model *m, int k,
                                  const float *Y, const double *yty,
                                  double lambda, double alpha, size_t j,
                                  const int32_t *items, const float *vals,
                                  size_t n, double scale, rec_error *err)
{
    double *A = malloc(((size_t)k * k + k) * sizeof *A);
    float *cw = malloc((n ? n : 1) * sizeof *cw);
    if (!A || !cw) {
        free(A);
        free(cw);
        return rec__fail(err, REC_ENOMEM, "explain: out of memory");
    }
    double *z = A + (size_t)k * k;
    rec__weigh_user(cw, &m->weighting, m->interactions, items, vals, n);
    double base = rec__conf_base(!m->implicit && m->pref_scaled);
    memcpy(A, yty, (size_t)k * k * sizeof *A);
    for (size_t t = 0; t < n; t++) {
        if (cw[t] <= 0.0f)
            continue;
        const float *y = Y + (size_t)items[t] * k;
        double cm1 = alpha * cw[t] - (1.0 - base);
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++)
                A[(size_t)a * k + b] += cm1 * (double)y[a] * y[b];
    }
    double trace = 0.0;
    for (int a = 0; a < k; a++)
        trace += A[(size_t)a * k + a];
    /* as the fold-in: lambda plus its tiny ridge floor */
    double eps = 1e-9 * (trace / k) + 1e-12;
    for (int a = 0; a < k; a++) {
        A[(size_t)a * k + a] += lambda + eps;
        z[a] = Y[j * (size_t)k + a];
    }
    int bad = rec__cholesky_solve(A, z, k);
    for (size_t t = 0; !bad && t < n; t++) {
        if (cw[t] <= 0.0f)
            continue;
        const float *y = Y + (size_t)items[t] * k;
        double d = 0.0;
        for (int a = 0; a < k; a++)
            d += z[a] * y[a];
        w[t] += scale * (base + alpha * cw[t]) * d;
    }
    free(A);
    free(cw);
    return bad ? rec__fail(err, REC_ELAPACK, "explain: singular system")
               : REC_OK;
}

/* Contributions to the personal part of the predicted rating of movie j,
   damp * x_u . y_j + b_u, added to w[] (times `scale`). */
static rec_status rating_part(double *w, const rec_model *m, size_t j,
                              const int32_t *items, const float *vals,
                              size_t n, double scale, double damp,
                              rec_error *err)
{
    int k = m->rank, d = k + (m->has_biases ? 1 : 0);
    if (n == 0)
        return REC_OK;
    double *A = malloc(((size_t)d * d + d) * sizeof *A);
    if (!A)
        return rec__fail(err, REC_ENOMEM, "explain: out of memory");
    double *z = A + (size_t)d * d;
    memset(A, 0, (size_t)d * d * sizeof *A);
    for (size_t t = 0; t < n; t++) {
        const float *y = m->movie_factors + (size_t)items[t] * k;
        for (int a = 0; a < d; a++) {
            double ya = a < k ? y[a] : 1.0;
            for (int b = 0; b < d; b++)
                A[(size_t)a * d + b] += ya * (b < k ? y[b] : 1.0);
        }
    }
    double trace = 0.0;
    for (int a = 0; a < d; a++)
        trace += A[(size_t)a * d + a];
    double eps = 1e-9 * (trace / d) + 1e-12, dn = (double)n;
    for (int a = 0; a < d; a++) {
        A[(size_t)a * d + a] +=
            (a < k ? m->reg * dn : m->bias_reg * dn + m->bias_prior) + eps;
        z[a] = a < k ? damp * m->movie_factors[j * (size_t)k + a] : 1.0;
    }
    int bad = rec__cholesky_solve(A, z, d);
    for (size_t t = 0; !bad && t < n; t++) {
        size_t l = (size_t)items[t];
        const float *y = m->movie_factors + l * k;
        double target = vals[t] - m->global_mean -
                        (m->has_biases ? m->movie_bias[l] : 0.0f);
        double dot = 0.0;
        for (int a = 0; a < d; a++)
            dot += z[a] * (a < k ? y[a] : 1.0);
        w[t] += scale * target * dot;
    }
    free(A);
    return bad ? rec__fail(err, REC_ELAPACK, "explain: singular system")
               : REC_OK;
}

typedef struct reason_sort {
    double w;
    int32_t id;
} reason_sort;

static int cmp_reason(const void *a, const void *b)
{
    const reason_sort *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The decomposition for a user with these ratings (ascending dense
   indices) and dense movie j. */
static rec_status explain(rec_reason *out, size_t cap, size_t *n_out,
                          float *score_out, float *base_out,
                          const rec_model *m, const int32_t *items,
                          const float *vals, size_t n, size_t j,
                          rec_error *err)
{
    if (m->nonnegative)
        return rec__fail(err, REC_EINVAL, "explain: a nonnegative model's "
                         "factors are not linear in its ratings");
    double *w = calloc(n ? n : 1, sizeof *w);
    if (!w)
        return rec__fail(err, REC_ENOMEM, "explain: out of memory");
    rec_status st = REC_OK;
    double base = 0.0;
    if (m->implicit) {
        st = preference_part(w, m, m->rank, m->movie_factors, m->yty, m->reg,
                             m->alpha, j, items, vals, n, 1.0, err);
    } else if (m->pref_rank) {
        st = preference_part(w, m, m->pref_rank, m->pref_movie, m->pref_yty,
                             m->pref_reg, m->pref_alpha, j, items, vals, n,
                             1.0, err);
        double nj = m->movie_count[j]; /* damped as rec__model_finish */
        if (st == REC_OK)
            st = rating_part(w, m, j, items, vals, n, m->blend,
                             nj / (nj + m->blend_shrink), err);
    } else {
        base = m->global_mean + m->movie_bias[j];
        st = rating_part(w, m, j, items, vals, n, 1.0, 1.0, err);
    }
    reason_sort *rs = st == REC_OK ? malloc((n ? n : 1) * sizeof *rs) : NULL;
    if (st == REC_OK && !rs)
        st = rec__fail(err, REC_ENOMEM, "explain: out of memory");
    if (st != REC_OK) {
        free(w);
        return st;
    }
    double total = base, abs_sum = 0.0;
    for (size_t t = 0; t < n; t++) {
        rs[t].w = w[t];
        rs[t].id = m->movie_ids[items[t]];
        total += w[t];
        abs_sum += fabs(w[t]);
    }
    qsort(rs, n, sizeof *rs, cmp_reason);
    size_t k = n < cap ? n : cap;
    for (size_t i = 0; i < k; i++) {
        out[i].movie_id = rs[i].id;
        out[i].weight = (float)rs[i].w;
        out[i].share = abs_sum > 0.0 ? (float)(rs[i].w / abs_sum) : 0.0f;
    }
    *n_out = k;
    if (score_out)
        *score_out = (float)total;
    if (base_out)
        *base_out = (float)base;
    free(w);
    free(rs);
    return REC_OK;
}

rec_status rec_explain(rec_reason *out, size_t cap, size_t *n_out,
                       float *score_out, float *base_out, const rec_model *m,
                       int32_t user_id, int32_t movie_id, rec_error *err)
{
    if (!n_out || !m || (!out && cap > 0))
        return rec__fail(err, REC_EINVAL, "rec_explain: NULL argument");
    int32_t u = rec__idmap_get(&m->user_map, user_id);
    if (u < 0)
        return rec__fail(err, REC_ENOTFOUND, "unknown user id %ld",
                         (long)user_id);
    int32_t j = rec__idmap_get(&m->movie_map, movie_id);
    if (j < 0)
        return rec__fail(err, REC_ENOTFOUND, "unknown movie id %ld",
                         (long)movie_id);
    const int32_t *items;
    const float *vals;
    size_t n;
    rec__model_user_rated(m, (size_t)u, &items, &vals, &n);
    return explain(out, cap, n_out, score_out, base_out, m, items, vals, n,
                   (size_t)j, err);
}

rec_status rec_explain_for_ratings(rec_reason *out, size_t cap,
                                   size_t *n_out, float *score_out,
                                   float *base_out, const rec_model *m,
                                   const rec_movie_rating *ratings,
                                   size_t n_ratings, int32_t movie_id,
                                   rec_error *err)
{
    if (!n_out || !m || (!out && cap > 0))
        return rec__fail(err, REC_EINVAL,
                         "rec_explain_for_ratings: NULL argument");
    int32_t j = rec__idmap_get(&m->movie_map, movie_id);
    if (j < 0)
        return rec__fail(err, REC_ENOTFOUND, "unknown movie id %ld",
                         (long)movie_id);
    int32_t *items;
    float *vals;
    size_t n;
    rec_status st = rec__prepare_ratings(&items, &vals, &n, m, ratings,
                                         n_ratings, err);
    if (st != REC_OK)
        return st;
    st = explain(out, cap, n_out, score_out, base_out, m, items, vals, n,
                 (size_t)j, err);
    free(items);
    free(vals);
    return st;
}
