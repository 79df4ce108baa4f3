/*
 * train.c - rec_train_als(), the one front door of training.
 *
 * It checks the parameters, fills a new model with what serving needs
 * (ids, rated lists, metadata, counts), runs the solvers and derives the
 * ranking vectors (rec__model_finish). The solvers, als.c (explicit, with
 * biases) and als_implicit.c (implicit, Hu-Koren-Volinsky), only fit
 * factor arrays; they know nothing of each other or of this file. The MPI
 * trainer (src/mpi/als_mpi.c) uses the same checks, model filling and
 * weighting, so that it builds the same model.
 *
 * The default model is a hybrid: an explicit rating model (rec_predict)
 * plus a preference model learned from the same ratings treated as BM25-
 * weighted interactions (what people chose to rate), which top-N ranks by,
 * blended with the predicted rating (docs/ranking.md).
 */
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void rec_als_params_init(rec_als_params *p)
{
    if (!p)
        return;
    memset(p, 0, sizeof *p);
    p->version = REC_ALS_PARAMS_VERSION;
    p->rank = 32;
    p->iterations = 10;
    p->reg = 0.12;
    p->seed = 42;
    p->n_threads = 0;
    p->nonnegative = 0;
    p->biases = 1;
    p->bias_reg = 0.1;
    p->progress = NULL;
    p->progress_userdata = NULL;
    /* version 2: implicit feedback */
    p->implicit = 0;
    p->alpha = 1.0;
    p->solver = REC_SOLVER_CG;
    p->cg_steps = 3;
    p->implicit_min_rating = 0.0f;
    p->implicit_weight_by_value = 0;
    /* version 3: the hybrid ranking model (values chosen on validation
       splits of ml-latest-small and the synthetic sets: docs/ranking.md) */
    p->preference = 1;
    p->preference_rank = 128;
    p->preference_reg = REC_PREFERENCE_REG_AUTO;
    p->preference_alpha = 0.3;
    p->preference_iterations = 0;
    p->preference_weighting = REC_WEIGHT_BM25;
    p->implicit_weighting = REC_WEIGHT_NONE;
    p->bm25_k1 = 100.0;
    p->bm25_b = 1.0;
    p->blend = 0.2;
    p->blend_shrink = 10.0;
    p->bias_prior = 0.5;
    p->preference_confidence = REC_CONFIDENCE_SCALED;
    /* version 4: no preference term in predicted ratings unless tuned */
    p->rating_pref_weight = 0.0;
    p->rating_pref_shift = 0.0;
}

static bool finite_nonneg(double v)
{
    return isfinite(v) && v >= 0.0;
}

static rec_status check_implicit(const rec_als_params *p, rec_error *err)
{
    if (p->nonnegative)
        return rec__fail(err, REC_EINVAL,
                         "implicit ALS: nonnegative factors not supported");
    if (!(p->alpha > 0.0) || !isfinite(p->alpha))
        return rec__fail(err, REC_EINVAL,
                         "implicit ALS: alpha must be finite and > 0");
    if (!isfinite(p->implicit_min_rating))
        return rec__fail(err, REC_EINVAL,
                         "implicit ALS: implicit_min_rating must be finite");
    return REC_OK;
}

/* Solver settings, used by implicit mode and the preference model. */
static rec_status check_solver(const rec_als_params *p, rec_error *err)
{
    if (p->solver != REC_SOLVER_CG && p->solver != REC_SOLVER_CHOLESKY)
        return rec__fail(err, REC_EINVAL, "implicit ALS: unknown solver %d",
                         p->solver);
    if (p->solver == REC_SOLVER_CG && (p->cg_steps < 1 || p->cg_steps > 1000))
        return rec__fail(err, REC_EINVAL,
                         "implicit ALS: cg_steps %d out of range 1..1000",
                         p->cg_steps);
    return REC_OK;
}

static rec_status check_v3(const rec_als_params *p, rec_error *err)
{
    if ((p->preference_weighting != REC_WEIGHT_NONE &&
         p->preference_weighting != REC_WEIGHT_BM25) ||
        (p->implicit_weighting != REC_WEIGHT_NONE &&
         p->implicit_weighting != REC_WEIGHT_BM25))
        return rec__fail(err, REC_EINVAL, "unknown weighting %d",
                         p->preference_weighting != REC_WEIGHT_NONE &&
                                 p->preference_weighting != REC_WEIGHT_BM25
                             ? p->preference_weighting
                             : p->implicit_weighting);
    if (!finite_nonneg(p->bm25_k1))
        return rec__fail(err, REC_EINVAL, "bm25_k1 must be finite and >= 0");
    if (!(p->bm25_b >= 0.0 && p->bm25_b <= 1.0))
        return rec__fail(err, REC_EINVAL, "bm25_b must be in 0..1");
    if (!finite_nonneg(p->bias_prior))
        return rec__fail(err, REC_EINVAL,
                         "bias_prior must be finite and >= 0");
    if (p->implicit || !p->preference)
        return REC_OK;
    if (p->preference_rank < 0 || p->preference_rank > REC_MAX_RANK)
        return rec__fail(err, REC_EINVAL,
                         "preference_rank %d out of range 0..%d",
                         p->preference_rank, REC_MAX_RANK);
    if (p->preference_iterations < 0)
        return rec__fail(err, REC_EINVAL,
                         "preference_iterations %d must be >= 0",
                         p->preference_iterations);
    if (!finite_nonneg(p->preference_reg) &&
        p->preference_reg != REC_PREFERENCE_REG_AUTO)
        return rec__fail(err, REC_EINVAL,
                         "preference_reg must be finite and >= 0, or "
                         "REC_PREFERENCE_REG_AUTO");
    if (!(p->preference_alpha > 0.0) || !isfinite(p->preference_alpha))
        return rec__fail(err, REC_EINVAL,
                         "preference_alpha must be finite and > 0");
    if (p->preference_confidence != REC_CONFIDENCE_LINEAR &&
        p->preference_confidence != REC_CONFIDENCE_SCALED)
        return rec__fail(err, REC_EINVAL,
                         "preference_confidence %d is not "
                         "REC_CONFIDENCE_LINEAR or REC_CONFIDENCE_SCALED",
                         p->preference_confidence);
    if (!finite_nonneg(p->blend))
        return rec__fail(err, REC_EINVAL, "blend must be finite and >= 0");
    if (!finite_nonneg(p->blend_shrink))
        return rec__fail(err, REC_EINVAL,
                         "blend_shrink must be finite and >= 0");
    return REC_OK;
}

static rec_status check_rating_pref(const rec_als_params *p, bool hybrid,
                                    rec_error *err)
{
    if (!isfinite(p->rating_pref_weight) || !isfinite(p->rating_pref_shift))
        return rec__fail(err, REC_EINVAL,
                         "rating_pref_weight and rating_pref_shift must be "
                         "finite");
    if ((p->rating_pref_weight != 0.0 || p->rating_pref_shift != 0.0) &&
        !hybrid)
        return rec__fail(err, REC_EINVAL,
                         "rating_pref_weight and rating_pref_shift need the "
                         "hybrid model (preference on, not implicit)");
    return REC_OK;
}

rec_status rec__train_check(const rec_ratings *r, const rec_als_params *p,
                            rec_error *err)
{
    if (!r || !p)
        return rec__fail(err, REC_EINVAL, "rec_train_als: NULL argument");
    if (p->version < 1 || p->version > REC_ALS_PARAMS_VERSION)
        return rec__fail(err, REC_EINVAL,
                         "rec_als_params: unknown version %u (use "
                         "rec_als_params_init)",
                         (unsigned)p->version);
    if (p->rank < 1 || p->rank > REC_MAX_RANK)
        return rec__fail(err, REC_EINVAL, "rank %d out of range 1..%d",
                         p->rank, REC_MAX_RANK);
    if (p->iterations < 1)
        return rec__fail(err, REC_EINVAL, "iterations %d must be >= 1",
                         p->iterations);
    if (!(p->reg >= 0.0) || !isfinite(p->reg))
        return rec__fail(err, REC_EINVAL, "reg must be finite and >= 0");
    if (!(p->bias_reg >= 0.0) || !isfinite(p->bias_reg))
        return rec__fail(err, REC_EINVAL, "bias_reg must be finite and >= 0");
    if (p->n_threads < 0)
        return rec__fail(err, REC_EINVAL, "n_threads %d must be >= 0",
                         p->n_threads);
    rec_status st;
    bool implicit = p->version >= 2 && p->implicit;
    if (implicit && (st = check_implicit(p, err)) != REC_OK)
        return st;
    bool hybrid = !implicit && p->version >= 3 && p->preference;
    if ((implicit || hybrid) && (st = check_solver(p, err)) != REC_OK)
        return st;
    if (p->version >= 3 && (st = check_v3(p, err)) != REC_OK)
        return st;
    if (p->version >= 4 && (st = check_rating_pref(p, hybrid, err)) != REC_OK)
        return st;
    if (r->nnz == 0 || r->n_users == 0 || r->n_movies == 0)
        return rec__fail(err, REC_EINVAL, "rec_train_als: no ratings");
    return REC_OK;
}

bool rec__train_hybrid(const rec_als_params *p)
{
    return p->version >= 3 && !p->implicit && p->preference;
}

/* The preference part of a hybrid model: its parameters, weighting and
   (zeroed) factors. */
static rec_status setup_preference(rec_model *m, const rec_als_params *p,
                                   rec_error *err)
{
    /* every rating is an interaction weighing its value (measured: +0.015
       nDCG@10 over weight 1 on ml-latest-small) */
    rec__weighting_from_params(&m->weighting, p, p->implicit_min_rating, 1);
    m->pref_reg = p->preference_reg;
    m->pref_alpha = p->preference_alpha;
    m->pref_scaled = p->preference_confidence == REC_CONFIDENCE_SCALED;
    m->blend = (float)p->blend;
    m->blend_shrink = p->blend_shrink;
    if (p->version >= 4) {
        m->rating_pref_weight = p->rating_pref_weight;
        m->rating_pref_shift = p->rating_pref_shift;
    }
    int kp = p->preference_rank > 0 ? p->preference_rank : p->rank;
    return rec__model_alloc_pref(m, kp, err);
}

/* memcpy in one part per thread: copying into a fresh model is mostly
   its first-touch page faults, which the threads then take in parallel
   (the rated lists of 18M ratings: 144 MB). */
static void copy_threads(void *dst, const void *src, size_t bytes, int nt)
{
    size_t parts = bytes >= ((size_t)4 << 20) && nt > 1 ? (size_t)nt : 1;
#pragma omp parallel for num_threads(nt) schedule(static) if (parts > 1)
    for (size_t i = 0; i < parts; i++) {
        size_t a = bytes / parts * i, b = i + 1 == parts ? bytes
                                                           : a + bytes / parts;
        memcpy((char *)dst + a, (const char *)src + a, b - a);
    }
}

rec_status rec__train_fill_model(rec_model *m, const rec_ratings *r,
                                 const rec_als_params *p, rec_error *err)
{
    int nt = p->n_threads > 0 ? p->n_threads : omp_get_max_threads();
    nt = nt < 1 ? 1 : nt;
    memcpy(m->user_ids, r->user_ids, r->n_users * sizeof *m->user_ids);
    memcpy(m->movie_ids, r->movie_ids, r->n_movies * sizeof *m->movie_ids);
    memcpy(m->rated_off, r->user_off, (r->n_users + 1) * sizeof(uint64_t));
    copy_threads(m->rated_items, r->user_items, r->nnz * sizeof(int32_t), nt);
    copy_threads(m->rated_vals, r->user_vals, r->nnz * sizeof(float), nt);
    if (rec__idmap_copy(&m->user_map, &r->user_map) != REC_OK ||
        rec__idmap_copy(&m->movie_map, &r->movie_map) != REC_OK ||
        rec__meta_copy(&m->meta, &r->meta) != REC_OK)
        return rec__fail(err, REC_ENOMEM, "rec_train_als: out of memory");
    double total = 0.0;
    for (size_t j = 0; j < r->n_movies; j++) {
        uint64_t a = r->movie_off[j], b = r->movie_off[j + 1];
        double s = 0.0;
        for (uint64_t t = a; t < b; t++)
            s += r->movie_vals[t];
        total += s;
        m->movie_count[j] = (uint32_t)(b - a);
        m->movie_mean[j] = b > a ? (float)(s / (double)(b - a)) : 0.0f;
    }
    m->rating_min = r->rating_min;
    m->rating_max = r->rating_max;
    m->reg = p->reg;
    if (p->version >= 2 && p->implicit) {
        /* preferences: no biases, mean 0, no clamping */
        m->has_biases = 0;
        m->global_mean = 0.0f;
        m->nonnegative = 0;
        m->bias_reg = 0.0;
        m->implicit = 1;
        m->alpha = p->alpha;
        m->implicit_min_rating = p->implicit_min_rating;
        m->implicit_weight_by_value = p->implicit_weight_by_value != 0;
        rec__weighting_from_params(&m->weighting, p, p->implicit_min_rating,
                                   p->implicit_weight_by_value);
        return REC_OK;
    }
    m->has_biases = p->biases != 0;
    m->global_mean = m->has_biases ? (float)(total / (double)r->nnz) : 0.0f;
    m->bias_reg = p->bias_reg;
    m->bias_prior = p->version >= 3 && m->has_biases ? p->bias_prior : 0.0;
    m->nonnegative = p->nonnegative != 0;
    return rec__train_hybrid(p) ? setup_preference(m, p, err) : REC_OK;
}

void rec__train_implicit_cfg(rec_implicit_cfg *g, const rec_als_params *p,
                             const rec_model *m)
{
    bool implicit = p->version >= 2 && p->implicit;
    int pref_iters = p->preference_iterations > 0 ? p->preference_iterations
                                                  : p->iterations;
    *g = (rec_implicit_cfg){
        .k = implicit ? p->rank : m->pref_rank,
        .iterations = implicit ? p->iterations : pref_iters,
        .solver = p->solver, .cg_steps = p->cg_steps,
        .lambda = implicit ? p->reg : p->preference_reg,
        .alpha = implicit ? p->alpha : p->preference_alpha,
        .conf_base = rec__conf_base(
            !implicit && p->preference_confidence == REC_CONFIDENCE_SCALED),
        .seed = implicit ? p->seed : p->seed ^ 0x2545F4914F6CDD1DULL};
    /* weights are final: every positive one counts, as it is */
    bool weighted = m->weighting.kind != REC_WEIGHT_NONE;
    g->min_rating = weighted ? 0.0f : m->weighting.min_rating;
    g->by_value = weighted ? 1 : m->weighting.by_value;
}

/* The implicit part's interaction values: the ratings themselves without
   weighting (the solver applies min_rating and by_value), else BM25
   weights. Owned arrays in *own_*. */
static rec_status interaction_values(const float **uvals, const float **mvals,
                                     float **own_u, float **own_m,
                                     rec_model *m, const rec_ratings *r,
                                     rec_error *err)
{
    *own_u = *own_m = NULL;
    if (m->weighting.kind == REC_WEIGHT_NONE) {
        *uvals = r->user_vals;
        *mvals = r->movie_vals;
        return REC_OK;
    }
    rec_status st = rec__weigh_dataset(own_u, own_m, &m->interactions,
                                       &m->weighting, r, err);
    if (st != REC_OK)
        return st;
    *uvals = *own_u;
    *mvals = *own_m;
    return REC_OK;
}

/* The implicit part of a filled model: its factors in implicit mode, else
   the preference model of a hybrid. */
static rec_status fit_implicit_part(rec_model *m, const rec_ratings *r,
                                    const rec_als_params *p, int nt,
                                    rec_iter_fn on_iter, void *iter_ctx,
                                    rec_error *err)
{
    rec_implicit_cfg g;
    rec__train_implicit_cfg(&g, p, m);
    const float *uv, *mv;
    float *own_u, *own_m;
    rec_status st = interaction_values(&uv, &mv, &own_u, &own_m, m, r, err);
    if (st == REC_OK && !m->implicit) {
        /* the effective lambda is the model's (fold-in, explain, files) */
        g.lambda = rec__pref_reg_resolve(p, r, uv, &g);
        m->pref_reg = g.lambda;
    }
    if (st == REC_OK)
        st = m->implicit ? rec__implicit_fit(m->user_factors,
                                             m->movie_factors, &m->yty, r, uv,
                                             mv, &g, nt, on_iter, iter_ctx,
                                             err)
                         : rec__implicit_fit(m->pref_user, m->pref_movie,
                                             &m->pref_yty, r, uv, mv, &g, nt,
                                             on_iter, iter_ctx, err);
    free(own_u);
    free(own_m);
    return st;
}

typedef struct progress_ctx {
    const rec_als_params *p;
    double t0;
    int done, total;
} progress_ctx;

static int report(void *ctx, double train_rmse, double loss)
{
    progress_ctx *c = ctx;
    c->done++;
    rec_progress pr = {.iteration = c->done,
                       .iterations = c->total,
                       .train_rmse = train_rmse,
                       .loss = loss,
                       .seconds = omp_get_wtime() - c->t0};
    return c->p->progress(c->p->progress_userdata, &pr);
}

/* A warm start must come from a model of the same dataset: same rank and
   the same users and movies in the same dense order. */
static rec_status check_warm(const rec_model *w, const rec_ratings *r, int k,
                             rec_error *err)
{
    if (w->implicit || w->rank != k || w->n_users != r->n_users ||
        w->n_movies != r->n_movies ||
        memcmp(w->user_ids, r->user_ids, r->n_users * sizeof *r->user_ids) ||
        memcmp(w->movie_ids, r->movie_ids,
               r->n_movies * sizeof *r->movie_ids))
        return rec__fail(err, REC_EINVAL,
                         "warm start: the model does not match the dataset "
                         "or the rank");
    return REC_OK;
}

rec_status rec_train_als(rec_model **out, const rec_ratings *r,
                         const rec_als_params *p, rec_error *err)
{
    return rec__train_als_from(out, r, p, NULL, err);
}

rec_status rec__train_als_from(rec_model **out, const rec_ratings *r,
                               const rec_als_params *p, const rec_model *warm,
                               rec_error *err)
{
    if (!out)
        return rec__fail(err, REC_EINVAL, "rec_train_als: NULL argument");
    *out = NULL;
    rec_status st = rec__train_check(r, p, err);
    if (st != REC_OK)
        return st;
    if (warm && p->version >= 2 && p->implicit)
        return rec__fail(err, REC_EINVAL,
                         "warm start: not supported for implicit ALS");
    if (warm && (st = check_warm(warm, r, p->rank, err)) != REC_OK)
        return st;
    int nt = p->n_threads > 0 ? p->n_threads : omp_get_max_threads();
    if (nt < 1)
        nt = 1;
    bool implicit = p->version >= 2 && p->implicit;
    bool hybrid = rec__train_hybrid(p);
    int pref_iters = hybrid ? (p->preference_iterations > 0
                                   ? p->preference_iterations
                                   : p->iterations)
                            : 0;
    progress_ctx pc = {.p = p, .t0 = omp_get_wtime(),
                       .total = p->iterations + pref_iters};
    rec_iter_fn on_iter = p->progress ? report : NULL;

    rec_model *m = NULL;
    st = rec__model_alloc(&m, p->rank, r->n_users, r->n_movies, r->nnz, err);
    if (st == REC_OK)
        st = rec__train_fill_model(m, r, p, err);
    if (st == REC_OK && !implicit)
        st = rec__explicit_fit(m, r, p, warm, nt, on_iter, &pc, err);
    if (st == REC_OK && (implicit || hybrid))
        st = fit_implicit_part(m, r, p, nt, on_iter, &pc, err);
    if (st == REC_ECANCELED)
        rec__fail(err, st, "training cancelled at iteration %d of %d",
                  pc.done, pc.total);
    if (st == REC_OK)
        st = rec__model_finish(m, err);
    if (st != REC_OK) {
        rec_model_free(m);
        return st;
    }
    *out = m;
    return REC_OK;
}

rec_status rec__train_preference(rec_model *m, const rec_ratings *r,
                                 const rec_als_params *p, rec_error *err)
{
    rec_status st = rec__train_check(r, p, err);
    if (st != REC_OK)
        return st;
    if (!rec__train_hybrid(p) || m->implicit || m->pref_rank ||
        m->n_users != r->n_users || m->n_movies != r->n_movies)
        return rec__fail(err, REC_EINVAL,
                         "preference model: needs hybrid parameters and a "
                         "rating model of the same dataset without one");
    int nt = p->n_threads > 0 ? p->n_threads : omp_get_max_threads();
    if (nt < 1)
        nt = 1;
    progress_ctx pc = {.p = p, .t0 = omp_get_wtime(),
                       .total = p->preference_iterations > 0
                                    ? p->preference_iterations
                                    : p->iterations};
    st = setup_preference(m, p, err);
    if (st == REC_OK)
        st = fit_implicit_part(m, r, p, nt, p->progress ? report : NULL, &pc,
                               err);
    if (st == REC_ECANCELED)
        rec__fail(err, st, "training cancelled at iteration %d of %d",
                  pc.done, pc.total);
    return st == REC_OK ? rec__model_finish(m, err) : st;
}
