/*
 * movieme_bind.h - C glue shared by the SWIG bindings (Python and Lua).
 *
 * Included by the generated wrappers only (never installed). It holds:
 *  - mm_error: a rec_error plus the path the call was about, so a binding
 *    can raise an OSError-like error that names the file;
 *  - the handle wrappers mm_ratings and mm_model: the C handle plus a
 *    readers/writer lock. Calls on a const handle take the read lock, so any
 *    number of them run in parallel (Python releases the GIL around them);
 *    mutators (rec_ratings_add, rec_ratings_set_movie, rec_add_user) take
 *    the write lock, which gives them the exclusive access the C API asks
 *    for. The binding can therefore never be made to race on a handle.
 *  - result buffers (mm_recs, mm_movies, ...) that own their strings, so a
 *    result outlives any later change to the handle it came from. The
 *    language typemaps convert them to lists/tables and free them.
 * No logic of its own beyond locking, copying and argument checks.
 */
#ifndef MOVIEME_BIND_H
#define MOVIEME_BIND_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "movieme.h"

/* ---- errors ------------------------------------------------------------ */

typedef struct mm_error {
    rec_error e;      /* code 0 = no error */
    const char *path; /* the file the call was about, or NULL */
} mm_error;

static void mm_error_init(mm_error *err)
{
    err->e.code = REC_OK;
    err->e.msg[0] = '\0';
    err->path = NULL;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int mm_failf(mm_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    err->e.code = code;
    va_start(ap, fmt);
    vsnprintf(err->e.msg, sizeof err->e.msg, fmt, ap);
    va_end(ap);
    return code;
}

/* The message to show for an error: the library's, else rec_strerror(). */
static const char *mm_error_message(const mm_error *err)
{
    return err->e.msg[0] ? err->e.msg : rec_strerror(err->e.code);
}

/* The C name of a status, e.g. "REC_EFORMAT" (what bindings show as an
   error's code). */
static const char *mm_status_name(int code)
{
    static const char *const names[] = {
        "REC_OK",       "REC_EINVAL",    "REC_ENOMEM",  "REC_EIO",
        "REC_EFORMAT",  "REC_ENOTFOUND", "REC_ELAPACK", "REC_ECANCELED"};
    return code <= 0 && -code < (int)(sizeof names / sizeof names[0])
               ? names[-code]
               : "REC_EUNKNOWN";
}

/* The "file:line:" a data error's message starts with: the length of the
   path and the line, or 0 when the message has none. */
static size_t mm_error_location(const char *msg, long *line)
{
    const char *p;
    for (p = strchr(msg, ':'); p; p = strchr(p + 1, ':')) {
        const char *d = p + 1;
        long v = 0;
        while (*d >= '0' && *d <= '9' && v < 100000000L)
            v = v * 10 + (*d++ - '0');
        if (d > p + 1 && *d == ':' && p > msg) {
            *line = v;
            return (size_t)(p - msg);
        }
    }
    return 0;
}

/* A C call failed without filling err (should not happen): make it say so. */
static int mm_check(mm_error *err, rec_status st)
{
    if (st != REC_OK && err->e.code == REC_OK)
        mm_failf(err, st, "%s", rec_strerror(st));
    return st;
}

/* ---- handle wrappers ---------------------------------------------------- */

typedef struct mm_ratings {
    rec_ratings *h;
    pthread_rwlock_t lock;
} mm_ratings;

typedef struct mm_model {
    rec_model *h;
    pthread_rwlock_t lock;
} mm_model;

/* The dataset this thread is training on (its read lock is held), so that a
   progress callback that tries to modify it fails instead of deadlocking. */
static _Thread_local const mm_ratings *mm_training_on;

#define MM_RDLOCK(w) pthread_rwlock_rdlock(&(w)->lock)
#define MM_WRLOCK(w) pthread_rwlock_wrlock(&(w)->lock)
#define MM_UNLOCK(w) pthread_rwlock_unlock(&(w)->lock)

/* Take ownership of h (freed on failure). NULL h gives NULL. */
static mm_ratings *mm_ratings_wrap(rec_ratings *h, mm_error *err)
{
    mm_ratings *w;
    if (!h)
        return NULL;
    w = (mm_ratings *)calloc(1, sizeof *w);
    if (!w || pthread_rwlock_init(&w->lock, NULL) != 0) {
        free(w);
        rec_ratings_free(h);
        mm_failf(err, REC_ENOMEM, "out of memory");
        return NULL;
    }
    w->h = h;
    return w;
}

/* Free a dataset's C handle now (close); the wrapper stays until collected,
   with h NULL: later calls fail as "closed" (see the bindings' checks). */
static void mm_ratings_release(mm_ratings *w)
{
    MM_WRLOCK(w);
    rec_ratings_free(w->h);
    w->h = NULL;
    MM_UNLOCK(w);
}

static void mm_ratings_destroy(mm_ratings *w)
{
    if (!w)
        return;
    rec_ratings_free(w->h);
    pthread_rwlock_destroy(&w->lock);
    free(w);
}

static mm_model *mm_model_wrap(rec_model *h, mm_error *err)
{
    mm_model *w;
    if (!h)
        return NULL;
    w = (mm_model *)calloc(1, sizeof *w);
    if (!w || pthread_rwlock_init(&w->lock, NULL) != 0) {
        free(w);
        rec_model_free(h);
        mm_failf(err, REC_ENOMEM, "out of memory");
        return NULL;
    }
    w->h = h;
    return w;
}

static void mm_model_release(mm_model *w)
{
    MM_WRLOCK(w);
    rec_model_free(w->h);
    w->h = NULL;
    MM_UNLOCK(w);
}

static void mm_model_destroy(mm_model *w)
{
    if (!w)
        return;
    rec_model_free(w->h);
    pthread_rwlock_destroy(&w->lock);
    free(w);
}

/* ---- results ------------------------------------------------------------ */

typedef struct mm_rec {
    int32_t movie_id;
    float score;
    float rating; /* rec_scored.rating: the predicted rating to show */
    char *title;
} mm_rec;

/* Recommendations with titles. */
typedef struct mm_recs {
    mm_rec *v;
    size_t n;
} mm_recs;

typedef struct mm_movie {
    int32_t movie_id;
    int32_t year;
    uint32_t n_ratings;
    float mean_rating;
    char *title;  /* owned; NULL only in an empty result */
    char *genres; /* owned, '|'-separated */
} mm_movie;

typedef struct mm_movies {
    mm_movie *v;
    size_t n;
} mm_movies;

typedef struct mm_stats {
    rec_movie_stats *v;
    size_t n;
} mm_stats;

/* (movie_id, rating) pairs: a user's ratings. */
typedef struct mm_pairs {
    rec_movie_rating *v;
    size_t n;
} mm_pairs;

typedef struct mm_factors {
    float *v;
    size_t n;
    float bias;
} mm_factors;

static char *mm_strdup(const char *s)
{
    size_t len = strlen(s ? s : "");
    char *d = (char *)malloc(len + 1);
    if (d)
        memcpy(d, s ? s : "", len + 1);
    return d;
}

static void mm_movie_clear(mm_movie *m)
{
    free(m->title);
    free(m->genres);
    m->title = m->genres = NULL;
}

/* Free a result list {v, n} whose entries own a `title`. */
#define MM_FREE_TITLED(list)                                                 \
    do {                                                                     \
        size_t i_;                                                           \
        for (i_ = 0; i_ < (list)->n; i_++)                                   \
            free((list)->v[i_].title);                                       \
        free((list)->v);                                                     \
        (list)->v = NULL;                                                    \
        (list)->n = 0;                                                       \
    } while (0)

static void mm_recs_free(mm_recs *r) { MM_FREE_TITLED(r); }

static void mm_movies_free(mm_movies *m)
{
    size_t i;
    for (i = 0; i < m->n; i++)
        mm_movie_clear(&m->v[i]);
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

/* Copy metadata into owned strings. */
static int mm_movie_set(mm_movie *out, const rec_movie_info *in, mm_error *err)
{
    out->movie_id = in->movie_id;
    out->year = in->year;
    out->n_ratings = in->n_ratings;
    out->mean_rating = in->mean_rating;
    out->title = mm_strdup(in->title);
    out->genres = mm_strdup(in->genres);
    if (!out->title || !out->genres) {
        mm_movie_clear(out);
        return mm_failf(err, REC_ENOMEM, "out of memory");
    }
    return REC_OK;
}

/* Scored movies -> recommendations with titles, looked up in the dataset
   `r` or the model `m` (one of them non-NULL; caller holds its lock). */
static int mm_recs_make(mm_recs *out, const rec_scored *s, size_t n,
                        const rec_ratings *r, const rec_model *m,
                        mm_error *err)
{
    size_t i;
    out->n = 0;
    out->v = (mm_rec *)calloc(n ? n : 1, sizeof *out->v);
    if (!out->v)
        return mm_failf(err, REC_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        rec_movie_info info;
        rec_status st = r ? rec_ratings_movie(&info, r, s[i].movie_id, NULL)
                          : rec_model_movie(&info, m, s[i].movie_id, NULL);
        out->v[i].movie_id = s[i].movie_id;
        out->v[i].score = s[i].score;
        out->v[i].rating = s[i].rating;
        out->v[i].title = mm_strdup(st == REC_OK ? info.title : "");
        out->n = i + 1;
        if (!out->v[i].title) {
            mm_recs_free(out);
            return mm_failf(err, REC_ENOMEM, "out of memory");
        }
    }
    return REC_OK;
}

/* Take a dataset's write lock, unless this thread is training on it. */
static int mm_ratings_wrlock(mm_ratings *w, mm_error *err)
{
    if (mm_training_on == w)
        return mm_failf(err, REC_EINVAL, "cannot modify a dataset from the "
                                         "progress callback of its training");
    MM_WRLOCK(w);
    return REC_OK;
}

/* Check a result count given by the caller. */
static int mm_check_n(long long n, mm_error *err)
{
    if (n < 0)
        return mm_failf(err, REC_EINVAL, "n must be >= 0, got %lld", n);
    return REC_OK;
}

/* ---- top-N options ---------------------------------------------------- */

/* rec_top_n_options as a binding builds them from a dict/table: the C
   struct and the arrays and genre string it points to, owned here. */
typedef struct mm_top_opts {
    rec_top_n_options o;
    int32_t *allow, *deny;
    char *genre;
} mm_top_opts;

static void mm_top_opts_init(mm_top_opts *t)
{
    rec_top_n_options_init(&t->o);
    t->allow = t->deny = NULL;
    t->genre = NULL;
}

static void mm_top_opts_free(mm_top_opts *t)
{
    free(t->allow);
    free(t->deny);
    free(t->genre);
    mm_top_opts_init(t);
}

/* min_count from a language integer: [0, 2^32). */
static int mm_top_opts_min_count(mm_top_opts *t, long long v, mm_error *err)
{
    if (v < 0 || v > (long long)UINT32_MAX)
        return mm_failf(err, REC_EINVAL,
                        "min_count must be in [0, 2^32), got %lld", v);
    t->o.min_count = (uint32_t)v;
    return REC_OK;
}

static int mm_top_opts_genre(mm_top_opts *t, const char *genre, mm_error *err)
{
    free(t->genre);
    t->genre = genre ? mm_strdup(genre) : NULL;
    if (genre && !t->genre)
        return mm_failf(err, REC_ENOMEM, "out of memory");
    t->o.genre = t->genre;
    return REC_OK;
}

/* Room for an allow (is_allow) or deny list of n ids; the caller fills
   it. NULL (err set) when out of memory. */
static int32_t *mm_top_opts_list(mm_top_opts *t, int is_allow, size_t n,
                                 mm_error *err)
{
    int32_t **slot = is_allow ? &t->allow : &t->deny;
    free(*slot);
    *slot = (int32_t *)malloc((n ? n : 1) * sizeof **slot);
    if (!*slot) {
        mm_failf(err, REC_ENOMEM, "out of memory");
        return NULL;
    }
    if (is_allow) {
        t->o.allow = t->allow;
        t->o.n_allow = n;
    } else {
        t->o.deny = t->deny;
        t->o.n_deny = n;
    }
    return *slot;
}

/* min(n, the model's movies): the room a ranked call needs (n >= 0). */
static size_t mm_model_cap(const rec_model *m, long long n)
{
    size_t cap = rec_model_n_movies(m);
    return (unsigned long long)n < cap ? (size_t)n : cap;
}

/* ---- explanations ------------------------------------------------------ */

typedef struct mm_reason {
    int32_t movie_id;
    float weight, share;
    char *title;
} mm_reason;

/* rec_explain's answer: the reasons with titles, the decomposed score and
   the part that comes from no one rating. */
typedef struct mm_explanation {
    mm_reason *v;
    size_t n;
    float score, base;
} mm_explanation;

static void mm_explanation_free(mm_explanation *x) { MM_FREE_TITLED(x); }

/* Up to n reasons why movie_id is recommended to user_id (ratings NULL)
   or to someone with these ratings, under the read lock. */
static mm_explanation mm_explain_run(mm_model *w, int32_t user_id,
                                       const rec_movie_rating *ratings,
                                       size_t n_ratings, int for_ratings,
                                       int32_t movie_id, long long n,
                                       mm_error *err)
{
    mm_explanation out;
    rec_reason *r = NULL;
    size_t i, got = 0, cap;
    rec_status st;
    memset(&out, 0, sizeof out);
    if (mm_check_n(n, err) != REC_OK)
        return out;
    MM_RDLOCK(w);
    cap = mm_model_cap(w->h, n);
    r = (rec_reason *)malloc((cap ? cap : 1) * sizeof *r);
    out.v = (mm_reason *)calloc(cap ? cap : 1, sizeof *out.v);
    if (!r || !out.v)
        st = mm_failf(err, REC_ENOMEM, "out of memory");
    else if (for_ratings)
        st = rec_explain_for_ratings(r, cap, &got, &out.score, &out.base,
                                     w->h, ratings, n_ratings, movie_id,
                                     &err->e);
    else
        st = rec_explain(r, cap, &got, &out.score, &out.base, w->h, user_id,
                         movie_id, &err->e);
    if (mm_check(err, st) == REC_OK)
        for (i = 0; i < got; i++) {
            rec_movie_info info;
            rec_status mst = rec_model_movie(&info, w->h, r[i].movie_id, NULL);
            out.v[i].movie_id = r[i].movie_id;
            out.v[i].weight = r[i].weight;
            out.v[i].share = r[i].share;
            out.v[i].title = mm_strdup(mst == REC_OK ? info.title : "");
            out.n = i + 1;
            if (!out.v[i].title) {
                mm_failf(err, REC_ENOMEM, "out of memory");
                break;
            }
        }
    MM_UNLOCK(w);
    free(r);
    if (err->e.code != REC_OK)
        mm_explanation_free(&out);
    return out;
}

/* The ranked calls of a model, which share one shape. */
typedef enum mm_rank_kind {
    MM_TOP_N,        /* rec_top_n(id) */
    MM_FOR_RATINGS,  /* rec_recommend_for_ratings(ratings) */
    MM_SIMILAR       /* rec_similar_movies(id) */
} mm_rank_kind;

/* Up to n results of a ranked call, with titles, under the read lock;
   opts NULL: the defaults. */
static mm_recs mm_model_ranked(mm_model *w, mm_rank_kind kind, int32_t id,
                               const rec_movie_rating *ratings,
                               size_t n_ratings, long long n,
                               const rec_top_n_options *opts, mm_error *err)
{
    mm_recs out;
    rec_scored *s = NULL;
    size_t got = 0, cap;
    rec_status st = REC_OK;
    out.v = NULL;
    out.n = 0;
    if (mm_check_n(n, err) != REC_OK)
        return out;
    MM_RDLOCK(w);
    cap = mm_model_cap(w->h, n);
    s = (rec_scored *)malloc((cap ? cap : 1) * sizeof *s);
    if (!s)
        st = mm_failf(err, REC_ENOMEM, "out of memory");
    else if (kind == MM_TOP_N)
        st = rec_top_n_ex(s, cap, &got, w->h, id, opts, &err->e);
    else if (kind == MM_FOR_RATINGS)
        st = rec_recommend_for_ratings_ex(s, cap, &got, w->h, ratings,
                                          n_ratings, opts, &err->e);
    else
        st = rec_similar_movies_ex(s, cap, &got, w->h, id, opts, &err->e);
    if (mm_check(err, st) == REC_OK)
        mm_recs_make(&out, s, got, NULL, w->h, err);
    MM_UNLOCK(w);
    free(s);
    return out;
}

/* Every movie of a dataset (r) or a model (m), by ascending id; the caller
   holds the lock. */
static mm_movies mm_movies_all(const rec_ratings *r, const rec_model *m,
                               mm_error *err)
{
    mm_movies out;
    size_t i, n = r ? rec_ratings_n_movies(r) : rec_model_n_movies(m);
    out.n = 0;
    out.v = (mm_movie *)calloc(n ? n : 1, sizeof *out.v);
    if (!out.v) {
        mm_failf(err, REC_ENOMEM, "out of memory");
        return out;
    }
    for (i = 0; i < n; i++) {
        rec_movie_info info;
        rec_status st = r ? rec_ratings_movie_at(&info, r, i, &err->e)
                          : rec_model_movie_at(&info, m, i, &err->e);
        if (mm_check(err, st) != REC_OK ||
            mm_movie_set(&out.v[i], &info, err) != REC_OK)
            break;
        out.n = i + 1;
    }
    return out;
}

/* One movie of a dataset (r) or a model (m); the caller holds the lock. */
static mm_movie mm_movie_get(const rec_ratings *r, const rec_model *m,
                             int32_t movie_id, mm_error *err)
{
    mm_movie out;
    rec_movie_info info;
    rec_status st;
    memset(&out, 0, sizeof out);
    st = r ? rec_ratings_movie(&info, r, movie_id, &err->e)
           : rec_model_movie(&info, m, movie_id, &err->e);
    if (mm_check(err, st) == REC_OK)
        mm_movie_set(&out, &info, err);
    return out;
}

/* A user's (is_user) or a movie's factors and bias, under the read lock. */
static mm_factors mm_model_factors(mm_model *w, int is_user, int32_t id,
                                   mm_error *err)
{
    mm_factors out;
    size_t k;
    rec_status st;
    out.n = 0;
    out.bias = 0.0f;
    MM_RDLOCK(w);
    k = (size_t)rec_model_rank(w->h);
    out.v = (float *)malloc((k ? k : 1) * sizeof *out.v);
    if (!out.v)
        st = mm_failf(err, REC_ENOMEM, "out of memory");
    else if (is_user)
        st = rec_model_user_factors(out.v, k, &out.bias, w->h, id, &err->e);
    else
        st = rec_model_movie_factors(out.v, k, &out.bias, w->h, id, &err->e);
    if (mm_check(err, st) == REC_OK)
        out.n = k;
    MM_UNLOCK(w);
    return out;
}

/* ---- tuning: the grid lists by name (both bindings' options) ---- */

/* The real-valued grid lists of rec_tune_options: option name, and
   where the list and its length live. */
#define MM_TUNE_LISTS 8
static const struct mm_tune_list {
    const char *name;
    size_t list, n;
} mm_tune_lists[MM_TUNE_LISTS] = {
    {"regs", offsetof(rec_tune_options, regs),
     offsetof(rec_tune_options, n_regs)},
    {"alphas", offsetof(rec_tune_options, alphas),
     offsetof(rec_tune_options, n_alphas)},
    {"bias_regs", offsetof(rec_tune_options, bias_regs),
     offsetof(rec_tune_options, n_bias_regs)},
    {"bias_priors", offsetof(rec_tune_options, bias_priors),
     offsetof(rec_tune_options, n_bias_priors)},
    {"preference_regs", offsetof(rec_tune_options, preference_regs),
     offsetof(rec_tune_options, n_preference_regs)},
    {"preference_alphas", offsetof(rec_tune_options, preference_alphas),
     offsetof(rec_tune_options, n_preference_alphas)},
    {"blends", offsetof(rec_tune_options, blends),
     offsetof(rec_tune_options, n_blends)},
    {"blend_shrinks", offsetof(rec_tune_options, blend_shrinks),
     offsetof(rec_tune_options, n_blend_shrinks)},
};

/* Index of the grid list option `k` in mm_tune_lists, or -1. */
static int mm_tune_list_index(const char *k)
{
    int i;
    for (i = 0; i < MM_TUNE_LISTS; i++)
        if (!strcmp(k, mm_tune_lists[i].name))
            return i;
    return -1;
}

/* Set grid list i of `o` to v[0..n) (v stays the caller's). */
static void mm_tune_set_list(rec_tune_options *o, int i, const double *v,
                             size_t n)
{
    *(const double **)((char *)o + mm_tune_lists[i].list) = v;
    *(size_t *)((char *)o + mm_tune_lists[i].n) = n;
}

#endif /* MOVIEME_BIND_H */
