/*
 * movieme.i - the SWIG interface shared by every binding of libmovieme.
 *
 * Layout (after xapian-bindings): this file declares the objects and calls;
 * python/movieme_python.i and lua/movieme_lua.i define, before including
 * it, the typemaps that turn the C shapes into each language's idioms:
 *
 *   mm_error *err                  numinputs=0; after the call a non-zero
 *                                  code raises an exception (Python) or
 *                                  error() (Lua). The one place errors cross.
 *   mm_ratings **train_out/test_out  new objects owned by the language (GC).
 *   mm_recs, mm_movie(s), mm_stats, mm_pairs, mm_factors, rec_eval_result
 *                                  returned by value, converted to lists /
 *                                  tuples / tables and freed.
 *   (const rec_rating *rows, size_t n), (const rec_movie_rating *ratings,
 *   size_t n_ratings)              from lists, dicts, tables.
 *   const char *GENRES             "A|B" or a list of strings.
 *   rec_als_params *opts           from a dict/table, with a progress
 *                                  callback trampoline.
 *   const rec_top_n_options *TOPTS from a dict/table (min_count, genre,
 *                                  allow, deny, include_rated); nil/None:
 *                                  the defaults.
 *   mm_explanation                 returned by value: (score, base,
 *                                  reasons) and freed.
 *
 * The objects are the C handles behind a readers/writer lock (see
 * movieme_bind.h): const calls share it, mutators take it exclusively.
 * Rec_* functions themselves are not wrapped one by one; each method below
 * is a thin call of the matching rec_* function (same name without the
 * prefix), so the header's documentation applies.
 */

%{
#include "movieme_bind.h"
%}

%{
/* The two halves of a split as new objects, or an error (both freed). */
static void mm_split_wrap(mm_ratings **train_out, mm_ratings **test_out,
                          rec_status st, rec_ratings *tr, rec_ratings *te,
                          mm_error *err)
{
    if (mm_check(err, st) != REC_OK)
        return;
    *train_out = mm_ratings_wrap(tr, err);
    if (!*train_out) {
        rec_ratings_free(te);
        return;
    }
    *test_out = mm_ratings_wrap(te, err);
    if (!*test_out) {
        mm_ratings_destroy(*train_out);
        *train_out = NULL;
    }
}
%}

%include <stdint.i>

/* The handles as SWIG sees them: opaque structs with methods. */
%rename(Ratings) mm_ratings;
%rename(Model) mm_model;
typedef struct mm_ratings {} mm_ratings;
typedef struct mm_model {} mm_model;
%nodefaultctor mm_model;

%newobject mm_load_movielens;
%newobject mm_load_model;
%newobject mm_train_als;
%newobject mm_ratings::copy;
%newobject mm_model::copy;

/* ---- module functions -------------------------------------------------- */

%rename(version) mm_version;
%rename(version_number) mm_version_number;
%rename(load_movielens) mm_load_movielens;
%rename(load_model) mm_load_model;
%rename(train_als) mm_train_als;

%{
/** The library's version string, e.g. "0.1.0" (rec_version_string). */
static const char *mm_version(void) { return rec_version_string(); }

/** The library's version number, major*10000+minor*100+patch. */
static unsigned mm_version_number(void) { return rec_version_number(); }

/** Load a MovieLens dataset from a directory or ratings file. */
static mm_ratings *mm_load_movielens(const char *path, mm_error *err)
{
    rec_ratings *h = NULL;
    err->path = path;
    if (!path) {
        mm_failf(err, REC_EINVAL, "no path given");
        return NULL;
    }
    if (mm_check(err, rec_load_movielens(&h, path, &err->e)) != REC_OK)
        return NULL;
    return mm_ratings_wrap(h, err);
}

/** Load a model saved by Model.save(). */
static mm_model *mm_load_model(const char *path, mm_error *err)
{
    rec_model *h = NULL;
    err->path = path;
    if (!path) {
        mm_failf(err, REC_EINVAL, "no path given");
        return NULL;
    }
    if (mm_check(err, rec_model_load(&h, path, &err->e)) != REC_OK)
        return NULL;
    return mm_model_wrap(h, err);
}

/** Train an ALS model on a dataset (reads it under its read lock). */
static mm_model *mm_train_als(mm_ratings *r, rec_als_params *opts,
                              mm_error *err)
{
    rec_model *h = NULL;
    rec_als_params defaults;
    const mm_ratings *prev;
    rec_status st;
    if (!r) {
        mm_failf(err, REC_EINVAL, "no dataset given");
        return NULL;
    }
    if (!opts) {
        rec_als_params_init(&defaults);
        opts = &defaults;
    }
    MM_RDLOCK(r);
    prev = mm_training_on;
    mm_training_on = r;
    st = rec_train_als(&h, r->h, opts, &err->e);
    mm_training_on = prev;
    MM_UNLOCK(r);
    if (mm_check(err, st) != REC_OK)
        return NULL;
    return mm_model_wrap(h, err);
}
%}

/* What SWIG wraps of the above (default arguments serve Lua; the Python
   package always passes every argument). */
const char *mm_version(void);
unsigned mm_version_number(void);
mm_ratings *mm_load_movielens(const char *path, mm_error *err);
mm_model *mm_load_model(const char *path, mm_error *err);
mm_model *mm_train_als(mm_ratings *r, rec_als_params *opts = NULL,
                       mm_error *err);

/* ---- Ratings ----------------------------------------------------------- */

%extend mm_ratings {
    /** An empty dataset (rec_ratings_new). */
    mm_ratings(mm_error *err) {
        rec_ratings *h = NULL;
        if (mm_check(err, rec_ratings_new(&h, &err->e)) != REC_OK)
            return NULL;
        return mm_ratings_wrap(h, err);
    }

    ~mm_ratings() { mm_ratings_destroy($self); }

    /** Deep copy (rec_ratings_copy). */
    mm_ratings *copy(mm_error *err) {
        rec_ratings *h = NULL;
        rec_status st;
        MM_RDLOCK($self);
        st = rec_ratings_copy(&h, $self->h, &err->e);
        MM_UNLOCK($self);
        if (mm_check(err, st) != REC_OK)
            return NULL;
        return mm_ratings_wrap(h, err);
    }

    /** Add (user_id, movie_id, rating) rows (rec_ratings_add). Exclusive. */
    void add(const rec_rating *rows, size_t n, mm_error *err) {
        if (mm_ratings_wrlock($self, err) != REC_OK)
            return;
        mm_check(err, rec_ratings_add($self->h, rows, n, &err->e));
        MM_UNLOCK($self);
    }

    /** Set a movie's title and genres (rec_ratings_set_movie). Exclusive. */
    void set_movie(int32_t movie_id, const char *title,
                   const char *GENRES = NULL, mm_error *err) {
        if (!title) {
            mm_failf(err, REC_EINVAL, "no title given");
            return;
        }
        if (mm_ratings_wrlock($self, err) != REC_OK)
            return;
        mm_check(err, rec_ratings_set_movie($self->h, movie_id, title, GENRES,
                                            &err->e));
        MM_UNLOCK($self);
    }

    size_t n_users() {
        size_t n;
        MM_RDLOCK($self);
        n = rec_ratings_n_users($self->h);
        MM_UNLOCK($self);
        return n;
    }
    size_t n_movies() {
        size_t n;
        MM_RDLOCK($self);
        n = rec_ratings_n_movies($self->h);
        MM_UNLOCK($self);
        return n;
    }
    size_t n_ratings() {
        size_t n;
        MM_RDLOCK($self);
        n = rec_ratings_n_ratings($self->h);
        MM_UNLOCK($self);
        return n;
    }

    /** Metadata of one movie (rec_ratings_movie). */
    mm_movie movie(int32_t movie_id, mm_error *err) {
        mm_movie out;
        MM_RDLOCK($self);
        out = mm_movie_get($self->h, NULL, movie_id, err);
        MM_UNLOCK($self);
        return out;
    }

    /** Every movie, by ascending id (rec_ratings_movie_at). */
    mm_movies movies(mm_error *err) {
        mm_movies out;
        MM_RDLOCK($self);
        out = mm_movies_all($self->h, NULL, err);
        MM_UNLOCK($self);
        return out;
    }

    /** A user's (movie_id, rating) pairs by ascending movie id. */
    mm_pairs user_ratings(int32_t user_id, mm_error *err) {
        mm_pairs out;
        rec_rating *rows = NULL;
        size_t i, n = 0;
        out.v = NULL;
        out.n = 0;
        MM_RDLOCK($self);
        if (mm_check(err, rec_ratings_user(NULL, 0, &n, $self->h, user_id,
                                           &err->e)) == REC_OK) {
            rows = (rec_rating *)malloc((n ? n : 1) * sizeof *rows);
            out.v = (rec_movie_rating *)malloc((n ? n : 1) * sizeof *out.v);
            if (!rows || !out.v)
                mm_failf(err, REC_ENOMEM, "out of memory");
            else if (mm_check(err, rec_ratings_user(rows, n, &n, $self->h,
                                                    user_id, &err->e)) ==
                     REC_OK) {
                for (i = 0; i < n; i++) {
                    out.v[i].movie_id = rows[i].movie_id;
                    out.v[i].rating = rows[i].rating;
                }
                out.n = n;
            }
        }
        MM_UNLOCK($self);
        free(rows);
        return out;
    }

    /** Count and average of every movie (rec_ratings_count_avg). */
    mm_stats count_avg(mm_error *err) {
        mm_stats out;
        size_t n = 0;
        out.n = 0;
        MM_RDLOCK($self);
        n = rec_ratings_n_movies($self->h);
        out.v = (rec_movie_stats *)malloc((n ? n : 1) * sizeof *out.v);
        if (!out.v)
            mm_failf(err, REC_ENOMEM, "out of memory");
        else if (mm_check(err, rec_ratings_count_avg(out.v, n, &out.n,
                                                     $self->h, &err->e)) !=
                 REC_OK)
            out.n = 0;
        MM_UNLOCK($self);
        if (out.n > n)
            out.n = n;
        return out;
    }

    /** Best movies by Bayesian average (rec_best_movies). */
    mm_recs best_movies(long long n = 10, long long min_count = 20,
                        double prior_weight = 10.0,
                        const char *genre = NULL, mm_error *err) {
        mm_recs out;
        rec_scored *s = NULL;
        size_t got = 0, cap;
        out.v = NULL;
        out.n = 0;
        if (mm_check_n(n, err) != REC_OK)
            return out;
        if (min_count < 0 || min_count > (long long)UINT32_MAX) {
            mm_failf(err, REC_EINVAL, "min_count must be in [0, 2^32), got %lld",
                     min_count);
            return out;
        }
        MM_RDLOCK($self);
        cap = rec_ratings_n_movies($self->h);
        if ((unsigned long long)n < cap)
            cap = (size_t)n;
        s = (rec_scored *)malloc((cap ? cap : 1) * sizeof *s);
        if (!s)
            mm_failf(err, REC_ENOMEM, "out of memory");
        else if (mm_check(err, rec_best_movies(s, cap, &got, $self->h,
                                               (uint32_t)min_count,
                                               prior_weight, genre,
                                               &err->e)) == REC_OK)
            mm_recs_make(&out, s, got, $self->h, NULL, err);
        MM_UNLOCK($self);
        free(s);
        return out;
    }

    /** Random train/test split (rec_ratings_split): returns (train, test). */
    void split(mm_ratings **train_out, mm_ratings **test_out,
               double test_fraction = 0.1, uint64_t seed = 42,
               mm_error *err) {
        rec_ratings *tr = NULL, *te = NULL;
        rec_status st;
        MM_RDLOCK($self);
        st = rec_ratings_split(&tr, &te, $self->h, test_fraction, seed,
                               &err->e);
        MM_UNLOCK($self);
        mm_split_wrap(train_out, test_out, st, tr, te, err);
    }

    /** Per-user leave-k-out split (rec_ratings_split_per_user): returns
        (train, test). */
    void split_per_user(mm_ratings **train_out, mm_ratings **test_out,
                        int k_out = 5, uint64_t seed = 42, mm_error *err) {
        rec_ratings *tr = NULL, *te = NULL;
        rec_status st;
        MM_RDLOCK($self);
        st = rec_ratings_split_per_user(&tr, &te, $self->h, k_out, seed,
                                        &err->e);
        MM_UNLOCK($self);
        mm_split_wrap(train_out, test_out, st, tr, te, err);
    }

    /** The popularity baseline trained on these ratings, evaluated on
        `test` as Model.evaluate does (rec_evaluate_popularity). */
    rec_eval_result evaluate_popularity(mm_ratings *test, int k = 10,
                                        float relevant_min = 4.0f,
                                        mm_error *err) {
        rec_eval_result out;
        memset(&out, 0, sizeof out);
        if (!test) {
            mm_failf(err, REC_EINVAL, "no test ratings given");
            return out;
        }
        MM_RDLOCK($self);
        if (test != $self)
            MM_RDLOCK(test);
        mm_check(err, rec_evaluate_popularity(&out, $self->h, test->h, k,
                                              relevant_min, &err->e));
        if (test != $self)
            MM_UNLOCK(test);
        MM_UNLOCK($self);
        return out;
    }
}

/* ---- Model ------------------------------------------------------------- */

%extend mm_model {
    ~mm_model() { mm_model_destroy($self); }

    /** Deep copy (rec_model_copy): copy-on-write around add_user. */
    mm_model *copy(mm_error *err) {
        rec_model *h = NULL;
        rec_status st;
        MM_RDLOCK($self);
        st = rec_model_copy(&h, $self->h, &err->e);
        MM_UNLOCK($self);
        if (mm_check(err, st) != REC_OK)
            return NULL;
        return mm_model_wrap(h, err);
    }

    /** Save to a file (rec_model_save), atomically. */
    void save(const char *path, mm_error *err) {
        err->path = path;
        if (!path) {
            mm_failf(err, REC_EINVAL, "no path given");
            return;
        }
        MM_RDLOCK($self);
        mm_check(err, rec_model_save($self->h, path, &err->e));
        MM_UNLOCK($self);
    }

    int rank() {
        int k;
        MM_RDLOCK($self);
        k = rec_model_rank($self->h);
        MM_UNLOCK($self);
        return k;
    }
    size_t n_users() {
        size_t n;
        MM_RDLOCK($self);
        n = rec_model_n_users($self->h);
        MM_UNLOCK($self);
        return n;
    }
    size_t n_movies() {
        size_t n;
        MM_RDLOCK($self);
        n = rec_model_n_movies($self->h);
        MM_UNLOCK($self);
        return n;
    }
    float global_mean() {
        float g;
        MM_RDLOCK($self);
        g = rec_model_global_mean($self->h);
        MM_UNLOCK($self);
        return g;
    }
    bool has_user(int32_t user_id) {
        int k;
        MM_RDLOCK($self);
        k = rec_model_has_user($self->h, user_id);
        MM_UNLOCK($self);
        return k != 0;
    }
    /** True for an implicit-feedback model (rec_model_implicit). */
    bool implicit() {
        int k;
        MM_RDLOCK($self);
        k = rec_model_implicit($self->h);
        MM_UNLOCK($self);
        return k != 0;
    }

    /** Predicted rating (rec_predict); unknown ids fall back to biases. */
    float predict(int32_t user_id, int32_t movie_id, mm_error *err) {
        float p = 0.0f;
        MM_RDLOCK($self);
        mm_check(err, rec_predict(&p, $self->h, user_id, movie_id, &err->e));
        MM_UNLOCK($self);
        return p;
    }

    /** The n best unrated movies for a known user (rec_top_n_ex). */
    mm_recs top_n(int32_t user_id, long long n = 10,
                  const rec_top_n_options *TOPTS = NULL, mm_error *err) {
        return mm_model_ranked($self, MM_TOP_N, user_id, NULL, 0, n, TOPTS,
                               err);
    }

    /** Fold-in recommendations for ratings
        (rec_recommend_for_ratings_ex). */
    mm_recs recommend_for_ratings(const rec_movie_rating *ratings,
                                  size_t n_ratings, long long n = 10,
                                  const rec_top_n_options *TOPTS = NULL,
                                  mm_error *err) {
        return mm_model_ranked($self, MM_FOR_RATINGS, 0, ratings, n_ratings,
                               n, TOPTS, err);
    }

    /** Why movie_id is recommended to a known user (rec_explain). */
    mm_explanation explain(int32_t user_id, int32_t movie_id,
                           long long n = 5, mm_error *err) {
        return mm_explain_run($self, user_id, NULL, 0, 0, movie_id, n, err);
    }

    /** rec_explain_for_ratings: the same for someone not in the model. */
    mm_explanation explain_for_ratings(const rec_movie_rating *ratings,
                                       size_t n_ratings, int32_t movie_id,
                                       long long n = 5, mm_error *err) {
        return mm_explain_run($self, 0, ratings, n_ratings, 1, movie_id, n,
                                err);
    }

    /** True for a hybrid model (rec_model_hybrid). */
    bool hybrid() {
        int k;
        MM_RDLOCK($self);
        k = rec_model_hybrid($self->h);
        MM_UNLOCK($self);
        return k != 0;
    }

    /** The preference model's lambda as trained (rec_model_preference_reg:
        the automatic value by default; 0 when not hybrid). */
    double preference_reg() {
        double v;
        MM_RDLOCK($self);
        v = rec_model_preference_reg($self->h);
        MM_UNLOCK($self);
        return v;
    }

    /** The preference term of predicted ratings (rec_model_rating_pref):
        its weight, and its shift; 0 without one. */
    double rating_pref_weight() {
        double w;
        MM_RDLOCK($self);
        rec_model_rating_pref($self->h, &w, NULL);
        MM_UNLOCK($self);
        return w;
    }

    double rating_pref_shift() {
        double s;
        MM_RDLOCK($self);
        rec_model_rating_pref($self->h, NULL, &s);
        MM_UNLOCK($self);
        return s;
    }

    /** Fold a user into the model (rec_add_user). Takes the write lock. */
    int32_t add_user(const rec_movie_rating *ratings, size_t n_ratings,
                     int32_t user_id = -1, mm_error *err) {
        int32_t id = 0;
        MM_WRLOCK($self);
        mm_check(err, rec_add_user(&id, $self->h, user_id, ratings, n_ratings,
                                   &err->e));
        MM_UNLOCK($self);
        return id;
    }

    /** Forget a user (rec_remove_user). Takes the write lock. */
    void remove_user(int32_t user_id, mm_error *err) {
        MM_WRLOCK($self);
        mm_check(err, rec_remove_user($self->h, user_id, &err->e));
        MM_UNLOCK($self);
    }

    /** Movies most similar by factor cosine (rec_similar_movies_ex). */
    mm_recs similar_movies(int32_t movie_id, long long n = 10,
                           const rec_top_n_options *TOPTS = NULL,
                           mm_error *err) {
        return mm_model_ranked($self, MM_SIMILAR, movie_id, NULL, 0, n, TOPTS,
                               err);
    }

    /** Metadata of one movie (rec_model_movie). */
    mm_movie movie(int32_t movie_id, mm_error *err) {
        mm_movie out;
        MM_RDLOCK($self);
        out = mm_movie_get(NULL, $self->h, movie_id, err);
        MM_UNLOCK($self);
        return out;
    }

    /** Every movie of the model by ascending id (rec_model_movie_at). */
    mm_movies movies(mm_error *err) {
        mm_movies out;
        MM_RDLOCK($self);
        out = mm_movies_all(NULL, $self->h, err);
        MM_UNLOCK($self);
        return out;
    }

    /** A user's factor vector and bias (rec_model_user_factors). */
    mm_factors user_factors(int32_t user_id, mm_error *err) {
        return mm_model_factors($self, 1, user_id, err);
    }

    /** A movie's factor vector and bias (rec_model_movie_factors). */
    mm_factors movie_factors(int32_t movie_id, mm_error *err) {
        return mm_model_factors($self, 0, movie_id, err);
    }

    /** Accuracy and ranking metrics on test ratings (rec_evaluate). */
    rec_eval_result evaluate(mm_ratings *test, int k = 10,
                             float relevant_min = 4.0f, mm_error *err) {
        rec_eval_result out;
        memset(&out, 0, sizeof out);
        if (!test) {
            mm_failf(err, REC_EINVAL, "no test ratings given");
            return out;
        }
        MM_RDLOCK($self);
        MM_RDLOCK(test);
        mm_check(err, rec_evaluate(&out, $self->h, test->h, k, relevant_min,
                                   &err->e));
        MM_UNLOCK(test);
        MM_UNLOCK($self);
        return out;
    }
}

/* ---- tuning (rec_tune_als; issue 11) -------------------------------------
   The options come from a per-language typemap of `rec_tune_options
   *tune_opts` (which owns the grid lists); the outcome goes back through a
   typemap of mm_tuned (the points and the result), which frees `points`. */

%rename(tune_als) mm_tune_als;

%{
typedef struct mm_tuned {
    rec_tune_result result;
    rec_tune_point *points; /* min(n_points, cap) of them, malloc'd */
    size_t n;
    int ok;                 /* 0 after an error: no result */
} mm_tuned;

/** Tune ALS parameters on a validation split (rec_tune_als). */
static mm_tuned mm_tune_als(mm_ratings *r, rec_tune_options *tune_opts,
                            mm_error *err)
{
    mm_tuned t;
    const mm_ratings *prev;
    rec_status st;
    size_t cap = 4096;
    memset(&t, 0, sizeof t);
    if (!r) {
        mm_failf(err, REC_EINVAL, "no dataset given");
        return t;
    }
    t.points = calloc(cap, sizeof *t.points);
    if (!t.points) {
        mm_failf(err, REC_ENOMEM, "out of memory");
        return t;
    }
    MM_RDLOCK(r);
    prev = mm_training_on;
    mm_training_on = r;
    st = rec_tune_als(&t.result, t.points, cap, r->h, tune_opts, &err->e);
    mm_training_on = prev;
    MM_UNLOCK(r);
    if (mm_check(err, st) != REC_OK) {
        free(t.points);
        t.points = NULL;
        return t;
    }
    t.n = t.result.n_points < cap ? t.result.n_points : cap;
    t.ok = 1;
    return t;
}
%}

mm_tuned mm_tune_als(mm_ratings *r, rec_tune_options *tune_opts = NULL,
                     mm_error *err);
