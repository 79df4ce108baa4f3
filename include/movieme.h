/*
 * movieme.h - libmovieme, movie (or any item) recommendations with ALS.
 *
 * This header is the whole public surface of the library and its manual.
 *
 * Conventions (after libgit2 and sqlite):
 *  - Opaque handles (rec_ratings, rec_model) are created through `**out`
 *    parameters and released with their own rec_*_free(), which accepts NULL.
 *  - Calls that can fail return a rec_status: REC_OK (0) or a negative code.
 *    Their last argument is a caller-owned `rec_error *err` (may be NULL) that
 *    receives the code and a message naming the file and line for bad data.
 *  - Argument order: outputs, handle, inputs, err. Results go into caller
 *    buffers (`out`, `cap`, `*n_out`).
 *  - Ids at the API are the external (MovieLens) ids; dense indices stay inside.
 *  - No output on stdout/stderr, no global state, no thread-local storage.
 *
 * Thread safety (see also docs/threading.md):
 *  - Every call that takes a `const` handle may run concurrently with any other
 *    call that takes the same handle as `const`.
 *  - Calls that take a non-const handle (rec_ratings_add, rec_ratings_set_movie,
 *    rec_add_user, rec_remove_user) need exclusive access to that handle: no
 *    other call on it may run at the same time. Use
 *    rec_recommend_for_ratings() to serve a new user without mutating a
 *    shared model, or copy-on-write with rec_model_copy().
 *  - Training reads a const rec_ratings and builds a new model; it never
 *    touches a model that is being served.
 */
#ifndef MOVIEME_H
#define MOVIEME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Version ----------------------------------------------------------- */

#define REC_VERSION_MAJOR 0
#define REC_VERSION_MINOR 2
#define REC_VERSION_PATCH 0
#define REC_VERSION_NUMBER \
    (REC_VERSION_MAJOR * 10000 + REC_VERSION_MINOR * 100 + REC_VERSION_PATCH)
#define REC_VERSION_STRING "0.2.0"

#if defined(_WIN32) && defined(MOVIEME_DLL_EXPORT)
#define REC_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define REC_API __attribute__((visibility("default")))
#else
#define REC_API
#endif

#if defined(__GNUC__)
#define REC_DEPRECATED __attribute__((deprecated))
#else
#define REC_DEPRECATED
#endif

/**
 * The library's version as REC_VERSION_NUMBER (major*10000+minor*100+patch)
 * of the library actually linked, which may differ from the header's.
 * Thread-safe. Since 0.1.
 */
REC_API unsigned rec_version_number(void);

/** The library's version as a static string such as "0.1.0". Since 0.1. */
REC_API const char *rec_version_string(void);

/* ---- Errors ------------------------------------------------------------ */

/** Status code returned by every call that can fail. Values are frozen. */
typedef int rec_status;

#define REC_OK 0
#define REC_EINVAL (-1)     /**< invalid argument (NULL, rank 0, ...) */
#define REC_ENOMEM (-2)     /**< out of memory */
#define REC_EIO (-3)        /**< file cannot be opened, read or written */
#define REC_EFORMAT (-4)    /**< bad data: parse error, bad model file */
#define REC_ENOTFOUND (-5)  /**< unknown user or movie id, missing file */
#define REC_ELAPACK (-6)    /**< a dense solve failed (singular system) */
#define REC_ECANCELED (-7)  /**< the progress callback asked to stop */

/** Size of rec_error.msg, including the terminating NUL. */
#define REC_ERROR_MSG_SIZE 256

/**
 * Error details, owned by the caller (usually on the stack). On failure the
 * library sets `code` to the returned status and writes a NUL-terminated
 * message such as "ratings.csv:17: rating 'abc' is not a number".
 * On success the struct is left untouched. Since 0.1.
 */
typedef struct rec_error {
    int code;
    char msg[REC_ERROR_MSG_SIZE];
} rec_error;

/** Static text for a status code ("invalid argument", ...). Never NULL. */
REC_API const char *rec_strerror(rec_status code);

/* ---- Limits ------------------------------------------------------------ */

/*
 * One set of limits, applied at every door, so that what the library
 * accepts it can also train, save and load again (since 0.2):
 *  - ratings: every rating given to rec_ratings_add(), fold-in
 *    (rec_recommend_for_ratings(), rec_add_user()) or found in a model file
 *    is finite with |rating| <= REC_MAX_RATING; the calls refuse others with
 *    REC_EINVAL (the loader of MovieLens files accepts 0 to 10 only).
 *    Counts, cents or milliseconds up to a million fit; scale larger values
 *    first (e.g. log1p).
 *  - rank: 1 to REC_MAX_RANK, for training (REC_EINVAL) and for every
 *    model file (REC_EFORMAT), so one fold-in on any model costs at most a
 *    rank x rank solve (8 MB of scratch).
 *  - factors and biases: a solved factor or bias beyond REC_MAX_FACTOR
 *    counts as a failed solve (REC_ELAPACK), and a model file holding one
 *    is refused, so rank-long float products cannot overflow.
 */
#define REC_MAX_RATING 1e6
#define REC_MAX_RANK 1024
#define REC_MAX_FACTOR 1e15

/* ---- Plain records ----------------------------------------------------- */

/** One rating: a user gave a movie a rating (MovieLens ids). */
typedef struct rec_rating {
    int32_t user_id;
    int32_t movie_id;
    float rating;
} rec_rating;

/** One rating by an implied user (input to fold-in and rec_add_user). */
typedef struct rec_movie_rating {
    int32_t movie_id;
    float rating;
} rec_movie_rating;

/**
 * A movie, the score it was ranked by, and a rating to show beside it.
 *  - top-N and fold-in results: `score` is the ranking score (see
 *    rec_top_n()), `rating` the user's predicted rating, clamped to the
 *    training rating range (what a site shows as "4.3 predicted").
 *  - rec_similar_movies(): `score` is the cosine similarity, `rating` the
 *    movie's baseline (global mean + movie bias, clamped).
 *  - rec_best_movies(): `score` is the Bayesian average, `rating` the plain
 *    mean rating.
 * Since 0.1; `rating` since 0.2.
 */
typedef struct rec_scored {
    int32_t movie_id;
    float score;
    float rating;
} rec_scored;

/** Per-movie rating count and average, from rec_ratings_count_avg(). */
typedef struct rec_movie_stats {
    int32_t movie_id;
    uint32_t count;
    double average; /**< 0 when count is 0 */
} rec_movie_stats;

/**
 * Movie metadata. The strings are UTF-8, NUL-terminated, never NULL (empty
 * when unknown) and owned by the handle they came from: valid until that
 * handle is freed (or, for a model, until the next rec_add_user on it).
 */
typedef struct rec_movie_info {
    int32_t movie_id;
    int32_t year;         /**< release year parsed from the title, 0 if none */
    uint32_t n_ratings;   /**< ratings seen in the training data */
    float mean_rating;    /**< their average, 0 when n_ratings is 0 */
    const char *title;    /**< e.g. "Toy Story (1995)" */
    const char *genres;   /**< '|'-separated, e.g. "Animation|Comedy" */
} rec_movie_info;

/* ---- Ratings (the dataset) --------------------------------------------- */

/** A set of ratings, indexed by user and by movie, with movie metadata. */
typedef struct rec_ratings rec_ratings;

/**
 * Load a MovieLens dataset from a directory or from a ratings file.
 *
 * The layout is detected: ml-100k (u.data + u.item, latin-1), ml-1m/ml-10m
 * (ratings.dat + movies.dat with "::", latin-1), and the CSV layouts
 * (ratings.csv + movies.csv with a header: ml-latest, ml-latest-small,
 * ml-20m, ml-25m, ml-32m, UTF-8). Given a ratings file, the movies file is
 * looked up beside it; it is optional. Titles come out as UTF-8. Duplicate
 * (user, movie) rows: the last one wins.
 *
 * Columns read: user id, movie id and rating; the fourth column, the
 * timestamp, is checked (a non-negative integer) and not kept. A CSV file
 * whose header (or first row, when it has no header) has three columns,
 * such as `userId,movieId,rating`, has no timestamps (since 0.2). Every row
 * must have the file's column count.
 *
 * Details: a given file's layout comes from its extension (.csv, .dat), else
 * from its first line (tab: ml-100k style, so u1.base and u1.test load too).
 * Text in .dat and u.item files that is valid UTF-8 is kept (ml-10m), the
 * rest read as latin-1. ml-100k genres are the names in u.genre (or the
 * standard list) of the flag columns set. Accepted: CRLF, a UTF-8 BOM, no
 * final newline, blank lines, a CSV header (skipped when it starts with a
 * letter or a quote). Rejected with REC_EFORMAT and "file:line: what":
 * missing or extra columns, non-numeric fields, ratings that are negative,
 * above 10 or not plain decimals (nan, inf, 1e3), negative ids or ids above
 * 2147483647, invalid UTF-8 in CSV text, an unterminated quote, an empty
 * file or one with no ratings, a ratings line longer than 1 MiB. Movies
 * listed without ratings are included with no ratings. Parsing runs in
 * parallel (OpenMP's default thread count). The ratings file is read, not
 * mapped: a file that another process truncates while it loads gives
 * REC_EIO ("file: the file changed while it was read ..."), never a signal.
 *
 * @param[out] out  the new dataset, to free with rec_ratings_free()
 * @param path      a directory or a ratings file
 * @return REC_OK; REC_ENOTFOUND (no ratings file), REC_EIO (unreadable, or
 *         changed while read), REC_EFORMAT (bad row: err names file and
 *         line), REC_ENOMEM,
 *         REC_EINVAL (NULL argument).
 * Thread-safe (no shared state). Since 0.1.
 */
REC_API rec_status rec_load_movielens(rec_ratings **out, const char *path,
                                      rec_error *err);

/**
 * Create an empty dataset, to fill with rec_ratings_add() and
 * rec_ratings_set_movie() (an application's own ratings, no files).
 * Since 0.1.
 */
REC_API rec_status rec_ratings_new(rec_ratings **out, rec_error *err);

/** Deep copy of a dataset (e.g. MovieLens plus the site's members). */
REC_API rec_status rec_ratings_copy(rec_ratings **out, const rec_ratings *src,
                                    rec_error *err);

/** Free a dataset. NULL does nothing. Since 0.1. */
REC_API void rec_ratings_free(rec_ratings *r);

/**
 * Add ratings to a dataset. New users and movies are created as needed.
 * A (user, movie) pair already present, or repeated in `rows`, takes the
 * last value given. Ratings must be finite with |rating| <= REC_MAX_RATING
 * (REC_EINVAL naming the row and the value otherwise); ids must be >= 0.
 * Cost: O(total ratings) per call, so add in batches.
 * On error the dataset is unchanged.
 * Needs exclusive access to `r`. Since 0.1.
 */
REC_API rec_status rec_ratings_add(rec_ratings *r, const rec_rating *rows,
                                   size_t n, rec_error *err);

/**
 * Set (or replace) a movie's title and genres; creates the movie if it has
 * no ratings yet. The year is parsed from a trailing "(YYYY)" in the title.
 * `genres` may be NULL. Needs exclusive access to `r`. Since 0.1.
 */
REC_API rec_status rec_ratings_set_movie(rec_ratings *r, int32_t movie_id,
                                         const char *title, const char *genres,
                                         rec_error *err);

REC_API size_t rec_ratings_n_users(const rec_ratings *r);  /**< users */
REC_API size_t rec_ratings_n_movies(const rec_ratings *r); /**< movies, rated or not */
REC_API size_t rec_ratings_n_ratings(const rec_ratings *r);/**< ratings */

/**
 * Metadata of one movie by id. REC_ENOTFOUND for an unknown id.
 * The strings live as long as `r` is not freed or modified. Since 0.1.
 */
REC_API rec_status rec_ratings_movie(rec_movie_info *out, const rec_ratings *r,
                                     int32_t movie_id, rec_error *err);

/**
 * Metadata of the movie at position `index` (0 <= index < n_movies, in
 * ascending movie id order), to enumerate the catalogue. Since 0.1.
 */
REC_API rec_status rec_ratings_movie_at(rec_movie_info *out,
                                        const rec_ratings *r, size_t index,
                                        rec_error *err);

/**
 * The ratings of one user, by ascending movie id. Writes min(cap, count)
 * rows and sets *n_out to the user's full count (call with cap 0 to size).
 * REC_ENOTFOUND for an unknown user. Since 0.1.
 */
REC_API rec_status rec_ratings_user(rec_rating *out, size_t cap, size_t *n_out,
                                    const rec_ratings *r, int32_t user_id,
                                    rec_error *err);

/**
 * Number of ratings and average rating of every movie, by ascending movie id
 * (movies without ratings have count 0 and average 0). Writes min(cap,
 * n_movies) entries and sets *n_out to n_movies. Since 0.1.
 */
REC_API rec_status rec_ratings_count_avg(rec_movie_stats *out, size_t cap,
                                         size_t *n_out, const rec_ratings *r,
                                         rec_error *err);

/**
 * The best movies by an honest average: a Bayesian average
 * (prior_weight * global_mean + sum) / (prior_weight + count), among movies
 * with at least `min_count` ratings, optionally of one genre.
 * prior_weight 0 gives the plain average. Ties: more ratings first, then
 * lower movie id. Writes up to `n` results, *n_out tells how many.
 * @param genre  NULL or "" for all genres, else e.g. "Comedy" (exact,
 *               case-insensitive match of one '|'-separated genre)
 * Since 0.1.
 */
REC_API rec_status rec_best_movies(rec_scored *out, size_t n, size_t *n_out,
                                   const rec_ratings *r, uint32_t min_count,
                                   double prior_weight, const char *genre,
                                   rec_error *err);

/**
 * Split a dataset into train and test sets at random: each rating goes to
 * the test set with probability `test_fraction` (0 <= f < 1). Deterministic
 * for a given seed, whatever the thread count. Movie metadata is copied to
 * both. Since 0.1.
 */
REC_API rec_status rec_ratings_split(rec_ratings **train_out,
                                     rec_ratings **test_out,
                                     const rec_ratings *r,
                                     double test_fraction, uint64_t seed,
                                     rec_error *err);

/**
 * Per-user hold-out split (leave-k-out): of each user with more than
 * `k_out` ratings, `k_out` ratings chosen at random go to the test set and
 * the rest to the training set; users with `k_out` ratings or fewer stay
 * whole in training (so every test user is known to a model trained on
 * the training set). Deterministic for a given seed and dataset, whatever
 * the thread count. Movie metadata is copied to both.
 * @return REC_OK; REC_EINVAL (NULL, k_out < 1), REC_ENOMEM.
 * Since 0.1 (params version 2).
 */
REC_API rec_status rec_ratings_split_per_user(rec_ratings **train_out,
                                              rec_ratings **test_out,
                                              const rec_ratings *r, int k_out,
                                              uint64_t seed, rec_error *err);

/* ---- Training ---------------------------------------------------------- */

/** Progress report given to rec_progress_fn after each iteration. */
typedef struct rec_progress {
    int iteration;      /**< 1-based iteration just finished */
    int iterations;     /**< total asked for */
    double train_rmse;  /**< RMSE on the training ratings */
    double loss;        /**< regularised objective being minimised */
    double seconds;     /**< wall time since training started */
} rec_progress;

/**
 * Progress callback, called from the thread that called rec_train_als()
 * (never from worker threads). Return 0 to go on, non-zero to cancel:
 * training then returns REC_ECANCELED and produces no model.
 */
typedef int (*rec_progress_fn)(void *userdata, const rec_progress *progress);

#define REC_ALS_PARAMS_VERSION 4

/** Interaction weighting (rec_als_params.preference_weighting and
    implicit_weighting). */
#define REC_WEIGHT_NONE 0 /**< every interaction weighs r (see `implicit`) */
#define REC_WEIGHT_BM25 1 /**< Okapi BM25: r * idf(movie) * (k1 + 1) /
                               (k1 * (1 - b + b * len(user) / avg_len) + r),
                               idf = log(users) - log1p(count(movie)):
                               discounts popular movies and heavy raters
                               (as the implicit library's bm25_weight) */

/** Confidence of an interaction of weight w in the preference model
    (rec_als_params.preference_confidence). */
#define REC_CONFIDENCE_LINEAR 0 /**< c = 1 + alpha * w (Hu, Koren and
                                     Volinsky 2008; Spark), never below an
                                     unseen pair's 1 */
#define REC_CONFIDENCE_SCALED 1 /**< c = alpha * w (the implicit library's
                                     form): on BM25 weights, an interaction
                                     with a popular movie by a heavy rater
                                     can weigh less than an unseen pair,
                                     which spreads the lists over more of
                                     the catalogue (docs/ranking.md) */

/** rec_als_params.preference_reg: derive the preference model's lambda from
    the data at training time (the default; docs/ranking.md): lambda = 0.15 *
    preference_alpha * (sum of the interaction weights) / sqrt(users *
    movies with a rating). The trained model keeps the value it used
    (rec_model_preference_reg). Since 0.2. */
#define REC_PREFERENCE_REG_AUTO (-1.0)

/** Solvers of implicit ALS (rec_als_params.solver). */
#define REC_SOLVER_CG 0       /**< conjugate gradient, warm-started (default) */
#define REC_SOLVER_CHOLESKY 1 /**< exact: the full normal equations per row */

/**
 * ALS parameters. Fill with rec_als_params_init() and change what you need;
 * fields are only ever added at the end (`version` tells which exist).
 * Names follow Spark MLlib's ALS.
 */
typedef struct rec_als_params {
    uint32_t version;      /**< REC_ALS_PARAMS_VERSION */
    int rank;              /**< latent factors, 1 to REC_MAX_RANK (default
                                32) */
    int iterations;        /**< maxIter (default 10) */
    double reg;            /**< regParam, scaled by each row's count (ALS-WR;
                                default 0.12) */
    uint64_t seed;         /**< initialisation seed (default 42) */
    int n_threads;         /**< OpenMP threads, 0 = OpenMP's default */
    int nonnegative;       /**< non-zero: factors kept >= 0 (NNLS) */
    int biases;            /**< non-zero (default): global, user, item biases */
    double bias_reg;       /**< regularisation of the biases (ALS-WR scaled;
                                default 0.1) */
    rec_progress_fn progress; /**< optional, NULL for none */
    void *progress_userdata;  /**< handed to `progress` */
    /* ---- version 2: implicit feedback (docs/implicit.md) ---- */
    int implicit;          /**< non-zero: implicit-feedback ALS (Hu, Koren and
                                Volinsky 2008; Spark's implicitPrefs). Each
                                rating that counts is an interaction r with
                                preference 1 and confidence 1 + alpha * r;
                                every other movie has preference 0 and
                                confidence 1. No biases; `reg` is the plain
                                lambda (not scaled by counts); `nonnegative`
                                is not supported (REC_EINVAL). Default 0. */
    double alpha;          /**< confidence slope, > 0 (default 1.0) */
    int solver;            /**< REC_SOLVER_CG (default) or
                                REC_SOLVER_CHOLESKY */
    int cg_steps;          /**< CG steps per row and half-iteration, warm-
                                started from the previous factors (default 3) */
    float implicit_min_rating; /**< ratings below this are no interaction
                                    (default 0: every rating counts) */
    int implicit_weight_by_value; /**< 0 (default): r = 1 for every rating
                                       that counts; non-zero: r = the rating */
    /* ---- version 3: one model that ranks well and predicts stars ---- */
    int preference;        /**< explicit mode (implicit == 0) only. Non-zero
                                (default): besides the rating model, learn
                                a preference model from the same ratings
                                treated as interactions (what people chose
                                to rate, each weighing its rating: implicit
                                ALS with `preference_weighting`,
                                `preference_alpha`, `preference_reg`), and
                                rank top-N by preference plus `blend` times
                                the predicted rating (docs/ranking.md).
                                0: an explicit-only model that ranks by
                                predicted rating, as in 0.1. */
    int preference_rank;   /**< factors of the preference model (default
                                128; 0 = `rank`) */
    double preference_reg; /**< its lambda (plain, not scaled by counts),
                                >= 0, or REC_PREFERENCE_REG_AUTO (default):
                                grown with the data so that the same
                                defaults suit 600 and 14,000 users */
    double preference_alpha; /**< its confidence slope (default 0.3) */
    int preference_iterations; /**< its ALS iterations, 0 (default) =
                                    `iterations` */
    int preference_weighting; /**< REC_WEIGHT_BM25 (default) or
                                   REC_WEIGHT_NONE: the interaction weights
                                   of the preference model */
    int implicit_weighting; /**< the same for implicit mode: REC_WEIGHT_NONE
                                 (default, the 0.1 behaviour) or
                                 REC_WEIGHT_BM25 */
    double bm25_k1;        /**< BM25 saturation (default 100) */
    double bm25_b;         /**< BM25 length normalisation, 0..1 (default
                                1) */
    double blend;          /**< weight in the ranking score of the
                                personal part of the predicted rating
                                (x_u . y_j + b_u: how much more than the
                                movie's baseline this user should like it;
                                default 0.2), >= 0 */
    double blend_shrink;   /**< the predicted rating's part in the ranking
                                counts n / (n + blend_shrink) for a movie
                                with n training ratings (default 10), so
                                that factors learnt from a few ratings do
                                not fill the lists; >= 0 */
    double bias_prior;     /**< explicit biases: a constant added to their
                                ALS-WR penalty, bias_reg * count +
                                bias_prior, so that movies and users with
                                few ratings are shrunk toward the mean
                                (Koren's baseline predictors; default 0.5; 0
                                is the 0.1 behaviour) */
    int preference_confidence; /**< REC_CONFIDENCE_SCALED (default since
                                    0.2's ranking defaults) or
                                    REC_CONFIDENCE_LINEAR: the preference
                                    model's confidence form (implicit mode
                                    always uses the linear one) */
    /* ---- version 4: what people choose to rate, in predicted ratings ---- */
    double rating_pref_weight; /**< hybrid models: the predicted rating of
                                    a known user and movie (rec_predict, and
                                    the rating beside a result) adds
                                    rating_pref_weight * s +
                                    rating_pref_shift, s being the
                                    preference model's score of the pair: a
                                    movie that fits what a user chooses to
                                    watch gets more stars than the rating
                                    factors alone predict (the signal of
                                    Koren's SVD++; docs/tuning.md). The
                                    ranking is unchanged. Default 0 and 0
                                    (none): rec_tune_als() fits both on its
                                    validation ratings. Finite; non-zero
                                    needs the hybrid model. Since 0.2. */
    double rating_pref_shift;  /**< see rating_pref_weight (default 0) */
} rec_als_params;

/** Fill `p` with the defaults (including `version`). Since 0.1. */
REC_API void rec_als_params_init(rec_als_params *p);

/** A trained model: everything serving needs, nothing else. */
typedef struct rec_model rec_model;

/**
 * Train an explicit-feedback ALS model (matrix factorisation with biases),
 * or with `params->implicit` an implicit-feedback one (see rec_als_params).
 * The same data, parameters, seed and thread count give a bit-identical
 * model (in both modes, whatever the thread count). BLAS is never called from inside the parallel region, so OpenBLAS
 * threads never multiply with OpenMP threads.
 *
 * @param[out] out  the new model, to free with rec_model_free()
 * @return REC_OK; REC_EINVAL (bad parameter, empty dataset), REC_ENOMEM,
 *         REC_ECANCELED (callback), REC_ELAPACK: the normal equations of a
 *         user or movie could not be solved (non-finite values; err says
 *         how many rows and at which iteration). Training then stops and
 *         produces no model: no row is ever left with made-up zero factors.
 *         A rank-deficient system (reg 0, fewer ratings than factors) is
 *         not a failure: a tiny ridge gives its near minimum-norm solution.
 * Thread-safe: reads `r` only. Since 0.1.
 */
REC_API rec_status rec_train_als(rec_model **out, const rec_ratings *r,
                                 const rec_als_params *params, rec_error *err);

/* ---- Model ------------------------------------------------------------- */

/** Free a model. NULL does nothing. Since 0.1. */
REC_API void rec_model_free(rec_model *m);

/** Deep copy (copy-on-write around rec_add_user). Since 0.1. */
REC_API rec_status rec_model_copy(rec_model **out, const rec_model *m,
                                  rec_error *err);

REC_API int rec_model_rank(const rec_model *m);        /**< factors */
REC_API size_t rec_model_n_users(const rec_model *m);  /**< known users */
REC_API size_t rec_model_n_movies(const rec_model *m); /**< known movies */
REC_API float rec_model_global_mean(const rec_model *m);
/** Non-zero when the model knows this user id. */
REC_API int rec_model_has_user(const rec_model *m, int32_t user_id);
/** Non-zero for a model trained with implicit feedback. Since 0.1 (params
    version 2). */
REC_API int rec_model_implicit(const rec_model *m);

/** Movie metadata by id, as rec_ratings_movie(). Since 0.1. */
REC_API rec_status rec_model_movie(rec_movie_info *out, const rec_model *m,
                                   int32_t movie_id, rec_error *err);

/** Movie metadata by position (ascending movie id). Since 0.1. */
REC_API rec_status rec_model_movie_at(rec_movie_info *out, const rec_model *m,
                                      size_t index, rec_error *err);

/**
 * Copy a user's factor vector (rank floats) and bias. For inspection and
 * tests. `out` may be NULL to read the bias only; otherwise `cap` must be
 * at least the rank (REC_EINVAL). REC_ENOTFOUND for an unknown user.
 * Since 0.1.
 */
REC_API rec_status rec_model_user_factors(float *out, size_t cap,
                                          float *bias_out, const rec_model *m,
                                          int32_t user_id, rec_error *err);

/** Copy a movie's factor vector (rank floats) and bias. Since 0.1. */
REC_API rec_status rec_model_movie_factors(float *out, size_t cap,
                                           float *bias_out, const rec_model *m,
                                           int32_t movie_id, rec_error *err);

/**
 * Predicted rating of `movie_id` by `user_id`, clamped to the training
 * rating range. Unknown ids fall back to the biases: an unknown user gets
 * global mean + movie bias, an unknown movie global mean + user bias.
 * An implicit model (rec_model_implicit) returns the preference score
 * x_u . y_i instead, not clamped (about 1 for a movie the user would
 * watch, about 0 for one they would not; 0 for unknown ids); rec_top_n
 * ranks by the same score.
 * Thread-safe on a const model. Since 0.1.
 */
REC_API rec_status rec_predict(float *out, const rec_model *m, int32_t user_id,
                               int32_t movie_id, rec_error *err);

/**
 * Which movies may be recommended (candidate control), for rec_top_n_ex(),
 * rec_recommend_for_ratings_ex(), rec_similar_movies_ex() and
 * rec_explain(). Fill with rec_top_n_options_init() and change what you
 * need; fields are only ever added at the end. A movie is a candidate when
 * all of these hold:
 *  - it has at least `min_count` training ratings, and at least one unless
 *    it is in `allow` (a movie nobody rated is never recommended unless
 *    asked for by name);
 *  - `allow` is NULL, or it is in `allow`;
 *  - it is not in `deny`;
 *  - `genre` is NULL or "", or it has that genre (exact, case-insensitive
 *    match of one '|'-separated genre);
 *  - the user did not rate it, unless `include_rated` (for similar movies:
 *    it is not the movie itself).
 * Ids unknown to the model in `allow` or `deny` are ignored. The arrays
 * are read during the call only. Since 0.2.
 */
typedef struct rec_top_n_options {
    uint32_t version;       /**< REC_TOP_N_OPTIONS_VERSION */
    uint32_t min_count;     /**< training ratings a candidate needs (0) */
    int include_rated;      /**< non-zero: rated movies are candidates (0) */
    const int32_t *allow;   /**< NULL (default) or the only candidates */
    size_t n_allow;
    const int32_t *deny;    /**< NULL (default) or movies never returned */
    size_t n_deny;
    const char *genre;      /**< NULL (default) or one genre */
} rec_top_n_options;

#define REC_TOP_N_OPTIONS_VERSION 1

/** Fill `o` with the defaults (including `version`). Since 0.2. */
REC_API void rec_top_n_options_init(rec_top_n_options *o);

/**
 * The `n` best movies for a known user, leaving out the movies the user
 * rated. Order: score descending, then movie id ascending. Each result has
 * the ranking score and the user's predicted rating (rec_scored.rating,
 * clamped to the training rating range).
 *
 * The ranking score depends on the model (docs/ranking.md):
 *  - hybrid (the default of rec_als_params_init): the preference score
 *    x_u . y_j of the preference model plus `blend` times the predicted
 *    rating minus the global mean;
 *  - explicit-only (`preference` 0): the predicted rating before clamping,
 *    so the order keeps its resolution above the top rating;
 *  - implicit-only: the preference score (rating: the movie's mean).
 * A user without ratings the model can use (cold start) gets the movies
 * by Bayesian average rating, (10 * mean of all ratings + sum of the
 * movie's ratings) / (10 + count): a non-personal "best" list, never id
 * order. Writes min(n, candidates) results and sets *n_out to that number.
 * REC_ENOTFOUND for an unknown user. Thread-safe on a const model.
 * Since 0.1.
 */
REC_API rec_status rec_top_n(rec_scored *out, size_t n, size_t *n_out,
                             const rec_model *m, int32_t user_id,
                             rec_error *err);

/**
 * rec_top_n() with candidate control (`opts` NULL: the defaults, the same
 * as rec_top_n()). REC_EINVAL for an unknown options version or NULL
 * arrays with non-zero counts. Since 0.2.
 */
REC_API rec_status rec_top_n_ex(rec_scored *out, size_t n, size_t *n_out,
                                const rec_model *m, int32_t user_id,
                                const rec_top_n_options *opts,
                                rec_error *err);

/**
 * Recommendations for someone who is not in the model, from their ratings:
 * solves their factors with the movie factors fixed (fold-in) and ranks as
 * rec_top_n(). Movies unknown to the model are ignored; duplicates: last
 * wins. Ratings must be finite with |rating| <= REC_MAX_RATING (REC_EINVAL).
 * Does not change the model: thread-safe on a const model, the way
 * a web server serves a new member instantly. Since 0.1.
 */
REC_API rec_status rec_recommend_for_ratings(rec_scored *out, size_t n,
                                             size_t *n_out, const rec_model *m,
                                             const rec_movie_rating *ratings,
                                             size_t n_ratings, rec_error *err);

/** rec_recommend_for_ratings() with candidate control (NULL: defaults). An
    empty (or all-unknown) list of ratings gets the cold-start ranking.
    Since 0.2. */
REC_API rec_status rec_recommend_for_ratings_ex(
    rec_scored *out, size_t n, size_t *n_out, const rec_model *m,
    const rec_movie_rating *ratings, size_t n_ratings,
    const rec_top_n_options *opts, rec_error *err);

/** Pass as `user_id` to rec_add_user() to get a fresh id. */
#define REC_NEW_USER (-1)

/**
 * Fold a user's ratings into the model without retraining: their factors
 * are solved with the movie factors fixed, and rec_top_n()/rec_predict()
 * serve them at once.
 *  - user_id == REC_NEW_USER: a new user with id (largest known id + 1).
 *  - an unknown id >= 0: a new user with that id.
 *  - a known id: the ratings are merged into the user's (re-rating a movie
 *    replaces the old rating) and the factors solved again.
 * Ratings of movies unknown to the model are ignored; every rating must be
 * finite with |rating| <= REC_MAX_RATING (REC_EINVAL, the model unchanged).
 * REC_ELAPACK if the user's factors cannot be solved within the limits
 * (see "Limits"). *user_id_out receives the user's id.
 * Needs exclusive access to `m` (no concurrent call of any kind on it);
 * for concurrent serving use rec_model_copy() and swap, or
 * rec_recommend_for_ratings(). Since 0.1.
 */
REC_API rec_status rec_add_user(int32_t *user_id_out, rec_model *m,
                                int32_t user_id,
                                const rec_movie_rating *ratings, size_t n,
                                rec_error *err);

/**
 * Forget a user: afterwards rec_model_has_user() is 0 for `user_id`,
 * rec_top_n() gives REC_ENOTFOUND, rec_predict() falls back to the biases,
 * rec_model_n_users() counts one less, and a model saved from `m` does not
 * hold the user. Works for trained users and for users added by
 * rec_add_user(); a later rec_add_user() with the same id creates the user
 * afresh from the ratings it is given (nothing of the old ratings is
 * merged), which is how a server replaces a member's fold-in when a rating
 * was removed. The movie factors and every other user (factors, rated
 * movies, results) stay as they were.
 * @return REC_OK; REC_ENOTFOUND for an unknown user (the model is
 *         unchanged); REC_EINVAL for a NULL model; REC_ENOMEM (the model is
 *         unchanged).
 * Needs exclusive access to `m`, like rec_add_user(). Since 0.1.
 */
REC_API rec_status rec_remove_user(rec_model *m, int32_t user_id,
                                   rec_error *err);

/**
 * The `n` movies most similar to `movie_id` by cosine of their factor
 * vectors, excluding the movie itself. Order: score descending, then id.
 * REC_ENOTFOUND for an unknown movie. Thread-safe on a const model.
 * Since 0.1.
 */
REC_API rec_status rec_similar_movies(rec_scored *out, size_t n, size_t *n_out,
                                      const rec_model *m, int32_t movie_id,
                                      rec_error *err);

/** rec_similar_movies() with candidate control (NULL: defaults;
    `include_rated` has no meaning here). Since 0.2. */
REC_API rec_status rec_similar_movies_ex(rec_scored *out, size_t n,
                                         size_t *n_out, const rec_model *m,
                                         int32_t movie_id,
                                         const rec_top_n_options *opts,
                                         rec_error *err);

/* ---- Explanations ------------------------------------------------------ */

/** One of the user's rated movies and what it contributed to a score. */
typedef struct rec_reason {
    int32_t movie_id;  /**< a movie the user rated */
    float weight;      /**< its additive contribution to the score */
    float share;       /**< weight / sum of |weight| over the user's movies */
} rec_reason;

/**
 * Why `movie_id` is recommended to a known user: the ranking score
 * decomposed over the movies the user rated (Hu, Koren and Volinsky 2008,
 * section 5, for the preference part; the same linear form of the
 * rating model's normal equations for the predicted rating). With the
 * movie factors fixed, the user's factors are a linear function of their
 * ratings, so
 *     score = sum of reasons' weight + *base_out
 * where *base_out is what does not come from any one rating (the global
 * mean and movie bias in the blend). The decomposition is exact for the
 * user's factors solved from their ratings (fold-in); for a trained user
 * whose preference factors came from conjugate-gradient steps, *score_out
 * (the decomposed score) can differ from rec_top_n()'s score in the last
 * digits. Writes the min(cap, rated) largest reasons by weight
 * (descending), sets *n_out to that number and, when not NULL, *score_out
 * and *base_out. REC_ENOTFOUND for an unknown user or movie.
 * Thread-safe on a const model. Since 0.2.
 */
REC_API rec_status rec_explain(rec_reason *out, size_t cap, size_t *n_out,
                               float *score_out, float *base_out,
                               const rec_model *m, int32_t user_id,
                               int32_t movie_id, rec_error *err);

/** rec_explain() for someone not in the model, from their ratings (as
    rec_recommend_for_ratings()). Since 0.2. */
REC_API rec_status rec_explain_for_ratings(rec_reason *out, size_t cap,
                                           size_t *n_out, float *score_out,
                                           float *base_out,
                                           const rec_model *m,
                                           const rec_movie_rating *ratings,
                                           size_t n_ratings, int32_t movie_id,
                                           rec_error *err);

/** Non-zero for a hybrid model (rating and preference models). Since 0.2. */
REC_API int rec_model_hybrid(const rec_model *m);

/** The lambda a hybrid model's preference model was trained with: the
    automatic value when preference_reg was REC_PREFERENCE_REG_AUTO, else the
    value given (also what fold-in and rec_explain use, and what model files
    keep). 0 for explicit-only and implicit models and for NULL. Thread-safe
    with readers. Since 0.2. */
REC_API double rec_model_preference_reg(const rec_model *m);

/**
 * The preference term of the model's predicted ratings
 * (rec_als_params.rating_pref_weight and rating_pref_shift); 0 and 0 for
 * a model without one. Either pointer may be NULL. Since 0.2.
 */
REC_API void rec_model_rating_pref(const rec_model *m, double *weight,
                                   double *shift);

/* ---- Batch serving ----------------------------------------------------- */

/**
 * The ids of the model's users, in the order rec_top_n_each() visits them
 * with user_ids == NULL. Writes min(cap, rec_model_n_users(m)) ids and sets
 * *n_out to that number. Thread-safe on a const model. Since 0.2.
 */
REC_API rec_status rec_model_user_ids(int32_t *out, size_t cap, size_t *n_out,
                                      const rec_model *m, rec_error *err);

/**
 * rec_top_n() for many users at once: row i of `out` (entries
 * [i*n, i*n + n_out[i])) holds the top n of user_ids[i], exactly what
 * rec_top_n() gives that user (same movies, scores, ties and order). `out`
 * holds n_users * n entries, `n_out` n_users counts; both owned by the
 * caller. Scoring is a matrix product per block of users and tile of
 * movies (OpenBLAS SGEMM, single-threaded inside; OpenMP across blocks,
 * omp_get_max_threads() threads), about 3 MB of scratch per thread plus a
 * copy of the movies' ranking vectors; tiles are visited in descending
 * order of the movies' vector norms and a user stops when no remaining
 * movie can reach their list. The chosen movies are scored again with
 * rec_top_n's own kernel, so results do not depend on BLAS.
 * `opts` as rec_top_n_ex() (NULL: the defaults).
 * @return REC_OK; REC_ENOTFOUND for an unknown user id (the message names
 *         it; nothing is written); REC_EINVAL; REC_ENOMEM.
 * Thread-safe on a const model. Since 0.2.
 */
REC_API rec_status rec_top_n_many(rec_scored *out, size_t n, size_t *n_out,
                                  const rec_model *m, const int32_t *user_ids,
                                  size_t n_users,
                                  const struct rec_top_n_options *opts,
                                  rec_error *err);

/**
 * One block of rec_top_n_each() results: users[i]'s top list is
 * top[i*n .. i*n + n_out[i]). The arrays are the library's and valid
 * during the call only. Return 0 to go on, non-zero to stop.
 */
typedef int (*rec_top_n_block_fn)(void *userdata, const int32_t *users,
                                  size_t n_users, const rec_scored *top,
                                  const size_t *n_out, size_t n);

/**
 * rec_top_n_many() block by block, so that recommend-all never holds all
 * results: the users are ranked in blocks (a few thousand at a time) and
 * `fn` is called once per block, in the order of `user_ids`, from the
 * calling thread (it needs no locking). user_ids == NULL ranks every user
 * of the model (n_users is then ignored), in rec_model_user_ids() order.
 * @return REC_OK; REC_ECANCELED when `fn` returned non-zero;
 *         REC_ENOTFOUND (an unknown id, before any callback); REC_EINVAL;
 *         REC_ENOMEM. Thread-safe on a const model. Since 0.2.
 */
REC_API rec_status rec_top_n_each(const rec_model *m, const int32_t *user_ids,
                                  size_t n_users, size_t n,
                                  const struct rec_top_n_options *opts,
                                  rec_top_n_block_fn fn, void *userdata,
                                  rec_error *err);

/**
 * rec_predict() for n pairs (user_ids[i], movie_ids[i]) into out[i], with
 * its fallbacks for unknown ids (so it only fails on bad arguments).
 * Parallel (OpenMP) for large n. Thread-safe on a const model. Since 0.2.
 */
REC_API rec_status rec_predict_many(float *out, const rec_model *m,
                                    const int32_t *user_ids,
                                    const int32_t *movie_ids, size_t n,
                                    rec_error *err);

/**
 * rec_similar_movies() for many movies: row i of `out` (n entries each)
 * holds what rec_similar_movies() gives movie_ids[i], n_out[i] its count.
 * Movies in parallel (OpenMP). `opts` as rec_similar_movies_ex().
 * @return REC_OK; REC_ENOTFOUND for an unknown movie id (nothing is
 *         written); REC_EINVAL. Thread-safe on a const model. Since 0.2.
 */
REC_API rec_status rec_similar_movies_many(rec_scored *out, size_t n,
                                           size_t *n_out, const rec_model *m,
                                           const int32_t *movie_ids,
                                           size_t n_movies,
                                           const struct rec_top_n_options *opts,
                                           rec_error *err);

/* ---- Model files ------------------------------------------------------- */

/**
 * Save a model to a file: a versioned little-endian binary format with a
 * magic number and a checksum, holding the factors, biases, id maps, the
 * users' rated movies and the movie metadata, so a model file alone can
 * serve recommendations. Written to a temporary file and renamed, so a
 * crash never leaves a half-written model under `path`.
 * Thread-safe on a const model. Since 0.1.
 */
REC_API rec_status rec_model_save(const rec_model *m, const char *path,
                                  rec_error *err);

/**
 * Load a model saved by rec_model_save(). REC_EFORMAT for a file that is not
 * a model, is truncated, fails its checksum or comes from a newer format,
 * or holds values beyond the limits (see "Limits": a rank above
 * REC_MAX_RANK, a factor beyond REC_MAX_FACTOR, a rating beyond
 * REC_MAX_RATING), so serving a loaded model costs no more than serving a
 * trained one;
 * REC_EIO / REC_ENOTFOUND for files that cannot be read. Since 0.1.
 */
REC_API rec_status rec_model_load(rec_model **out, const char *path,
                                  rec_error *err);

/**
 * Save a model into a caller buffer, byte for byte what rec_model_save()
 * writes to a file (so an application can keep models in a database, an
 * object store or a pickle). Call with out NULL and cap 0 to get the size
 * in *len_out; then with a buffer of at least that many bytes (else
 * REC_EINVAL, *len_out still set). The size only changes when the model
 * does. Thread-safe on a const model. Since 0.2.
 */
REC_API rec_status rec_model_save_mem(void *out, size_t cap, size_t *len_out,
                                      const rec_model *m, rec_error *err);

/**
 * Load a model from `len` bytes in memory written by rec_model_save_mem()
 * (or read from a model file). The bytes are copied: `data` may be freed
 * afterwards. Errors as rec_model_load() (REC_EFORMAT for bytes that are
 * not a model, truncated, corrupt or from a newer format; messages name
 * "(memory)"). Thread-safe. Since 0.2.
 */
REC_API rec_status rec_model_load_mem(rec_model **out, const void *data,
                                      size_t len, rec_error *err);

/* ---- Evaluation -------------------------------------------------------- */

/** Accuracy and ranking quality of a model on held-out ratings. */
typedef struct rec_eval_result {
    double rmse;            /**< over all test ratings */
    double mae;
    size_t n_predictions;   /**< test ratings scored */
    int k;                  /**< cut-off of the ranking metrics */
    double precision_at_k;  /**< mean over users with a relevant test movie */
    double recall_at_k;
    double ndcg_at_k;
    double map_at_k;
    size_t n_users_ranked;  /**< users that entered the ranking metrics */
    /* since params version 2 */
    double auc;             /**< mean over the same users of the share of
                                 (relevant, other) movie pairs ranked in the
                                 right order (ties count half); "other" is
                                 every candidate of the ranking (since 0.2:
                                 a movie with a training rating, as
                                 rec_top_n) neither rated by the user in
                                 training nor relevant. 0.5 is chance. */
    /* since 0.2 */
    double coverage;        /**< distinct movies over all ranked users'
                                 top-k lists, divided by the movies with a
                                 training rating */
    double median_train_count; /**< median training rating count of the
                                 recommended movies over all ranked users'
                                 top-k lists (each entry counts; low = long
                                 tail); 0 when nothing was ranked */
} rec_eval_result;

/**
 * Evaluate a model on test ratings. RMSE and MAE use rec_predict() on every
 * test rating. Ranking metrics: for each test user known to the model with
 * at least one test rating >= `relevant_min` (4.0 is usual) of a movie the
 * model knows, the top `k` of rec_top_n() (all movies not rated in
 * training) are compared with those relevant test movies. Users are ranked
 * in blocks (one SGEMM per block, then exact re-scoring, as
 * rec_top_n_many), in parallel (OpenMP); the result equals ranking each
 * user by rec_top_n() and does not depend on the thread count. Since 0.2
 * the result also gives the catalogue coverage and the median training
 * count of the recommended movies.
 * For an implicit model (rec_model_implicit) RMSE and MAE compare
 * preference scores with ratings and mean little: use the ranking metrics
 * and AUC, beside rec_evaluate_popularity().
 * Thread-safe on a const model. Since 0.1.
 */
REC_API rec_status rec_evaluate(rec_eval_result *out, const rec_model *m,
                                const rec_ratings *test, int k,
                                float relevant_min, rec_error *err);

/**
 * The popularity baseline, evaluated exactly as rec_evaluate() evaluates a
 * model, so that every number has a reference: each user's ranking is the
 * movies by training rating count (ties: lower id first), leaving out the
 * movies they rated in training; predictions (RMSE, MAE) are each movie's
 * training mean (global mean for a movie without ratings). Test users
 * unknown to `train` are not ranked, as with a model.
 * @return REC_OK; REC_EINVAL (NULL, k < 1, relevant_min not finite, empty
 *         train), REC_ENOMEM. Thread-safe on const datasets. Since 0.1
 *         (params version 2).
 */
REC_API rec_status rec_evaluate_popularity(rec_eval_result *out,
                                           const rec_ratings *train,
                                           const rec_ratings *test, int k,
                                           float relevant_min,
                                           rec_error *err);

/* ---- Columns: bulk access for array languages ----------------------- */

/**
 * A new dataset from parallel arrays: rating i is (user_ids[i],
 * movie_ids[i], ratings[i]). Duplicate (user, movie) pairs: the last one
 * wins. No movie metadata (add it with rec_ratings_set_movie()).
 * @return REC_OK; REC_EINVAL (NULL array with n > 0; "row I: negative id"
 *         or "row I: rating is not finite" for the first bad row, and no
 *         dataset), REC_ENOMEM.
 * Thread-safe (reads the arrays only). Since 0.2.
 */
REC_API rec_status rec_ratings_from_arrays(rec_ratings **out,
                                           const int32_t *user_ids,
                                           const int32_t *movie_ids,
                                           const float *ratings, size_t n,
                                           rec_error *err);

/**
 * Every rating of a dataset into parallel caller arrays, ordered by user id
 * then movie id (the order rec_ratings_user() gives each user). Writes
 * min(cap, n_ratings) rows and sets *n_out to rec_ratings_n_ratings();
 * call with cap 0 (arrays may then be NULL) to size.
 * rec_ratings_from_arrays() of the result gives the same ratings back.
 * Thread-safe on a const dataset. Since 0.2.
 */
REC_API rec_status rec_ratings_to_arrays(int32_t *user_ids, int32_t *movie_ids,
                                         float *ratings, size_t cap,
                                         size_t *n_out, const rec_ratings *r,
                                         rec_error *err);

/**
 * All user factors of a model as one row-major matrix (n_users x rank
 * floats), with their biases and ids, rows by ascending user id. Any of
 * `factors`, `biases`, `user_ids` may be NULL to skip it. Sets *n_out to
 * rec_model_n_users(); cap 0 only sizes, otherwise cap (rows of room) must
 * be at least n_users (REC_EINVAL). A model without biases has zero
 * biases. Thread-safe on a const model. Since 0.2.
 */
REC_API rec_status rec_model_user_matrix(float *factors, float *biases,
                                         int32_t *user_ids, size_t cap,
                                         size_t *n_out, const rec_model *m,
                                         rec_error *err);

/** The same for movies (n_movies x rank), rows by ascending movie id.
    Since 0.2. */
REC_API rec_status rec_model_movie_matrix(float *factors, float *biases,
                                          int32_t *movie_ids, size_t cap,
                                          size_t *n_out, const rec_model *m,
                                          rec_error *err);


/* ---- Tuning (docs/tuning.md) ------------------------------------------- */

/** The metric rec_tune_als() optimises (rec_tune_options.metric). */
#define REC_METRIC_RMSE 0 /**< validation RMSE, lower is better (default) */
#define REC_METRIC_NDCG 1 /**< validation nDCG@k, higher is better */

/** How rec_tune_als() holds out validation ratings (.validation). */
#define REC_VALIDATION_RANDOM 0   /**< a random fraction (default) */
#define REC_VALIDATION_PER_USER 1 /**< leave-k-out per user */
#define REC_VALIDATION_FOLDS 2    /**< k folds: each point on every fold */

/* rec_tune_options, rec_tune_point and rec_tune_result hold rec_als_params
   by value, so their layout follows REC_ALS_PARAMS_VERSION: `version`
   tells which of the options' own fields a caller sets, and a program runs
   with the library of the header it was compiled against (the soname
   changes with every 0.x minor version). */
#define REC_TUNE_OPTIONS_VERSION 3

/** One point of the search: its parameters and validation figures. */
typedef struct rec_tune_point {
    rec_als_params params;  /**< the point (progress fields cleared) */
    double metric;          /**< the metric optimised, mean over folds */
    double rmse;            /**< validation RMSE, mean over folds (for an
                                 implicit model: of preference scores) */
    double ndcg;            /**< validation nDCG@k, mean over folds, of
                                 the model's own ranking (rec_evaluate():
                                 rec_top_n()'s); -1 when not computed
                                 (metric RMSE) */
    double seconds;         /**< wall time of the point (all folds) */
    int iterations;         /**< ALS iterations run per fold */
    int warm;               /**< non-zero: started from the factors of the
                                 previous point of its regularisation path */
    int stopped_early;      /**< non-zero: abandoned after its first stage
                                 (clearly worse than the best so far) */
    int reranked;           /**< non-zero: no training of its own: the
                                 models of an earlier row ranked with
                                 another blend / blend_shrink (`seconds` is
                                 that evaluation's). Since 0.2 (version 2
                                 options). */
} rec_tune_point;

/** Progress of rec_tune_als(), handed to rec_tune_progress_fn. */
typedef struct rec_tune_progress {
    size_t points_done;     /**< points finished so far */
    size_t points_max;      /**< points in the grid (an upper bound: paths
                                 end early) */
    int iteration;          /**< iteration of the current point's training
                                 just finished (0 when a point finished) */
    const rec_tune_point *point; /**< the point just finished, or NULL
                                      during a point's training */
    const rec_tune_point *best;  /**< best point so far, NULL before one */
    double seconds;         /**< wall time since tuning started */
} rec_tune_progress;

/**
 * Tuning progress callback, called from the thread that called
 * rec_tune_als() after every training iteration and after every point.
 * Return 0 to go on, non-zero to cancel: rec_tune_als() then returns
 * REC_ECANCELED and gives no result.
 */
typedef int (*rec_tune_progress_fn)(void *userdata,
                                    const rec_tune_progress *progress);

/**
 * Options of rec_tune_als(). Fill with rec_tune_options_init() and change
 * what you need; fields are only ever added at the end (`version`: a
 * version 1 struct has no fields past `progress_userdata`, and its search
 * is the version 1 grid).
 *
 * The grid is every combination of `ranks` x `alphas` x
 * `preference_alphas` x `preference_regs` x `bias_regs` x `bias_priors`;
 * for each combination the `regs` are walked from the largest to the
 * smallest (a regularisation path). An empty list (NULL or 0 entries)
 * means the value of `base`, except `regs`, whose default path is
 * 0.3, 0.2, 0.16, 0.14, 0.12, 0.1, 0.08, 0.05, 0.03, 0.02, 0.012.
 *
 * The hybrid model (base.preference, docs/ranking.md) has two parts. The
 * rating model (reg, rank, bias_reg, bias_prior) decides the RMSE; the
 * ranking also depends on the preference model (preference_reg,
 * preference_alpha: trained once per fold and combination, then shared by
 * every point of its paths) and on `blends` x `blend_shrinks`, which need
 * no training at all (the same models ranked again). With REC_METRIC_NDCG
 * every point is scored at every (blend, blend_shrink) pair, one row each,
 * and the best row wins. With REC_METRIC_RMSE the points train the rating
 * model alone (the preference model does not change the RMSE); the best
 * point then gets its preference model and, when `blends` or
 * `blend_shrinks` are given, is ranked at every pair (rows marked
 * `reranked`), and the pair of best nDCG@k is kept: the rating model is
 * chosen by RMSE, the ranking blend by nDCG. There a `ranks` list is the
 * rating model's: a base.preference_rank of 0 becomes base.rank (the
 * preference model keeps the base's rank; under nDCG it follows `ranks`).
 */
typedef struct rec_tune_options {
    uint32_t version;       /**< REC_TUNE_OPTIONS_VERSION */
    rec_als_params base;    /**< everything that is not searched (iterations,
                                 seed, n_threads, implicit, ...); its
                                 progress callback is not called while
                                 tuning (default: rec_als_params_init) */
    int metric;             /**< REC_METRIC_RMSE (default) or
                                 REC_METRIC_NDCG (needed for implicit) */
    int k;                  /**< cut-off of nDCG (default 10) */
    float relevant_min;     /**< relevant test ratings for nDCG (4.0) */
    int validation;         /**< REC_VALIDATION_RANDOM (default), _PER_USER
                                 or _FOLDS */
    double fraction;        /**< random: share held out, in (0, 1) (0.1) */
    int leave_out;          /**< per user: ratings held out per user (1) */
    int folds;              /**< folds: 2..100 (default 5) */
    uint64_t split_seed;    /**< seed of the validation split (default 1) */
    const double *regs;     size_t n_regs;      /**< reg values, >= 0 */
    const int *ranks;       size_t n_ranks;     /**< rank values */
    const double *alphas;   size_t n_alphas;    /**< implicit alpha, > 0
                                                     (base.implicit only) */
    const double *bias_regs; size_t n_bias_regs; /**< bias_reg values, >= 0 */
    int warm_start;         /**< non-zero (default): each point of a path
                                 starts from the previous point's factors
                                 (explicit ALS only; implicit points start
                                 cold) */
    int warm_iterations;    /**< iterations of a warm-started point; 0
                                 (default): base.iterations / 3, at least 2 */
    double early_stop;      /**< a point whose metric after its first stage
                                 (a third of its iterations, at least 1) is
                                 worse than the best so far by more than
                                 this relative margin is abandoned; 0 turns
                                 it off (default 0.02; explicit ALS only) */
    int path_patience;      /**< a path ends after this many points in a
                                 row worse than the path's best (default 1;
                                 0: walk every reg) */
    rec_tune_progress_fn progress; /**< optional, NULL for none */
    void *progress_userdata;       /**< handed to `progress` */
    /* ---- version 2: the hybrid model's parameters (Since 0.2) ---- */
    const double *bias_priors; size_t n_bias_priors; /**< bias_prior values,
                                 >= 0 (a base with biases, not implicit) */
    const double *preference_regs; size_t n_preference_regs;
                            /**< preference_reg values, >= 0 (a hybrid
                                 base, REC_METRIC_NDCG: they do not change
                                 the RMSE) */
    const double *preference_alphas; size_t n_preference_alphas;
                            /**< preference_alpha values, > 0 (likewise) */
    const double *blends; size_t n_blends; /**< blend values, >= 0 (a
                                 hybrid base; no training: see above) */
    const double *blend_shrinks; size_t n_blend_shrinks; /**< blend_shrink
                                 values, >= 0 (likewise) */
    /* ---- version 3 (Since 0.2) ---- */
    int fit_rating_pref;    /**< non-zero (default; a hybrid base): at every
                                 point, fit rating_pref_weight and
                                 rating_pref_shift by least squares on the
                                 validation ratings (pooled over folds) and
                                 score the predictions with them; the point
                                 and the result carry the fitted values.
                                 0: keep the base's. */
    int auto_blend;         /**< non-zero (default; a hybrid base under
                                 REC_METRIC_RMSE without blend lists): the
                                 best point is also ranked at blend / 2,
                                 blend / 4 and 0 (a row each), and one of
                                 them replaces the base's blend only when
                                 its validation nDCG@k is more than 2%
                                 above the base blend's: a weaker reg gives
                                 the rating model larger factors, which
                                 weigh more in the ranking. 0: rank the
                                 best point at the base's blend only. */
} rec_tune_options;

/** Fill `o` with the defaults (including `version`). Since 0.2. */
REC_API void rec_tune_options_init(rec_tune_options *o);

/** What rec_tune_als() found. */
typedef struct rec_tune_result {
    rec_als_params best;    /**< base with the best point's values (every
                                 searched parameter, those of version 2
                                 too), ready for rec_train_als() on all the
                                 data (base's iterations and progress
                                 kept) */
    double metric;          /**< validation figures of the best point */
    double rmse;
    double ndcg;            /**< nDCG@k of the best point, computed for it
                                 whatever the metric, with the model's own
                                 ranking (that of rec_top_n(): for a hybrid
                                 base, preference plus blend) */
    size_t n_points;        /**< points tried (all of them, however many
                                 fitted in the caller's buffer) */
    size_t best_index;      /**< index of the best point in that order */
    double seconds;         /**< wall time of the whole search */
} rec_tune_result;

/**
 * Search ALS parameters on a validation split of `r` (docs/tuning.md):
 * every point of the grid in rec_tune_options is trained on the training
 * part(s) and scored on the held-out part(s); the best by `metric` wins
 * (ties: the earlier point). Warm starts along each regularisation path,
 * early stopping of clearly worse points and the end of a path once it
 * gets worse keep it cheap. Training runs as rec_train_als() does
 * (base.n_threads OpenMP threads), and the result is the same for the same
 * data, options and seeds whatever the thread count.
 *
 * @param[out] out     the result (untouched unless REC_OK)
 * @param[out] points  the points tried, in order: min(cap, n) are written
 *                     (may be NULL with cap 0); out->n_points tells n
 * @return REC_OK; REC_EINVAL (bad option: err says which), REC_ENOMEM,
 *         REC_ECANCELED (progress callback: no result), REC_ELAPACK.
 * Thread-safe: reads `r` only. Since 0.2.
 */
REC_API rec_status rec_tune_als(rec_tune_result *out, rec_tune_point *points,
                                size_t cap, const rec_ratings *r,
                                const rec_tune_options *opts, rec_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MOVIEME_H */
