/*
 * internal.h - private types shared by the files of src/. Not installed.
 *
 * Layout in one picture:
 *   rec_ratings: id maps (external <-> dense), ratings twice (CSR by user,
 *                CSC by movie, 64-bit offsets), movie metadata.
 *   rec_model:   factors + biases, id maps, each user's rated movies (CSR,
 *                with per-user overrides written by rec_add_user), metadata.
 */
#ifndef MOVIEME_INTERNAL_H
#define MOVIEME_INTERNAL_H

#include "movieme.h"

#include <stdarg.h>
#include <stdbool.h>

/* ---- limits (movieme.h: REC_MAX_RATING, REC_MAX_RANK, REC_MAX_FACTOR) ----
   Every door uses these predicates, so that what one part accepts the
   others (training, the model reader) accept too. NaN fails both. */
static inline bool rec__rating_ok(float r)
{
    return r >= (float)-REC_MAX_RATING && r <= (float)REC_MAX_RATING;
}
static inline bool rec__factor_ok(float x)
{
    return x >= (float)-REC_MAX_FACTOR && x <= (float)REC_MAX_FACTOR;
}

/* ---- errors (error.c) ---- */

/* Set err (if not NULL) to code + printf-style message; returns code. */
rec_status rec__fail(rec_error *err, rec_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- id map (idmap.c): external int32 id -> dense index ---- */

typedef struct rec_idmap {
    int32_t *keys;  /* -1 = empty slot (ids are >= 0) */
    int32_t *vals;
    size_t cap;     /* power of two, or 0 */
    size_t size;
} rec_idmap;

void rec__idmap_init(rec_idmap *m);
void rec__idmap_free(rec_idmap *m);
/* Ensure room for `n` keys without rehashing. */
rec_status rec__idmap_reserve(rec_idmap *m, size_t n);
/* Dense index of `key`, or -1. */
int32_t rec__idmap_get(const rec_idmap *m, int32_t key);
/* Insert key -> val (key must be absent). */
rec_status rec__idmap_put(rec_idmap *m, int32_t key, int32_t val);
/* Remove `key` if present (never allocates). */
void rec__idmap_remove(rec_idmap *m, int32_t key);
rec_status rec__idmap_copy(rec_idmap *dst, const rec_idmap *src);

/* ---- movie metadata (metadata.c) ---- */

/* Per dense movie index: title, genres (offsets into one string pool), year. */
typedef struct rec_movie_meta {
    char *pool;          /* NUL-terminated strings, pool[0] == '\0' */
    size_t pool_len, pool_cap;
    uint64_t *title_off; /* n entries, 0 = "" */
    uint64_t *genres_off;
    int32_t *year;
    size_t n, cap;
} rec_movie_meta;

void rec__meta_init(rec_movie_meta *mm);
void rec__meta_free(rec_movie_meta *mm);
/* Grow to `n` movies (new ones get empty strings, year 0). */
rec_status rec__meta_resize(rec_movie_meta *mm, size_t n);
/* Set title/genres (UTF-8) of movie `idx`; year parsed from the title. */
rec_status rec__meta_set(rec_movie_meta *mm, size_t idx, const char *title,
                         size_t title_len, const char *genres,
                         size_t genres_len);
rec_status rec__meta_copy(rec_movie_meta *dst, const rec_movie_meta *src);
/* True if s[0..n) is valid UTF-8: no overlongs, surrogates or code points
   past U+10FFFF (NUL is ASCII, so it counts as valid). */
bool rec__utf8_valid(const void *s, size_t n);
/* Year from a trailing "(YYYY)" (spaces allowed after it), or 0. */
int32_t rec__parse_year(const char *title, size_t len);
/* Insert an empty movie (no title, year 0) at index `idx` (<= n). */
rec_status rec__meta_insert(rec_movie_meta *mm, size_t idx);
/* Exact, ASCII-case-insensitive match of one '|'-separated genre of
   `genres` with want[0..wlen). */
int rec__has_genre(const char *genres, const char *want, size_t wlen);
/* Title / genres of movie `idx` (never NULL, "" when unknown). */
const char *rec__meta_title(const rec_movie_meta *mm, size_t idx);
const char *rec__meta_genres(const rec_movie_meta *mm, size_t idx);

/* ---- dataset (ratings.c) ---- */

struct rec_ratings {
    size_t n_users, n_movies, nnz;
    int32_t *user_ids;   /* dense -> external; users in ascending id order */
    int32_t *movie_ids;  /* dense -> external; movies in ascending id order */
    rec_idmap user_map, movie_map;
    /* by user: ratings of user u are [user_off[u], user_off[u+1]),
       movie indices ascending */
    uint64_t *user_off;  /* n_users + 1 */
    int32_t *user_items; /* dense movie index */
    float *user_vals;
    /* by movie: same ratings, user indices ascending */
    uint64_t *movie_off; /* n_movies + 1 */
    int32_t *movie_users;
    float *movie_vals;
    rec_movie_meta meta; /* indexed by dense movie index */
    float rating_min, rating_max; /* 0,0 when empty */
};

/* Build a dataset from COO triplets given by external id. Takes ownership
   of nothing; duplicates: last wins (by position in the arrays). Metadata
   for movies is taken from `meta_ids`/`meta` (may be NULL/0): meta entry i
   belongs to external movie id meta_ids[i]; movies only in metadata are
   included with no ratings. */
rec_status rec__ratings_build(rec_ratings **out, const int32_t *users,
                              const int32_t *movies, const float *vals,
                              size_t n, const int32_t *meta_ids,
                              const rec_movie_meta *meta, rec_error *err);
/* As rec__ratings_build, but takes ownership of the three COO arrays
   (malloc'd; freed as early as possible, also on failure) and converts
   them in place: no copy, for the loader's 20M-row files. */
rec_status rec__ratings_build_owned(rec_ratings **out, int32_t *users,
                                    int32_t *movies, float *vals, size_t n,
                                    const int32_t *meta_ids,
                                    const rec_movie_meta *meta,
                                    rec_error *err);

/* ---- interaction weights of implicit ALS (weighting.c) ---- */

typedef struct rec_weighting {
    int kind;            /* REC_WEIGHT_NONE or REC_WEIGHT_BM25 */
    float min_rating;    /* ratings below are no interaction */
    int by_value;        /* base weight: the rating (else 1) */
    double k1, b;        /* BM25 */
    double n_users;      /* training users (idf) */
    double avg_len;      /* their mean sum of base weights */
} rec_weighting;

/* The weighting `p` asks for (of implicit mode, or of the preference
   model) for ratings >= min_rating (n_users and
   avg_len are set by rec__weigh_dataset). */
void rec__weighting_from_params(rec_weighting *w, const rec_als_params *p,
                                float min_rating, int by_value);
/* No weighting: base weights only (implicit models of format 2). */
void rec__weighting_none(rec_weighting *w, float min_rating, int by_value);
/* Weights of every rating of `r`, in user order (user_w, as user_vals) and
   in movie order (movie_w), 0 for ratings that are no interaction, and
   each movie's number of interactions (malloc'd; counts_out has n_movies
   entries). Sets w->n_users and w->avg_len. */
rec_status rec__weigh_dataset(float **user_w, float **movie_w,
                              uint32_t **counts_out, rec_weighting *w,
                              const rec_ratings *r, rec_error *err);
/* Weights of one user's ratings (dense movie indices) as in training. */
void rec__weigh_user(float *out, const rec_weighting *w,
                     const uint32_t *counts, const int32_t *items,
                     const float *vals, size_t n);

/* Fold `fold` of `folds` (0 <= fold < folds, folds >= 2): every rating
   is drawn into exactly one fold as rec_ratings_split draws, so the folds
   partition the data; that fold is the test set, the others the training
   set. Deterministic for a given seed, whatever the thread count. */
rec_status rec__ratings_split_fold(rec_ratings **train_out,
                                   rec_ratings **test_out,
                                   const rec_ratings *r, int folds, int fold,
                                   uint64_t seed, rec_error *err);

/* ---- model (model.c) ---- */

struct rec_model {
    int rank;
    size_t n_users, n_movies;
    size_t users_cap;         /* capacity of the per-user arrays */
    float *user_factors;      /* users_cap * rank */
    float *movie_factors;     /* n_movies * rank */
    float *user_bias;         /* users_cap (zeros without biases) */
    float *movie_bias;        /* n_movies */
    float global_mean;
    float rating_min, rating_max;
    int has_biases;
    double reg, bias_reg;     /* kept for fold-in */
    int nonnegative;
    /* Largest user id ever known, so REC_NEW_USER is O(1); computed by one
       scan when not yet known (calloc'd models start unknown). */
    int64_t max_user_id;
    bool max_user_id_known;
    int32_t *user_ids;        /* dense -> external (users_cap); ascending
                                 over [0, n_trained_users) after training,
                                 then in the order rec_add_user created
                                 them (rec_remove_user and loading a file
                                 break the order: do not rely on it) */
    int32_t *movie_ids;       /* dense -> external, ascending */
    rec_idmap user_map, movie_map;
    /* rated movies of users [0, n_trained_users): CSR, ascending (a row
       hidden by an override is dead, e.g. after rec_remove_user) */
    size_t n_trained_users;
    uint64_t *rated_off;      /* n_trained_users + 1 */
    int32_t *rated_items;
    float *rated_vals;
    /* users added or changed by rec_add_user: own arrays (NULL = use CSR) */
    struct rec_user_ratings *overrides; /* users_cap entries, or NULL */
    /* per movie: metadata, training count and mean */
    rec_movie_meta meta;
    uint32_t *movie_count;
    float *movie_mean;
    /* implicit feedback (als_implicit.c); all zero for explicit models */
    int implicit;             /* no biases, global mean 0, no clamping */
    int implicit_weight_by_value;
    double alpha;
    float implicit_min_rating;
    double *yty;              /* rank x rank Gram matrix of the movie
                                 factors (implicit only, else NULL) */
    double bias_prior;        /* constant prior of the bias penalty */
    /* preference model of a hybrid model (pref_rank 0: none): implicit
       ALS on the training ratings, which top-N ranks by */
    int pref_rank;
    float *pref_user;         /* users_cap * pref_rank */
    float *pref_movie;        /* n_movies * pref_rank */
    double *pref_yty;         /* pref_rank^2 Gram matrix of pref_movie */
    double pref_reg, pref_alpha;
    int pref_scaled;          /* REC_CONFIDENCE_SCALED preference model */
    float blend;              /* weight of the predicted rating */
    double blend_shrink;      /* its support prior (rec__model_finish) */
    /* predicted ratings of known pairs add weight * preference score +
       shift (0 and 0: none) */
    double rating_pref_weight, rating_pref_shift;
    /* interaction weights (hybrid and implicit models) */
    rec_weighting weighting;
    uint32_t *interactions;   /* per movie, in training (BM25 idf); NULL
                                 without BM25 */
    /* ranking, derived from the above (rec__model_finish): the ranking
       score of user u and movie j is
         rank_movie[j] . rec__user_rank_vec(u) + its constant */
    int rank_dim;
    float *rank_movie;        /* n_movies * rank_dim */
    float cold_prior;         /* prior weight of the cold-start average */
    float data_mean;          /* mean training rating (cold start) */
};

typedef struct rec_user_ratings {
    int32_t *items;  /* dense movie indices, ascending */
    float *vals;
    size_t n;        /* 0 with items == NULL: not overridden */
    bool used;
} rec_user_ratings;

/* A freshly allocated empty model of the given shape (factors zeroed). */
rec_status rec__model_alloc(rec_model **out, int rank, size_t n_users,
                            size_t n_movies, size_t nnz, rec_error *err);
/* True when predicted ratings carry the preference term (rating_pref_weight
   or rating_pref_shift non-zero, and a preference part). */
bool rec__model_has_rating_pref(const rec_model *m);

/* Allocate the preference part (zeroed) of rank kp. */
rec_status rec__model_alloc_pref(rec_model *m, int kp, rec_error *err);
/* Derive what serving needs from the factors (ranking vectors, cold-start
   mean): after training, loading and copying. */
rec_status rec__model_finish(rec_model *m, rec_error *err);
/* Copy the preference part (factors, weighting, parameters, blend) of
   hybrid `src` into `dst`, a rating model of the same dataset without one;
   the caller then derives the ranking (rec__model_finish). */
rec_status rec__model_copy_pref(rec_model *dst, const rec_model *src,
                                rec_error *err);
/* Length of a user ranking vector: m->rank_dim. Writes user u's vector
   (from its factors) and its constant term. */
void rec__user_rank_vec(float *v, float *c, const rec_model *m,
                        const float *x, float bias, const float *p);
/* The rated movies of dense user u (ascending dense indices). */
void rec__model_user_rated(const rec_model *m, size_t u, const int32_t **items,
                           const float **vals, size_t *n);

/* ---- dense kernels (solve.c) ---- */

/* Solve the k x k SPD system A x = b in place with Cholesky (single thread,
   no BLAS threads). A is overwritten; b becomes x. Returns 0 or -1. */
int rec__cholesky_solve(double *A, double *b, int k);
/* Systems of this many unknowns or more are solved by LAPACK's dposv, the
   smaller ones by the library's kernel: the crossover measured by
   bench/bench_solve (docs/als.md). */
#define REC_LAPACK_MIN_DIM 112
/* The same solve of the m x m system in rows of ld (upper triangle used)
   by one path: LAPACK (lapack != 0) or the library's kernel (benchmarks
   and tests). Returns 0 or -1. */
int rec__cholesky_solve_with(double *A, int ld, double *b, int m, int lapack);

/* Fold-in: the factors (k floats) and bias of a user with the given ratings
   (dense movie indices), movie factors fixed. `scratch` holds at least
   rec__foldin_scratch(k) doubles. Returns 0, or -1 when the system could
   not be solved (zero factors written), as rec__solve_row. */
size_t rec__foldin_scratch(int k);
int rec__foldin(float *x_out, float *bias_out, const rec_model *m,
                const int32_t *items, const float *vals, size_t n,
                double *scratch);
/* One row of an ALS half-iteration (a user, or a movie): the fixed side. */
typedef struct rec_row_ctx {
    int k, biases, nonnegative;
    double reg, bias_reg;     /* ALS-WR: scaled by the row's count */
    double bias_prior;        /* added to the bias penalty, unscaled */
    float mu;                 /* global mean (0 without biases) */
    const float *other;       /* fixed factors, stride k */
    const float *other_bias;  /* fixed biases, NULL without biases */
    /* NULL, or the fixed side packed by rec__pack_row (training): a
       rating's factors, 1 and bias in one aligned run of rec__row_ld
       floats instead of two arrays */
    const float *packed;
} rec_row_ctx;
/* Doubles of scratch rec__solve_row needs for rank k. */
size_t rec__row_scratch(int k);
/* Floats per row of the packed fixed side (a multiple of 16). */
int rec__row_ld(int k, int biases);
/* Row j of c's fixed side as [y_j, 1, bias_j, 0...] (without biases
   [y_j, 0, ...]) into dst (rec__row_ld floats). */
void rec__pack_row(float *dst, const rec_row_ctx *c, size_t j);
/* Solve the row's factors (k floats) and bias from its ratings (indices
   into `other`). Sets *sse_out (squared error of the row, may be NULL) and
   *penalty_out (its regularisation term). Returns 0, or -1 when the system
   could not be solved (zero factors written). */
int rec__solve_row(float *x_out, float *bias_out, const rec_row_ctx *c,
                   const int32_t *idx, const float *vals, size_t n,
                   double *scratch, double *sse_out, double *penalty_out);
/* The user-side context of a model (movie factors fixed). */
void rec__row_ctx_model(rec_row_ctx *c, const rec_model *m);

/* ---- candidates (candidates.c) ---- */

/* rec_top_n_options resolved for one model. */
typedef struct rec_candidates {
    uint8_t *mask;           /* n_movies, or NULL: counts alone decide */
    const uint32_t *count;   /* training counts of the model's movies */
    uint32_t min_count;      /* >= 1 */
    bool include_rated;
} rec_candidates;

rec_status rec__candidates_init(rec_candidates *c, const rec_model *m,
                                const rec_top_n_options *o, rec_error *err);
void rec__candidates_free(rec_candidates *c);
/* Whether dense movie j passes the options (the user's rated movies are
   left out separately, unless c->include_rated). */
static inline bool rec__candidate(const rec_candidates *c, size_t j)
{
    return c->mask ? c->mask[j] != 0 : c->count[j] >= c->min_count;
}

/* ---- ranking (recommend.c) ---- */

/* A user as the ranking sees them: rating-model factors and bias, and
   preference factors (NULL without a preference part); `n_rated` 0 means
   cold start. */
typedef struct rec_user_view {
    const float *x;
    float bias;
    const float *p;
    const int32_t *rated;    /* ascending dense indices */
    size_t n_rated;
} rec_user_view;

/* rec_predict's prediction in parts, for tuning: the rating model's
   unclamped prediction (with rec_predict's fallbacks) and, in *pref, the
   preference model's score of the pair (NAN where the model's preference
   term does not apply: an unknown user or movie, or no preference
   model; `pref` NULL: not computed). */
float rec__predict_parts(const rec_model *m, int32_t user_id,
                         int32_t movie_id, float *pref);
/* A predicted rating clamped to the training ratings' range. */
float rec__clamp_rating(const rec_model *m, float s);

/* Top-n over the candidates for one user. Writes rec_scored with external
   movie ids, ranking scores and shown ratings. */
rec_status rec__rank(rec_scored *out, size_t n, size_t *n_out,
                     const rec_model *m, const rec_user_view *u,
                     const rec_candidates *cand, rec_error *err);
/* Ratings given at the API as sorted dense arrays (malloc'd): movies
   unknown to the model dropped, duplicates resolved (the last wins),
   ratings checked finite. */
rec_status rec__prepare_ratings(int32_t **items, float **vals,
                                size_t *n_out, const rec_model *m,
                                const rec_movie_rating *r, size_t n,
                                rec_error *err);
/* The view of dense user u of the model. */
void rec__user_view(rec_user_view *v, const rec_model *m, size_t u);
/* The rating shown beside a result: the predicted rating, clamped. */
float rec__shown_rating(const rec_model *m, const rec_user_view *u, size_t j);

/* The exact ranking score of dense movie j for a user ranking vector v
   with constant c (rec__user_rank_vec): the one scoring definition of
   top-n, single and batch. */
float rec__score_one(const rec_model *m, const float *v, float c, size_t j);

/* ---- batch ranking (recommend_batch.c) ---- */
/* One user's row in a batch. When `bounded`, the tile calls see
   approx[j - j0] within `margin` of rec__score_one(m, v, c, j) for the
   tile's movies; otherwise (non-finite scores, or a cold-start user)
   there are no tile calls: score exactly. */
typedef struct rec__row_scores {
    const rec_model *m;
    size_t u;                  /* dense user */
    rec_user_view view;        /* factors and rated movies */
    const float *v;            /* ranking vector (rank_dim) and constant */
    float c;
    int bounded;
    const float *approx;       /* the tile's scores (tile calls only) */
    double margin;
    double vnorm;              /* |v| */
} rec__row_scores;
/* The calls a batch makes for each row: begin, then tile for each tile of
   movies [j0, j1) in ascending order (bounded rows only), then end. From
   OpenMP threads (tid < omp_get_max_threads()); `slot` < the rows per
   block is the row's place in its block, for per-thread per-row state;
   rows in no particular order. */
typedef struct rec__tile_fns {
    void (*begin)(void *ctx, size_t row, size_t slot,
                  const rec__row_scores *rs, int tid);
    void (*tile)(void *ctx, size_t row, size_t slot,
                 const rec__row_scores *rs, size_t j0, size_t j1, int tid);
    void (*end)(void *ctx, size_t row, size_t slot,
                const rec__row_scores *rs, int tid);
} rec__tile_fns;
/* Score dense users[0..n) in blocks of `rows` users, tile by tile of
   movies (SGEMM), and make the calls of fns. */
rec_status rec__for_each_tile(const rec_model *m, const int32_t *users,
                              size_t n, size_t rows, const rec__tile_fns *fns,
                              void *ctx, rec_error *err);
/* The selection of a row's top n: the heap of approximate scores (in the
   caller's out, n entries) and the candidates that may still be in the
   exact top n (near, cap entries). */
typedef struct rec__near {
    int32_t j;
    float a;
} rec__near;
typedef struct rec__sel {
    rec_scored *out;
    size_t n, size, e;
    rec__near *near;
    size_t cap, nn;
    int overflow;
} rec__sel;
/* Candidate list entries per row for top n, and rows per block that keep
   the lists of a thread within a few MB. */
size_t rec__sel_cap(size_t n);
size_t rec__tile_rows(size_t n);
/* Movies per tile of the batch (at most 1024). */
size_t rec__tile_movies(const rec_model *m);
void rec__sel_start(rec__sel *s, rec_scored *out, size_t n, rec__near *near,
                    size_t cap);
void rec__sel_tile(rec__sel *s, const rec__row_scores *rs,
                   const rec_candidates *cands, size_t j0, size_t j1);
/* The row's top n over the candidates, exactly as rec_top_n_ex (external
   movie ids, shown ratings), in out. Returns the number written. */
size_t rec__sel_finish(rec__sel *s, const rec__row_scores *rs,
                       const rec_candidates *cands);

/* ---- BLAS (blas.c) ---- */
/* Whether OpenBLAS can be called on this thread: it maps a 128 MB work
   buffer at a thread's first call and retries forever when the mapping
   fails (a hang under a small RLIMIT_AS). Probes until it succeeds once. */
int rec__blas_buffer_ok(void);
/* OpenBLAS runs single-threaded for the library: call before BLAS or
   LAPACK work (cheap when nothing changed; a no-op inside an active
   parallel region, where OpenBLAS's OpenMP build is single-threaded by
   itself). Leaves the caller's OpenMP thread count as it was. */
void rec__blas_single_threaded(void);
/* Around each BLAS or LAPACK call: one OpenBLAS thread for the call, also
   outside the library's parallel regions; rec__blas_leave takes what
   rec__blas_enter returned. */
int rec__blas_enter(void);
void rec__blas_leave(int token);

/* ---- training ----
 * train.c is the front door (rec_train_als: checks, dispatch, the model);
 * als.c (explicit) and als_implicit.c (implicit) are solvers that know
 * nothing of each other or of the front door; solve.c holds the kernels
 * both use. The MPI trainer uses the same pieces. */

/* Called by a solver after each iteration; non-zero cancels. */
typedef int (*rec_iter_fn)(void *ctx, double train_rmse, double loss);

/* rec_train_als with an optional warm start (tune.c): `warm`, when not
   NULL, is an explicit model trained on the same dataset `r` at the same
   rank; training starts from its user factors and biases instead of the
   seeded ones (so warm + n iterations continues warm's training exactly).
   REC_EINVAL for a model that does not match, or for implicit ALS. */
rec_status rec__train_als_from(rec_model **out, const rec_ratings *r,
                               const rec_als_params *p, const rec_model *warm,
                               rec_error *err);

/* The preference model of hybrid parameters `p` (tune.c): fits it into
   `m`, a rating model trained on `r` without one (p's rating part is not
   looked at), and derives the ranking. The same factors as
   rec_train_als(r, p) gives, whatever the rating model. On failure `m` is
   left without a usable ranking: free it. */
rec_status rec__train_preference(rec_model *m, const rec_ratings *r,
                                 const rec_als_params *p, rec_error *err);

/* Validate parameters and dataset as rec_train_als does. */
rec_status rec__train_check(const rec_ratings *r, const rec_als_params *p,
                            rec_error *err);
/* True when `p` asks for a hybrid model (explicit + preference). */
bool rec__train_hybrid(const rec_als_params *p);
/* Copy ids, rated lists, metadata, counts and means into a fresh model and
   set its global mean, rating range and parameters (as rec_train_als);
   allocates the preference part of a hybrid model. */
rec_status rec__train_fill_model(rec_model *m, const rec_ratings *r,
                                 const rec_als_params *p, rec_error *err);
/* The implicit-ALS configuration of a model's implicit part. */
typedef struct rec_implicit_cfg {
    int k, iterations, solver, cg_steps, by_value;
    double lambda, alpha;
    double conf_base; /* confidence c = conf_base + alpha * w: 1 (Hu et
                         al., REC_CONFIDENCE_LINEAR) or 0 (SCALED) */
    float min_rating;
    uint64_t seed;
    int eigenbasis; /* CG half-steps in the eigenbasis of Y^T Y: 0 where
                       it saves work (als_implicit.c), 1 always, -1 never */
} rec_implicit_cfg;
/* The configuration rec_train_als gives the implicit part of a model `m`
   filled from `p` (implicit mode, or the preference model of a hybrid):
   rank, iterations, solver, lambda, alpha, seed, and the min_rating and
   by_value that apply to its interaction values (those of BM25 weights
   are 0 and 1: the weights are final). */
void rec__train_implicit_cfg(rec_implicit_cfg *g, const rec_als_params *p,
                             const rec_model *m);

/* The automatic lambda of a preference model (pref_reg.c): SCALE * alpha *
   (sum of the interaction weights) / sqrt(users * movies with a rating),
   from `user_vals` (user order) as `g` applies them. */
#define REC__PREF_REG_SCALE 0.15
double rec__pref_reg_auto(const rec_ratings *r, const float *user_vals,
                          const rec_implicit_cfg *g);
/* p->preference_reg, or the automatic value for REC_PREFERENCE_REG_AUTO. */
double rec__pref_reg_resolve(const rec_als_params *p, const rec_ratings *r,
                             const float *user_vals,
                             const rec_implicit_cfg *g);

/* Initial factors of rows [0, n): row i depends only on (seed, i)
   (solve.c). */
void rec__init_factors(float *f, size_t n, int k, uint64_t seed, int nonneg);

/* Explicit ALS (als.c) on a filled model: its user and movie factors and
   biases, `p->iterations` iterations, nt threads, from the seeded factors
   or from the user factors and biases of `warm` (checked by the caller).
   REC_ECANCELED when on_iter asks (no message set). */
rec_status rec__explicit_fit(rec_model *m, const rec_ratings *r,
                             const rec_als_params *p, const rec_model *warm,
                             int nt,
                             rec_iter_fn on_iter, void *iter_ctx,
                             rec_error *err);
/* One explicit half-iteration over n rows with ratings [off[i], off[i+1])
   of idx and vals: one OpenMP region of nt threads, scratch_len doubles per
   thread. Returns the number of rows that could not be solved (0
   normally; training turns any into REC_ELAPACK). */
size_t rec__als_half_step(float *x, float *xbias, size_t n,
                          const uint64_t *off, const int32_t *idx,
                          const float *vals, const rec_row_ctx *c, int nt,
                          double *scratch, size_t scratch_len, double *sse,
                          double *pen);

/* ---- implicit feedback (als_implicit.c) ---- */

/* ---- inner kernels, dispatched once by CPU (cpu.c -> kernels.c) ---- */
typedef enum rec_cpu_level {
    REC_CPU_PORTABLE = 0,
    REC_CPU_AVX2 = 1,   /* AVX2 + FMA */
    REC_CPU_AVX512 = 2  /* AVX-512F: bit-identical to AVX2 but for the
                           small Cholesky (docs/als.md) */
} rec_cpu_level;
/* The level in use: the CPU's best, or MOVIEME_CPU's if lower. */
rec_cpu_level rec__cpu_level(void);
const char *rec__cpu_name(rec_cpu_level l);
/* A += Z^T Z on the upper 8x8 tiles: Z is n <= 128 rows of ld floats (ld
   a multiple of 8, columns >= kk zero), A ld x ld. */
void rec__gram_add(double *A, const float *Z, size_t n, int ld, int kk);
/* The gather of a training row from the packed fixed side fused with its
   Gram sums: A (ld x ld) = Z^T Z where Z's row t is row idx[t] of P
   (rec__pack_row rows of 16 floats, P 64-byte aligned) with its column m
   replaced by the target (vals[t] - mu) - P[idx[t]][m], summed in chunks
   of `chunk` ratings exactly as gathering Z and calling rec__gram_add on
   each chunk of a zeroed A (the same bits). It sets the upper tiles
   (rows 0-7, and rows 8.. from column 8), which hold the upper triangle
   of the m + 1 data columns; it leaves the rest of A as it was. Returns
   1, or 0 with A untouched when the level has no such kernel or the
   shape is not 8 <= m <= 15 with ld 16 (then the caller clears A and
   gathers Z itself). */
int rec__gram_packed(double *A, int ld, const float *P, const int32_t *idx,
                     const float *vals, float mu, size_t n, int m,
                     size_t chunk);
/* x . y_j for movies [j0, j1) of a k-column matrix Y (top-n scores and
   predictions). */
void rec__score_rows(float *out, const float *Y, int k, const float *x,
                     size_t j0, size_t j1);
/* The library's Cholesky solve of the m x m system in rows of ld (upper
   triangle used; A overwritten, b becomes x): 0, or -1 when A is not
   positive definite or x not finite (solve.c calls it below LAPACK's
   crossover). */
int rec__chol_solve(double *A, int ld, double *b, int m);
/* One CG product of implicit ALS: q = (Y^T Y + lambda I) v (ytyf, k x k
   float, symmetric; or, when diag is not NULL, the diagonal matrix diag)
   + sum_t [cw[t] (y_t . v) - b_t] y_t over the n rows y_t of Y (a row's
   interactions, gathered contiguously) with confidences cc[t] (cw[t] =
   cc[t] - 1), b_t = cc[t] when minus_b, else 0. The same bits at every
   level. */
void rec__cg_apply(float *q, const float *ytyf, const float *diag,
                   float lambda, const float *Y, int k, const float *v,
                   const float *cw, const float *cc, size_t n, int minus_b);
/* q = Q^T v for the k x k matrix Q (row-major): q_i sums Q[f][i] v_f in
   order (rec__cg_apply's dense part). The same bits at every level. */
void rec__rotate(float *q, const float *Q, int k, const float *v);
/* out[j - j0] = the cosine of rows j of Y and y0 (whose norm is n0), 0 when
   either norm is 0, for j in [j0, j1). The same bits at every level. */
void rec__cosine_rows(float *out, const float *Y, int k, const float *y0,
                      float n0, size_t j0, size_t j1);
/* Bit i of bits[i / 64] set when x[i] > t, for i < n (selection scans;
   bits holds (n + 63) / 64 words). */
void rec__above(uint64_t *bits, const float *x, size_t n, float t);
/* The AUC pairs of one row of approximate scores a[0..n) against the
   ascending relevant scores pos[0..np): with hi = a[i] + w and
   lo = a[i] - w in float, movie i is near when some pos lies in [lo, hi]
   (its index goes to near[], ascending: decide it exactly); the others
   add the number of pos above hi, which is returned. Comparisons only:
   every level gives the same result. */
uint64_t rec__auc_count(const float *a, size_t n, const float *pos,
                        size_t np, float w, uint32_t *near, size_t *n_near);
/* The same kernels at a given level (capped by the CPU): tests, benches. */
int rec__chol_solve_at(rec_cpu_level l, double *A, int ld, double *b, int m);
void rec__cg_apply_at(rec_cpu_level l, float *q, const float *ytyf,
                      const float *diag, float lambda, const float *Y, int k,
                      const float *v,
                      const float *cw,
                      const float *cc, size_t n,
                      int minus_b);
void rec__cosine_rows_at(rec_cpu_level l, float *out, const float *Y, int k,
                         const float *y0, float n0, size_t j0, size_t j1);
void rec__above_at(rec_cpu_level l, uint64_t *bits, const float *x, size_t n,
                   float t);
uint64_t rec__auc_count_at(rec_cpu_level l, const float *a, size_t n,
                           const float *pos, size_t np, float w,
                           uint32_t *near, size_t *n_near);
void rec__score_rows_at(rec_cpu_level l, float *out, const float *Y, int k,
                        const float *x, size_t j0, size_t j1);
void rec__gram_add_at(rec_cpu_level l, double *A, const float *Z, size_t n,
                      int ld, int kk);
int rec__gram_packed_at(rec_cpu_level l, double *A, int ld, const float *P,
                        const int32_t *idx, const float *vals, float mu,
                        size_t n, int m, size_t chunk);

/* Implicit ALS of X (users) and Y (movies) from the interaction values
   user_vals/movie_vals (as r->user_vals/movie_vals: ratings, or weights
   with min_rating 0 and by_value 1). On success *yty_out is Y^T Y
   (malloc'd, for fold-in). REC_ECANCELED when on_iter asks (no message). */
rec_status rec__implicit_fit(float *X, float *Y, double **yty_out,
                             const rec_ratings *r, const float *user_vals,
                             const float *movie_vals,
                             const rec_implicit_cfg *g, int nt,
                             rec_iter_fn on_iter, void *iter_ctx,
                             rec_error *err);
/* Initial user and movie factors of implicit training. */
void rec__implicit_init_factors(float *users, size_t n_users, float *movies,
                                size_t n_movies, int k, uint64_t seed);
/* One implicit half-iteration on rows [0, n) of x, of a side of n_side
   rows, against all n_other rows of `other` (Y^T Y of them, then the
   rows): buffers for rows of up to max_row interactions and nt threads.
   When the half-step runs in the eigenbasis of Y^T Y (decided from n_side
   and n_other alone), `other` and the rows of x are turned to it, in
   place; the rows of the side that others solve must be turned by theirs
   (their solve overwrites them). run returns non-zero when a row could
   not be solved. */
typedef struct rec_implicit_half rec_implicit_half;
rec_status rec__implicit_half_new(rec_implicit_half **out,
                                  const rec_implicit_cfg *g, size_t max_row,
                                  int nt, rec_error *err);
int rec__implicit_half_run(rec_implicit_half *s, float *x, size_t n,
                           size_t n_side, const uint64_t *off,
                           const int32_t *idx, const float *vals,
                           float *other, size_t n_other, double *loss,
                           double *sse);
void rec__implicit_half_free(rec_implicit_half *s);
/* Y^T Y (k x k, full, malloc'd) of n rows of k floats. */
rec_status rec__gram_of(double **out, const float *Y, size_t n, int k,
                        rec_error *err);
/* Exact implicit solve of one user: x (k floats) from interaction weights
   w (> 0 counts) of ascending dense movie indices, Y and its Y^T Y fixed;
   confidences conf_base + alpha * w (rec_implicit_cfg). */
rec_status rec__implicit_solve(float *x, int k, const float *Y,
                               const double *yty, double lambda, double alpha,
                               double conf_base, const int32_t *items,
                               const float *w, size_t n, rec_error *err);
/* conf_base of rec_implicit_cfg: 0 for a preference model with
   REC_CONFIDENCE_SCALED, else 1. */
static inline double rec__conf_base(int scaled)
{
    return scaled ? 0.0 : 1.0;
}

/* The interaction weight r of a rating (0: not an interaction). */
static inline double rec__implicit_weight(float rating, float min_rating,
                                          int by_value)
{
    if (!(rating >= min_rating) || !(rating > 0.0f))
        return 0.0;
    return by_value ? (double)rating : 1.0;
}

/* ---- model files (model_io.c) ---- */

/* Load a model from a file image in memory (what rec_model_load does after
   mapping the file; also the entry point of the fuzz target). `name` names
   the image in error messages. */
rec_status rec__model_load_mem(rec_model **out, const void *data, size_t len,
                               const char *name, rec_error *err);
/* rec_model_save in a chosen byte order (non-zero: big-endian), so tests can
   make the file a host of the other byte order would write. */
rec_status rec__model_save_order(const rec_model *m, const char *path,
                                 int big_endian, rec_error *err);

/* ---- small helpers ---- */

/* Dot product with eight independent partial sums (vectorisable without
   reassociation, and the same result on every call). Shared by serving
   (recommend.c) and implicit ALS. */
static inline float rec__dotf(const float *a, const float *b, int k)
{
    float acc[8] = {0};
    int f = 0;
    for (; f + 8 <= k; f += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += a[f + l] * b[f + l];
    float tail = 0.0f;
    for (; f < k; f++)
        tail += a[f] * b[f];
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) +
           ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

/* splitmix64: deterministic, seedable, stateless per step. */
static inline uint64_t rec__splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

#endif /* MOVIEME_INTERNAL_H */
