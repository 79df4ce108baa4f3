/*
 * arrays.c - bulk access in columns: a dataset from and to parallel arrays
 * (user ids, movie ids, ratings), a model's factor matrices with their ids
 * and biases. What bindings to array languages (numpy) need so that no
 * row crosses one at a time (many predictions: rec_predict_many in
 * recommend_batch.c).
 */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- datasets ------------------------------------------------------------ */

rec_status rec_ratings_from_arrays(rec_ratings **out, const int32_t *user_ids,
                                   const int32_t *movie_ids,
                                   const float *ratings, size_t n,
                                   rec_error *err)
{
    if (!out || (n && (!user_ids || !movie_ids || !ratings)))
        return rec__fail(err, REC_EINVAL,
                         "rec_ratings_from_arrays: NULL argument");
    *out = NULL;
    /* rec__ratings_build checks ids and finiteness (the first bad row). */
    return rec__ratings_build(out, user_ids, movie_ids, ratings, n, NULL,
                              NULL, err);
}

rec_status rec_ratings_to_arrays(int32_t *user_ids, int32_t *movie_ids,
                                 float *ratings, size_t cap, size_t *n_out,
                                 const rec_ratings *r, rec_error *err)
{
    if (!r || !n_out || (cap && (!user_ids || !movie_ids || !ratings)))
        return rec__fail(err, REC_EINVAL,
                         "rec_ratings_to_arrays: NULL argument");
    *n_out = r->nnz;
    if (cap == 0)
        return REC_OK;
    for (size_t u = 0; u < r->n_users; u++) {
        uint64_t b = r->user_off[u], e = r->user_off[u + 1];
        if (b >= cap)
            break;
        if (e > cap)
            e = cap;
        for (uint64_t i = b; i < e; i++) {
            user_ids[i] = r->user_ids[u];
            movie_ids[i] = r->movie_ids[r->user_items[i]];
            ratings[i] = r->user_vals[i];
        }
    }
    return REC_OK;
}

/* ---- model matrices ------------------------------------------------------ */

typedef struct id_slot {
    int32_t id;
    int32_t dense;
} id_slot;

static int cmp_slot(const void *a, const void *b)
{
    int32_t x = ((const id_slot *)a)->id, y = ((const id_slot *)b)->id;
    return (x > y) - (x < y);
}

/* Copy rows (factors, bias, id) in the order given by `order` (dense
   indices), or dense order when NULL. */
static void copy_rows(float *factors, float *biases, int32_t *ids,
                      const float *src_f, const float *src_b,
                      const int32_t *src_ids, const id_slot *order, size_t n,
                      int k)
{
    for (size_t i = 0; i < n; i++) {
        size_t d = order ? (size_t)order[i].dense : i;
        if (factors)
            memcpy(factors + i * (size_t)k, src_f + d * (size_t)k,
                   (size_t)k * sizeof *factors);
        if (biases)
            biases[i] = src_b[d];
        if (ids)
            ids[i] = src_ids[d];
    }
}

rec_status rec_model_user_matrix(float *factors, float *biases,
                                 int32_t *user_ids, size_t cap, size_t *n_out,
                                 const rec_model *m, rec_error *err)
{
    if (!m || !n_out)
        return rec__fail(err, REC_EINVAL,
                         "rec_model_user_matrix: NULL argument");
    *n_out = m->n_users;
    if (cap == 0)
        return REC_OK;
    if (cap < m->n_users)
        return rec__fail(err, REC_EINVAL,
                         "rec_model_user_matrix: room for %zu users, the "
                         "model has %zu",
                         cap, m->n_users);
    /* Dense user order follows training, add_user and remove_user: sort by
       id so the rows come out in a stable, documented order. */
    id_slot *order = malloc((m->n_users ? m->n_users : 1) * sizeof *order);
    if (!order)
        return rec__fail(err, REC_ENOMEM, "out of memory");
    for (size_t u = 0; u < m->n_users; u++) {
        order[u].id = m->user_ids[u];
        order[u].dense = (int32_t)u;
    }
    qsort(order, m->n_users, sizeof *order, cmp_slot);
    copy_rows(factors, biases, user_ids, m->user_factors, m->user_bias,
              m->user_ids, order, m->n_users, m->rank);
    free(order);
    return REC_OK;
}

rec_status rec_model_movie_matrix(float *factors, float *biases,
                                  int32_t *movie_ids, size_t cap,
                                  size_t *n_out, const rec_model *m,
                                  rec_error *err)
{
    if (!m || !n_out)
        return rec__fail(err, REC_EINVAL,
                         "rec_model_movie_matrix: NULL argument");
    *n_out = m->n_movies;
    if (cap == 0)
        return REC_OK;
    if (cap < m->n_movies)
        return rec__fail(err, REC_EINVAL,
                         "rec_model_movie_matrix: room for %zu movies, the "
                         "model has %zu",
                         cap, m->n_movies);
    /* movie_ids are ascending in dense order already */
    copy_rows(factors, biases, movie_ids, m->movie_factors, m->movie_bias,
              m->movie_ids, NULL, m->n_movies, m->rank);
    return REC_OK;
}
