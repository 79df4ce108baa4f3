/*
 * model.c - the trained model: allocation, copy, free and read-only getters.
 *
 * Factors are stored contiguously (row-major, stride `rank`) so serving
 * streams through them; per-user arrays have a capacity (users_cap) so that
 * rec_add_user can append users without reallocating every time.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* malloc/calloc that never return NULL for a zero size. */
static void *xcalloc(size_t n, size_t size)
{
    return calloc(n ? n : 1, size ? size : 1);
}

static void *xmalloc_copy(const void *src, size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (p && bytes)
        memcpy(p, src, bytes);
    return p;
}

rec_status rec__model_alloc(rec_model **out, int rank, size_t n_users,
                            size_t n_movies, size_t nnz, rec_error *err)
{
    if (!out || rank <= 0)
        return rec__fail(err, REC_EINVAL, "model: bad shape");
    *out = NULL;
    rec_model *m = calloc(1, sizeof *m);
    if (!m)
        return rec__fail(err, REC_ENOMEM, "model: out of memory");
    size_t k = (size_t)rank;
    m->rank = rank;
    m->n_users = n_users;
    m->n_movies = n_movies;
    m->users_cap = n_users;
    m->n_trained_users = n_users;
    rec__idmap_init(&m->user_map);
    rec__idmap_init(&m->movie_map);
    rec__meta_init(&m->meta);
    int overflow = (n_users && k > SIZE_MAX / sizeof(float) / n_users) ||
                   (n_movies && k > SIZE_MAX / sizeof(float) / n_movies);
    if (!overflow) {
        m->user_factors = xcalloc(n_users * k, sizeof(float));
        m->movie_factors = xcalloc(n_movies * k, sizeof(float));
        m->user_bias = xcalloc(n_users, sizeof(float));
        m->movie_bias = xcalloc(n_movies, sizeof(float));
        m->user_ids = xcalloc(n_users, sizeof(int32_t));
        m->movie_ids = xcalloc(n_movies, sizeof(int32_t));
        m->rated_off = xcalloc(n_users + 1, sizeof(uint64_t));
        m->rated_items = xcalloc(nnz, sizeof(int32_t));
        m->rated_vals = xcalloc(nnz, sizeof(float));
        m->movie_count = xcalloc(n_movies, sizeof(uint32_t));
        m->movie_mean = xcalloc(n_movies, sizeof(float));
    }
    if (overflow || !m->user_factors || !m->movie_factors || !m->user_bias ||
        !m->movie_bias || !m->user_ids || !m->movie_ids || !m->rated_off ||
        !m->rated_items || !m->rated_vals || !m->movie_count ||
        !m->movie_mean) {
        rec_model_free(m);
        return rec__fail(err, REC_ENOMEM, "model: out of memory");
    }
    *out = m;
    return REC_OK;
}

static void free_overrides(rec_user_ratings *ov, size_t n)
{
    if (!ov)
        return;
    for (size_t i = 0; i < n; i++) {
        free(ov[i].items);
        free(ov[i].vals);
    }
    free(ov);
}

void rec_model_free(rec_model *m)
{
    if (!m)
        return;
    free(m->user_factors);
    free(m->movie_factors);
    free(m->user_bias);
    free(m->movie_bias);
    free(m->user_ids);
    free(m->movie_ids);
    rec__idmap_free(&m->user_map);
    rec__idmap_free(&m->movie_map);
    free(m->rated_off);
    free(m->rated_items);
    free(m->rated_vals);
    free_overrides(m->overrides, m->users_cap);
    rec__meta_free(&m->meta);
    free(m->movie_count);
    free(m->movie_mean);
    free(m->yty);
    free(m->pref_user);
    free(m->pref_movie);
    free(m->pref_yty);
    free(m->interactions);
    free(m->rank_movie);
    free(m);
}

rec_status rec__model_alloc_pref(rec_model *m, int kp, rec_error *err)
{
    size_t k = (size_t)kp;
    if (kp <= 0 || (m->users_cap && k > SIZE_MAX / sizeof(float) / m->users_cap) ||
        (m->n_movies && k > SIZE_MAX / sizeof(float) / m->n_movies))
        return rec__fail(err, REC_ENOMEM, "model: out of memory");
    free(m->pref_user);
    free(m->pref_movie);
    m->pref_user = xcalloc(m->users_cap * k, sizeof(float));
    m->pref_movie = xcalloc(m->n_movies * k, sizeof(float));
    if (!m->pref_user || !m->pref_movie)
        return rec__fail(err, REC_ENOMEM, "model: out of memory");
    m->pref_rank = kp;
    return REC_OK;
}

/* ---- ranking vectors ----
 * One dot product ranks a movie for a user, whatever the model:
 *   explicit:  [y_j, mu + b_j]   . [x_u, 1]     + b_u   (predicted rating)
 *   implicit:  [y_j]             . [x_u]                (preference)
 *   hybrid:    [q_j, w s_j y_j]  . [p_u, x_u]   + w b_u
 * (q, p: preference factors; w: the blend weight; s_j = n_j / (n_j +
 * blend_shrink) for a movie with n_j training ratings). The hybrid score
 * is the preference plus w times the personal part of the predicted
 * rating, x_u . y_j + b_u (how much more than the movie's baseline this
 * user should like it), damped for movies whose factors rest on a few
 * ratings: undamped, those led the lists ("Saw V", 3 ratings, for a fan of
 * Star Wars). The baseline mu + b_j itself is left out: the preference
 * model already knows what is popular (docs/ranking.md). Serving one user
 * and scoring a block of users (a matrix product) share this definition. */

static int rank_dim(const rec_model *m)
{
    if (m->implicit)
        return m->rank;
    return m->pref_rank + m->rank + (m->pref_rank ? 0 : 1);
}

void rec__user_rank_vec(float *v, float *c, const rec_model *m,
                        const float *x, float bias, const float *p)
{
    int k = m->rank;
    if (m->implicit) {
        memcpy(v, x, (size_t)k * sizeof *v);
        *c = 0.0f;
        return;
    }
    int kp = m->pref_rank;
    if (kp)
        memcpy(v, p, (size_t)kp * sizeof *v);
    memcpy(v + kp, x, (size_t)k * sizeof *v);
    if (!kp)
        v[k] = 1.0f;
    *c = kp ? m->blend * bias : bias;
}

/* The prior weight of the cold-start ranking (a Bayesian average). */
#define COLD_PRIOR 10.0f

rec_status rec__model_finish(rec_model *m, rec_error *err)
{
    if (m->implicit && !m->yty) {
        rec_status st = rec__gram_of(&m->yty, m->movie_factors, m->n_movies,
                                     m->rank, err);
        if (st != REC_OK)
            return st;
    }
    if (m->pref_rank && !m->pref_yty) {
        rec_status st = rec__gram_of(&m->pref_yty, m->pref_movie,
                                     m->n_movies, m->pref_rank, err);
        if (st != REC_OK)
            return st;
    }
    int d = rank_dim(m), k = m->rank, kp = m->pref_rank;
    float *rv = malloc((m->n_movies ? m->n_movies : 1) * (size_t)d *
                       sizeof *rv);
    if (!rv)
        return rec__fail(err, REC_ENOMEM, "model: out of memory");
    float w = kp ? m->blend : 1.0f;
    for (size_t j = 0; j < m->n_movies; j++) {
        float *r = rv + j * (size_t)d;
        const float *y = m->movie_factors + j * (size_t)k;
        if (m->implicit) {
            memcpy(r, y, (size_t)k * sizeof *r);
            continue;
        }
        if (kp)
            memcpy(r, m->pref_movie + j * (size_t)kp, (size_t)kp * sizeof *r);
        /* hybrid: trust the rating model's taste for a movie in proportion
           to its support, n / (n + blend_shrink) */
        double n = m->movie_count[j];
        float sj = kp ? (float)(w * n / (n + m->blend_shrink)) : w;
        for (int f = 0; f < k; f++)
            r[kp + f] = sj * y[f];
        if (!kp)
            r[k] = m->global_mean + m->movie_bias[j];
    }
    free(m->rank_movie);
    m->rank_movie = rv;
    m->rank_dim = d;
    double sum = 0.0, cnt = 0.0;
    for (size_t j = 0; j < m->n_movies; j++) {
        sum += (double)m->movie_mean[j] * m->movie_count[j];
        cnt += m->movie_count[j];
    }
    m->data_mean = cnt > 0 ? (float)(sum / cnt) : 0.0f;
    m->cold_prior = COLD_PRIOR;
    return REC_OK;
}

rec_status rec__model_copy_pref(rec_model *dst, const rec_model *src,
                                rec_error *err)
{
    size_t kp = (size_t)src->pref_rank, nm = src->n_movies;
    if (!kp || dst->pref_rank || dst->implicit ||
        dst->n_users != src->n_users || dst->n_movies != nm)
        return rec__fail(err, REC_EINVAL,
                         "model: no preference part to copy, or models of "
                         "other data");
    rec_status st = rec__model_alloc_pref(dst, src->pref_rank, err);
    if (st != REC_OK)
        return st;
    memcpy(dst->pref_user, src->pref_user,
           src->n_users * kp * sizeof(float));
    memcpy(dst->pref_movie, src->pref_movie, nm * kp * sizeof(float));
    free(dst->pref_yty);
    dst->pref_yty = xmalloc_copy(src->pref_yty, kp * kp * sizeof(double));
    free(dst->interactions);
    dst->interactions =
        src->interactions
            ? xmalloc_copy(src->interactions, nm * sizeof(uint32_t))
            : NULL;
    if (!dst->pref_yty || (src->interactions && !dst->interactions))
        return rec__fail(err, REC_ENOMEM, "model: out of memory");
    dst->weighting = src->weighting;
    dst->pref_reg = src->pref_reg;
    dst->pref_alpha = src->pref_alpha;
    dst->blend = src->blend;
    dst->blend_shrink = src->blend_shrink;
    dst->rating_pref_weight = src->rating_pref_weight;
    dst->rating_pref_shift = src->rating_pref_shift;
    return REC_OK;
}

static rec_status copy_overrides(rec_model *d, const rec_model *m)
{
    if (!m->overrides)
        return REC_OK;
    d->overrides = xcalloc(m->users_cap, sizeof *d->overrides);
    if (!d->overrides)
        return REC_ENOMEM;
    for (size_t u = 0; u < m->n_users; u++) {
        const rec_user_ratings *s = &m->overrides[u];
        rec_user_ratings *t = &d->overrides[u];
        t->used = s->used;
        t->n = s->n;
        if (!s->used)
            continue;
        t->items = xmalloc_copy(s->items, s->n * sizeof *s->items);
        t->vals = xmalloc_copy(s->vals, s->n * sizeof *s->vals);
        if (!t->items || !t->vals)
            return REC_ENOMEM;
    }
    return REC_OK;
}

rec_status rec_model_copy(rec_model **out, const rec_model *m, rec_error *err)
{
    if (out)
        *out = NULL;
    if (!out || !m)
        return rec__fail(err, REC_EINVAL, "rec_model_copy: NULL argument");
    size_t nnz = m->rated_off ? (size_t)m->rated_off[m->n_trained_users] : 0;
    rec_model *d = calloc(1, sizeof *d);
    if (!d)
        return rec__fail(err, REC_ENOMEM, "rec_model_copy: out of memory");
    *d = *m; /* scalars; every pointer is replaced below */
    size_t k = (size_t)m->rank, uc = m->users_cap, nm = m->n_movies;
    d->user_factors = xmalloc_copy(m->user_factors, uc * k * sizeof(float));
    d->movie_factors = xmalloc_copy(m->movie_factors, nm * k * sizeof(float));
    d->user_bias = xmalloc_copy(m->user_bias, uc * sizeof(float));
    d->movie_bias = xmalloc_copy(m->movie_bias, nm * sizeof(float));
    d->user_ids = xmalloc_copy(m->user_ids, uc * sizeof(int32_t));
    d->movie_ids = xmalloc_copy(m->movie_ids, nm * sizeof(int32_t));
    d->rated_off = xmalloc_copy(m->rated_off,
                                (m->n_trained_users + 1) * sizeof(uint64_t));
    d->rated_items = xmalloc_copy(m->rated_items, nnz * sizeof(int32_t));
    d->rated_vals = xmalloc_copy(m->rated_vals, nnz * sizeof(float));
    d->movie_count = xmalloc_copy(m->movie_count, nm * sizeof(uint32_t));
    d->movie_mean = xmalloc_copy(m->movie_mean, nm * sizeof(float));
    d->overrides = NULL;
    d->yty = m->yty ? xmalloc_copy(m->yty, k * k * sizeof(double)) : NULL;
    size_t kp = (size_t)m->pref_rank;
    d->pref_user = kp ? xmalloc_copy(m->pref_user, uc * kp * sizeof(float))
                      : NULL;
    d->pref_movie = kp ? xmalloc_copy(m->pref_movie, nm * kp * sizeof(float))
                       : NULL;
    d->pref_yty = kp ? xmalloc_copy(m->pref_yty, kp * kp * sizeof(double))
                     : NULL;
    d->interactions = m->interactions
                          ? xmalloc_copy(m->interactions, nm * sizeof(uint32_t))
                          : NULL;
    d->rank_movie = xmalloc_copy(m->rank_movie,
                                 nm * (size_t)m->rank_dim * sizeof(float));
    rec__idmap_init(&d->user_map);
    rec__idmap_init(&d->movie_map);
    rec__meta_init(&d->meta);
    rec_status st = REC_ENOMEM;
    if (d->user_factors && d->movie_factors && d->user_bias &&
        d->movie_bias && d->user_ids && d->movie_ids && d->rated_off &&
        d->rated_items && d->rated_vals && d->movie_count && d->movie_mean &&
        (d->yty || !m->yty) &&
        (!kp || (d->pref_user && d->pref_movie && d->pref_yty)) &&
        (d->interactions || !m->interactions) && d->rank_movie &&
        rec__idmap_copy(&d->user_map, &m->user_map) == REC_OK &&
        rec__idmap_copy(&d->movie_map, &m->movie_map) == REC_OK &&
        rec__meta_copy(&d->meta, &m->meta) == REC_OK)
        st = copy_overrides(d, m);
    if (st != REC_OK) {
        rec_model_free(d);
        return rec__fail(err, st, "rec_model_copy: out of memory");
    }
    *out = d;
    return REC_OK;
}

int rec_model_rank(const rec_model *m)
{
    return m ? m->rank : 0;
}

size_t rec_model_n_users(const rec_model *m)
{
    return m ? m->n_users : 0;
}

size_t rec_model_n_movies(const rec_model *m)
{
    return m ? m->n_movies : 0;
}

float rec_model_global_mean(const rec_model *m)
{
    return m ? m->global_mean : 0.0f;
}

int rec_model_has_user(const rec_model *m, int32_t user_id)
{
    return m && rec__idmap_get(&m->user_map, user_id) >= 0;
}

static void fill_info(rec_movie_info *out, const rec_model *m, size_t idx)
{
    out->movie_id = m->movie_ids[idx];
    out->year = idx < m->meta.n ? m->meta.year[idx] : 0;
    out->n_ratings = m->movie_count[idx];
    out->mean_rating = m->movie_mean[idx];
    out->title = rec__meta_title(&m->meta, idx);
    out->genres = rec__meta_genres(&m->meta, idx);
}

rec_status rec_model_movie(rec_movie_info *out, const rec_model *m,
                           int32_t movie_id, rec_error *err)
{
    if (!out || !m)
        return rec__fail(err, REC_EINVAL, "rec_model_movie: NULL argument");
    int32_t j = rec__idmap_get(&m->movie_map, movie_id);
    if (j < 0)
        return rec__fail(err, REC_ENOTFOUND, "unknown movie id %ld",
                         (long)movie_id);
    fill_info(out, m, (size_t)j);
    return REC_OK;
}

rec_status rec_model_movie_at(rec_movie_info *out, const rec_model *m,
                              size_t index, rec_error *err)
{
    if (!out || !m)
        return rec__fail(err, REC_EINVAL, "rec_model_movie_at: NULL argument");
    if (index >= m->n_movies)
        return rec__fail(err, REC_EINVAL,
                         "movie index %zu out of range (%zu movies)", index,
                         m->n_movies);
    fill_info(out, m, index);
    return REC_OK;
}

static rec_status copy_factors(float *out, size_t cap, float *bias_out,
                               const float *x, float bias, int rank,
                               rec_error *err)
{
    if (out && cap < (size_t)rank)
        return rec__fail(err, REC_EINVAL,
                         "factor buffer holds %zu floats, rank is %d", cap,
                         rank);
    if (out)
        memcpy(out, x, (size_t)rank * sizeof *out);
    if (bias_out)
        *bias_out = bias;
    return REC_OK;
}

rec_status rec_model_user_factors(float *out, size_t cap, float *bias_out,
                                  const rec_model *m, int32_t user_id,
                                  rec_error *err)
{
    if (!m)
        return rec__fail(err, REC_EINVAL, "rec_model_user_factors: NULL model");
    int32_t u = rec__idmap_get(&m->user_map, user_id);
    if (u < 0)
        return rec__fail(err, REC_ENOTFOUND, "unknown user id %ld",
                         (long)user_id);
    return copy_factors(out, cap, bias_out,
                        m->user_factors + (size_t)u * m->rank,
                        m->user_bias[u], m->rank, err);
}

rec_status rec_model_movie_factors(float *out, size_t cap, float *bias_out,
                                   const rec_model *m, int32_t movie_id,
                                   rec_error *err)
{
    if (!m)
        return rec__fail(err, REC_EINVAL,
                         "rec_model_movie_factors: NULL model");
    int32_t j = rec__idmap_get(&m->movie_map, movie_id);
    if (j < 0)
        return rec__fail(err, REC_ENOTFOUND, "unknown movie id %ld",
                         (long)movie_id);
    return copy_factors(out, cap, bias_out,
                        m->movie_factors + (size_t)j * m->rank,
                        m->movie_bias[j], m->rank, err);
}

void rec__model_user_rated(const rec_model *m, size_t u, const int32_t **items,
                           const float **vals, size_t *n)
{
    if (m->overrides && u < m->n_users && m->overrides[u].used) {
        *items = m->overrides[u].items;
        *vals = m->overrides[u].vals;
        *n = m->overrides[u].n;
    } else if (u < m->n_trained_users) {
        uint64_t a = m->rated_off[u], b = m->rated_off[u + 1];
        *items = m->rated_items + a;
        *vals = m->rated_vals + a;
        *n = (size_t)(b - a);
    } else {
        *items = NULL;
        *vals = NULL;
        *n = 0;
    }
}

/* ---- rec_remove_user ---- */

rec_status rec_remove_user(rec_model *m, int32_t user_id, rec_error *err)
{
    if (!m)
        return rec__fail(err, REC_EINVAL, "rec_remove_user: NULL model");
    int32_t ui = rec__idmap_get(&m->user_map, user_id);
    if (ui < 0)
        return rec__fail(err, REC_ENOTFOUND, "unknown user id %ld",
                         (long)user_id);
    size_t u = (size_t)ui, last = m->n_users - 1, k = (size_t)m->rank;

    /* The last user moves into slot u, so the dense arrays stay packed.
       Its rated movies must follow it: an override moves as it is; a
       trained user's CSR row belongs to its old slot, so it is copied into
       an override. Everything that can fail happens before any change. */
    rec_user_ratings moved = {0};
    if (u != last) {
        if (m->overrides && m->overrides[last].used) {
            moved = m->overrides[last];
        } else {
            const int32_t *items;
            const float *vals;
            size_t n;
            rec__model_user_rated(m, last, &items, &vals, &n);
            moved.items = xmalloc_copy(items, n * sizeof *items);
            moved.vals = xmalloc_copy(vals, n * sizeof *vals);
            moved.n = n;
            moved.used = true;
            if (!moved.items || !moved.vals) {
                free(moved.items);
                free(moved.vals);
                return rec__fail(err, REC_ENOMEM,
                                 "rec_remove_user: out of memory");
            }
        }
        if (!m->overrides &&
            !(m->overrides = xcalloc(m->users_cap, sizeof *m->overrides))) {
            free(moved.items);
            free(moved.vals);
            return rec__fail(err, REC_ENOMEM, "rec_remove_user: out of memory");
        }
    }

    /* Commit: nothing below allocates (removing a key leaves the map room
       to overwrite another one without growing). */
    rec__idmap_remove(&m->user_map, user_id);
    if (m->overrides) {
        free(m->overrides[u].items);
        free(m->overrides[u].vals);
        memset(&m->overrides[u], 0, sizeof m->overrides[u]);
    }
    if (u != last) {
        memcpy(m->user_factors + u * k, m->user_factors + last * k,
               k * sizeof *m->user_factors);
        if (m->pref_rank) {
            size_t kp = (size_t)m->pref_rank;
            memcpy(m->pref_user + u * kp, m->pref_user + last * kp,
                   kp * sizeof *m->pref_user);
        }
        m->user_bias[u] = m->user_bias[last];
        m->user_ids[u] = m->user_ids[last];
        m->overrides[u] = moved;
        memset(&m->overrides[last], 0, sizeof m->overrides[last]);
        (void)rec__idmap_put(&m->user_map, m->user_ids[u], (int32_t)u);
    }
    /* Without added users the last slot was the last trained one. */
    if (last < m->n_trained_users)
        m->n_trained_users = last;
    m->n_users = last;
    /* The next REC_NEW_USER rescans when the largest id went away. */
    if (m->max_user_id_known && user_id == m->max_user_id)
        m->max_user_id_known = false;
    return REC_OK;
}

int rec_model_hybrid(const rec_model *m)
{
    return m && m->pref_rank > 0;
}

double rec_model_preference_reg(const rec_model *m)
{
    return rec_model_hybrid(m) ? m->pref_reg : 0.0;
}

bool rec__model_has_rating_pref(const rec_model *m)
{
    return m->pref_rank > 0 &&
           (m->rating_pref_weight != 0.0 || m->rating_pref_shift != 0.0);
}

void rec_model_rating_pref(const rec_model *m, double *weight, double *shift)
{
    int on = rec_model_hybrid(m);
    if (weight)
        *weight = on ? m->rating_pref_weight : 0.0;
    if (shift)
        *shift = on ? m->rating_pref_shift : 0.0;
}
