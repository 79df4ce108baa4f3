/*
 * candidates.c - which movies a ranking may return (rec_top_n_options).
 *
 * The options are resolved once per call (or per batch of users) into a
 * mask over dense movie indices; the per-user part, the movies the user
 * rated, is a sorted list the ranking walks beside it. With the default
 * options no mask is built: a movie is a candidate when it has a training
 * rating, which rec__candidate tests from the counts alone.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void rec_top_n_options_init(rec_top_n_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->version = REC_TOP_N_OPTIONS_VERSION;
}

rec_status rec__candidates_init(rec_candidates *c, const rec_model *m,
                                const rec_top_n_options *o, rec_error *err)
{
    memset(c, 0, sizeof *c);
    c->count = m->movie_count;
    c->min_count = 1;
    if (!o)
        return REC_OK;
    if (o->version < 1 || o->version > REC_TOP_N_OPTIONS_VERSION)
        return rec__fail(err, REC_EINVAL,
                         "rec_top_n_options: unknown version %u (use "
                         "rec_top_n_options_init)",
                         (unsigned)o->version);
    if ((!o->allow && o->n_allow) || (!o->deny && o->n_deny))
        return rec__fail(err, REC_EINVAL,
                         "rec_top_n_options: NULL list with a non-zero count");
    c->include_rated = o->include_rated != 0;
    c->min_count = o->min_count > 1 ? o->min_count : 1;
    bool genre = o->genre && o->genre[0];
    if (!o->allow && !o->deny && !genre)
        return REC_OK; /* counts alone decide */
    c->mask = calloc(m->n_movies ? m->n_movies : 1, 1);
    if (!c->mask)
        return rec__fail(err, REC_ENOMEM, "candidates: out of memory");
    if (o->allow) {
        for (size_t i = 0; i < o->n_allow; i++) {
            int32_t j = rec__idmap_get(&m->movie_map, o->allow[i]);
            if (j >= 0 && m->movie_count[j] >= o->min_count)
                c->mask[j] = 1; /* asked for by name: 0 ratings allowed */
        }
    } else {
        for (size_t j = 0; j < m->n_movies; j++)
            c->mask[j] = m->movie_count[j] >= c->min_count;
    }
    if (genre) {
        size_t wlen = strlen(o->genre);
        for (size_t j = 0; j < m->n_movies; j++)
            if (c->mask[j] &&
                !rec__has_genre(rec__meta_genres(&m->meta, j), o->genre, wlen))
                c->mask[j] = 0;
    }
    for (size_t i = 0; i < o->n_deny; i++) {
        int32_t j = rec__idmap_get(&m->movie_map, o->deny[i]);
        if (j >= 0)
            c->mask[j] = 0;
    }
    return REC_OK;
}

void rec__candidates_free(rec_candidates *c)
{
    free(c->mask);
    c->mask = NULL;
}
