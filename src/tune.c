/*
 * tune.c - validation-based search of ALS parameters (rec_tune_als).
 *
 * The data is split once (a random fraction, leave-k-out per user, or k
 * folds); every point of the grid is trained on the training part(s) with
 * rec__train_als_from() and scored on the held-out part(s). Calls flow one
 * way: tuning calls training and evaluation, never the reverse.
 *
 * Cheapness:
 *  - the grid is walked as regularisation paths (one per combination of
 *    the other values, reg from large to small); a point starts from the
 *    previous point's factors and needs a few iterations, not a full run;
 *  - a point is scored after a first stage of its iterations and abandoned
 *    when it is clearly worse than the best so far (a warm start from the
 *    stage-1 model continues its training exactly, so staging costs one
 *    evaluation and nothing else);
 *  - a path ends once it keeps getting worse (the metric is unimodal in
 *    reg in practice).
 *
 * The hybrid model (docs/ranking.md): the points train the rating model;
 * the preference model does not depend on the rating model's parameters,
 * so it is trained once per fold and preference setting and copied into
 * every point that needs a ranking, and the blend needs no training at
 * all: the same models are ranked again at each (blend, blend_shrink).
 * Under RMSE the points need the preference model only for the preference
 * term of predicted ratings (rating_pref_weight/shift): its scores of the
 * validation ratings are computed once per fold, and each point fits the
 * term to its residuals by least squares (the blend search then ranks the
 * best point); under nDCG every point is ranked as rec_top_n ranks.
 *
 * Determinism: splits, training and evaluation are deterministic whatever
 * the thread count, and the search order is fixed, so is the result.
 */
#include "internal.h"

#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GRID_POINTS 100000
#define MAX_FOLDS 100

/* auto_blend: the base blend times these, and the margin of validation
   nDCG another must win by (ml-latest-small's blends score within 0.3% of
   each other, noise that does not carry to its test ratings; on the
   synthetic sets blend 0 is 11% better at the tuned reg and is on test
   too) */
static const double auto_blend_factors[] = {1.0, 0.5, 0.25, 0.0};
#define AUTO_BLENDS (sizeof auto_blend_factors / sizeof *auto_blend_factors)
#define AUTO_BLEND_MARGIN 0.02

/* 0.16, 0.14 and 0.1: ml-latest-small's optimum lies between 0.12 and 0.16
   (test RMSE 0.8392 -> 0.8383 at three more warm points) */
static const double default_regs[] = {0.3,  0.2,  0.16, 0.14, 0.12, 0.1,
                                      0.08, 0.05, 0.03, 0.02, 0.012};

void rec_tune_options_init(rec_tune_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->version = REC_TUNE_OPTIONS_VERSION;
    rec_als_params_init(&o->base);
    o->metric = REC_METRIC_RMSE;
    o->k = 10;
    o->relevant_min = 4.0f;
    o->validation = REC_VALIDATION_RANDOM;
    o->fraction = 0.1;
    o->leave_out = 1;
    o->folds = 5;
    o->split_seed = 1;
    o->warm_start = 1;
    o->warm_iterations = 0;
    o->early_stop = 0.02;
    o->path_patience = 1;
    o->fit_rating_pref = 1;
    o->auto_blend = 1;
}

/* ---- options ---- */

static rec_status check_list(const void *list, size_t n, const char *name,
                             rec_error *err)
{
    if (n > 0 && !list)
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: %s is NULL but n_%s is %zu", name,
                         name, n);
    if (n > MAX_GRID_POINTS)
        return rec__fail(err, REC_EINVAL, "rec_tune_als: %zu %s (at most %d)",
                         n, name, MAX_GRID_POINTS);
    return REC_OK;
}

static rec_status check_reals(const double *v, size_t n, const char *name,
                              int positive, rec_error *err)
{
    rec_status st = check_list(v, n, name, err);
    if (st != REC_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || v[i] < 0.0 || (positive && v[i] == 0.0))
            return rec__fail(err, REC_EINVAL,
                             "rec_tune_als: %s[%zu] = %g must be finite and "
                             "%s 0",
                             name, i, v[i], positive ? ">" : ">=");
    return REC_OK;
}

/* The caller's options as a version-3 struct: the fields an older caller
   does not have are empty lists and 0 (no fit of the preference term). */
static rec_status read_options(rec_tune_options *o,
                               const rec_tune_options *in, rec_error *err)
{
    if (in->version < 1 || in->version > REC_TUNE_OPTIONS_VERSION)
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_options: unknown version %u (use "
                         "rec_tune_options_init)",
                         (unsigned)in->version);
    memset(o, 0, sizeof *o);
    memcpy(o, in,
           in->version >= 3   ? sizeof *o
           : in->version == 2 ? offsetof(rec_tune_options, fit_rating_pref)
                              : offsetof(rec_tune_options, bias_priors));
    return REC_OK;
}

/* The version-2 lists need a base that has what they set. */
static rec_status check_hybrid_lists(const rec_tune_options *o,
                                     rec_error *err)
{
    const rec_als_params *b = &o->base;
    int implicit = b->version >= 2 && b->implicit;
    int hybrid = rec__train_hybrid(b);
    rec_status st;
    if ((st = check_reals(o->bias_priors, o->n_bias_priors, "bias_priors", 0,
                          err)) != REC_OK ||
        (st = check_reals(o->preference_regs, o->n_preference_regs,
                          "preference_regs", 0, err)) != REC_OK ||
        (st = check_reals(o->preference_alphas, o->n_preference_alphas,
                          "preference_alphas", 1, err)) != REC_OK ||
        (st = check_reals(o->blends, o->n_blends, "blends", 0, err)) !=
            REC_OK ||
        (st = check_reals(o->blend_shrinks, o->n_blend_shrinks,
                          "blend_shrinks", 0, err)) != REC_OK)
        return st;
    if (o->n_bias_priors && (b->version < 3 || implicit || !b->biases))
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: bias_priors need a base with biases "
                         "(explicit, params version 3)");
    const char *ranking = o->n_preference_regs     ? "preference_regs"
                          : o->n_preference_alphas ? "preference_alphas"
                          : o->n_blends            ? "blends"
                          : o->n_blend_shrinks     ? "blend_shrinks"
                                                   : NULL;
    if (ranking && !hybrid)
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: %s are searched for the hybrid model "
                         "only (base.preference is 0, or base is implicit)",
                         ranking);
    if ((o->n_preference_regs || o->n_preference_alphas) &&
        o->metric != REC_METRIC_NDCG)
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: %s change the ranking, not the "
                         "RMSE: tune them on REC_METRIC_NDCG",
                         o->n_preference_regs ? "preference_regs"
                                              : "preference_alphas");
    return REC_OK;
}

static rec_status check_options(const rec_tune_options *o,
                                const rec_ratings *r, rec_error *err)
{
    rec_status st = rec__train_check(r, &o->base, err);
    if (st != REC_OK)
        return st;
    /* (rec__train_check covers the implicit parameters too) */
    int implicit = o->base.version >= 2 && o->base.implicit;
    if (o->metric != REC_METRIC_RMSE && o->metric != REC_METRIC_NDCG)
        return rec__fail(err, REC_EINVAL, "rec_tune_als: unknown metric %d",
                         o->metric);
    if (implicit && o->metric != REC_METRIC_NDCG)
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: an implicit model predicts no "
                         "ratings: tune it on REC_METRIC_NDCG");
    if (o->k < 1)
        return rec__fail(err, REC_EINVAL, "rec_tune_als: k %d must be >= 1",
                         o->k);
    if (!isfinite(o->relevant_min))
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: relevant_min must be finite");
    switch (o->validation) {
    case REC_VALIDATION_RANDOM:
        if (!(o->fraction > 0.0 && o->fraction < 1.0))
            return rec__fail(err, REC_EINVAL,
                             "rec_tune_als: validation fraction %g not in "
                             "(0, 1)",
                             o->fraction);
        break;
    case REC_VALIDATION_PER_USER:
        if (o->leave_out < 1)
            return rec__fail(err, REC_EINVAL,
                             "rec_tune_als: leave_out %d must be >= 1",
                             o->leave_out);
        break;
    case REC_VALIDATION_FOLDS:
        if (o->folds < 2 || o->folds > MAX_FOLDS)
            return rec__fail(err, REC_EINVAL,
                             "rec_tune_als: folds %d out of range 2..%d",
                             o->folds, MAX_FOLDS);
        break;
    default:
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: unknown validation %d", o->validation);
    }
    if ((st = check_reals(o->regs, o->n_regs, "regs", 0, err)) != REC_OK ||
        (st = check_reals(o->alphas, o->n_alphas, "alphas", 1, err)) !=
            REC_OK ||
        (st = check_reals(o->bias_regs, o->n_bias_regs, "bias_regs", 0,
                          err)) != REC_OK ||
        (st = check_list(o->ranks, o->n_ranks, "ranks", err)) != REC_OK)
        return st;
    for (size_t i = 0; i < o->n_ranks; i++) {
        rec_als_params p = o->base;
        p.rank = o->ranks[i];
        if (rec__train_check(r, &p, NULL) != REC_OK)
            return rec__fail(err, REC_EINVAL,
                             "rec_tune_als: ranks[%zu] = %d out of range", i,
                             o->ranks[i]);
    }
    if (o->n_alphas > 0 && !implicit)
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: alphas are searched for implicit "
                         "ALS only (base.implicit is 0)");
    if ((st = check_hybrid_lists(o, err)) != REC_OK)
        return st;
    if (o->warm_iterations < 0)
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: warm_iterations %d must be >= 0",
                         o->warm_iterations);
    if (!isfinite(o->early_stop) || o->early_stop < 0.0)
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: early_stop %g must be finite and "
                         ">= 0",
                         o->early_stop);
    if (o->path_patience < 0)
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: path_patience %d must be >= 0",
                         o->path_patience);
    size_t nr = o->n_regs ? o->n_regs : sizeof default_regs /
                                            sizeof *default_regs;
    const size_t dims[] = {nr,
                           o->n_ranks,
                           o->n_alphas,
                           o->n_bias_regs,
                           o->n_bias_priors,
                           o->n_preference_regs,
                           o->n_preference_alphas,
                           o->n_blends,
                           o->n_blend_shrinks};
    double grid = 1.0;
    for (size_t i = 0; i < sizeof dims / sizeof *dims; i++)
        grid *= (double)(dims[i] ? dims[i] : 1);
    if (grid > MAX_GRID_POINTS)
        return rec__fail(err, REC_EINVAL,
                         "rec_tune_als: the grid has %.0f points (at most %d)",
                         grid, MAX_GRID_POINTS);
    return REC_OK;
}

/* ---- the search ---- */

typedef struct fold {
    rec_ratings *train, *val;
    rec_model *prev; /* last point of the current path (warm start) */
    rec_model *best; /* model of the best point so far */
    rec_model *pref; /* owned: holds the preference part of the current
                        preference setting (hybrid: ranked points, or the
                        preference term), or NULL until the first point of
                        that setting */
    float *val_pref; /* with `pref`: its score of each validation rating
                        (CSR order; NAN where the term does not apply) */
} fold;

/* What the preference part depends on among the searched values. */
typedef struct pref_key {
    int k;
    double reg, alpha;
} pref_key;

typedef struct tuner {
    const rec_tune_options *o;
    int nt;
    fold *folds;
    int n_folds;
    rec_tune_point *out;
    size_t cap, n;
    rec_tune_point best;
    int have_best;
    size_t best_index, points_max;
    double t0;
    int cancelled;   /* the callback asked to stop */
    int hybrid;      /* base is the hybrid model */
    int rank_points; /* every point is ranked (hybrid, nDCG): it gets the
                        preference part and is scored at every pair */
    int pref_term;   /* predictions carry the preference term (hybrid) */
    int fit_pref;    /* ... fitted at each point (o->fit_rating_pref) */
    size_t n_pairs;  /* (blend, blend_shrink) pairs (1 without lists) */
    pref_key key;    /* of the folds' `pref` */
    rec_tune_point *rows; /* the current point's rows, n_pairs of them */
} tuner;

static int better(const tuner *t, double a, double b)
{
    return t->o->metric == REC_METRIC_NDCG ? a > b : a < b;
}

static int clearly_worse(const tuner *t, double m)
{
    double b = t->best.metric, e = t->o->early_stop;
    return t->o->metric == REC_METRIC_NDCG ? m < b * (1.0 - e)
                                           : m > b * (1.0 + e);
}

/* Worse than `ref` by more than noise (1e-4 relative): a plateau of
   regs that regularise every factor away scores the same to 1e-6. */
static int clearly_above(const tuner *t, double m, double ref)
{
    return t->o->metric == REC_METRIC_NDCG ? m < ref * (1.0 - 1e-4)
                                           : m > ref * (1.0 + 1e-4);
}

/* Release a model no fold slot refers to any more. */
static void drop(fold *f, rec_model *m)
{
    if (m && m != f->prev && m != f->best)
        rec_model_free(m);
}

static void drop_prefs(tuner *t)
{
    for (int i = 0; t->folds && i < t->n_folds; i++) {
        rec_model_free(t->folds[i].pref);
        t->folds[i].pref = NULL;
        free(t->folds[i].val_pref);
        t->folds[i].val_pref = NULL;
    }
}

static void free_folds(tuner *t)
{
    drop_prefs(t);
    for (int i = 0; t->folds && i < t->n_folds; i++) {
        fold *f = &t->folds[i];
        if (f->best != f->prev)
            rec_model_free(f->best);
        rec_model_free(f->prev);
        rec_ratings_free(f->train);
        rec_ratings_free(f->val);
    }
    free(t->folds);
    t->folds = NULL;
}

static rec_status make_folds(tuner *t, const rec_ratings *r, rec_error *err)
{
    const rec_tune_options *o = t->o;
    t->n_folds = o->validation == REC_VALIDATION_FOLDS ? o->folds : 1;
    t->folds = calloc((size_t)t->n_folds, sizeof *t->folds);
    if (!t->folds)
        return rec__fail(err, REC_ENOMEM, "rec_tune_als: out of memory");
    for (int i = 0; i < t->n_folds; i++) {
        fold *f = &t->folds[i];
        rec_status st;
        if (o->validation == REC_VALIDATION_RANDOM)
            st = rec_ratings_split(&f->train, &f->val, r, o->fraction,
                                   o->split_seed, err);
        else if (o->validation == REC_VALIDATION_PER_USER)
            st = rec_ratings_split_per_user(&f->train, &f->val, r,
                                            o->leave_out, o->split_seed, err);
        else
            st = rec__ratings_split_fold(&f->train, &f->val, r, t->n_folds, i,
                                         o->split_seed, err);
        if (st != REC_OK)
            return st;
        if (f->train->nnz == 0 || f->val->nnz == 0)
            return rec__fail(err, REC_EINVAL,
                             "rec_tune_als: the validation split left %s "
                             "empty (%zu ratings: too few to tune)",
                             f->train->nnz == 0 ? "the training part"
                                                : "the validation part",
                             r->nnz);
    }
    return REC_OK;
}

/* The rating model's validation predictions before clamping, with
   rec_predict's fallbacks (rec__predict_parts), in CSR order. */
static void val_raw(float *raw, const rec_model *m, const rec_ratings *val,
                    int nt)
{
#pragma omp parallel for num_threads(nt) schedule(dynamic, 64)
    for (size_t u = 0; u < val->n_users; u++)
        for (uint64_t e = val->user_off[u]; e < val->user_off[u + 1]; e++)
            raw[e] = rec__predict_parts(m, val->user_ids[u],
                                        val->movie_ids[val->user_items[e]],
                                        NULL);
}

/* Sums of the least-squares fit of e = r - raw on [s, 1] over the
   validation ratings that have a preference score s. */
typedef struct pref_fit {
    double n, s, ss, e, se;
} pref_fit;

static void fit_add(pref_fit *a, const float *raw, const float *ps,
                    const rec_ratings *val)
{
    for (uint64_t e = 0; e < val->nnz; e++) {
        if (isnan(ps[e]))
            continue;
        double s = ps[e], d = (double)val->user_vals[e] - raw[e];
        a->n += 1.0;
        a->s += s;
        a->ss += s * s;
        a->e += d;
        a->se += s * d;
    }
}

/* rating_pref_weight and rating_pref_shift from the sums; none when the
   scores do not vary. */
static void fit_solve(const pref_fit *a, double *w, double *b)
{
    double var = a->n * a->ss - a->s * a->s;
    *w = *b = 0.0;
    if (a->n < 2.0 || !(var > 1e-9 * a->n * a->ss))
        return;
    *w = (a->n * a->se - a->s * a->e) / var;
    *b = (a->e - *w * a->s) / a->n;
}

/* Validation RMSE of predictions raw + w * s + b (where s applies),
   clamped as rec_predict clamps; per-user sums added in user order. */
static double fold_rmse(const float *raw, const float *ps,
                        const rec_ratings *val, const rec_model *m, double w,
                        double b)
{
    double total = 0.0;
    for (size_t u = 0; u < val->n_users; u++) {
        double s = 0.0;
        for (uint64_t e = val->user_off[u]; e < val->user_off[u + 1]; e++) {
            float p = raw[e];
            if (ps && !isnan(ps[e]))
                p += (float)(w * ps[e] + b);
            double d = (double)rec__clamp_rating(m, p) - val->user_vals[e];
            s += d * d;
        }
        total += s;
    }
    return sqrt(total / (double)val->nnz);
}

/* Mean validation RMSE of the current models of every fold, with the
   preference term: fitted on all folds' validation ratings (*w, *b), or
   the base's. */
static rec_status score_rmse(double *rmse, double *w, double *b, tuner *t,
                             rec_model **models, rec_error *err)
{
    float **raw = calloc((size_t)t->n_folds, sizeof *raw);
    rec_status st = raw ? REC_OK
                        : rec__fail(err, REC_ENOMEM,
                                    "rec_tune_als: out of memory");
    pref_fit fit = {0};
    for (int i = 0; st == REC_OK && i < t->n_folds; i++) {
        const rec_ratings *val = t->folds[i].val;
        raw[i] = malloc(val->nnz * sizeof **raw);
        if (!raw[i]) {
            st = rec__fail(err, REC_ENOMEM, "rec_tune_als: out of memory");
            break;
        }
        val_raw(raw[i], models[i], val, t->nt);
        if (t->fit_pref && t->folds[i].val_pref)
            fit_add(&fit, raw[i], t->folds[i].val_pref, val);
    }
    *w = *b = 0.0;
    if (t->fit_pref)
        fit_solve(&fit, w, b);
    else if (t->pref_term) {
        *w = t->o->base.rating_pref_weight;
        *b = t->o->base.rating_pref_shift;
    }
    double sr = 0.0;
    for (int i = 0; st == REC_OK && i < t->n_folds; i++) {
        fold *f = &t->folds[i];
        sr += fold_rmse(raw[i], t->pref_term ? f->val_pref : NULL, f->val,
                        models[i], *w, *b);
    }
    for (int i = 0; raw && i < t->n_folds; i++)
        free(raw[i]);
    free(raw);
    *rmse = sr / t->n_folds;
    return st;
}

/* Mean validation nDCG@k of the current models of every fold:
   rec_evaluate's, the ranking of rec_top_n (which the term does not
   change). */
static rec_status score_ndcg(double *ndcg, tuner *t, rec_model **models,
                             rec_error *err)
{
    double sn = 0.0;
    for (int i = 0; i < t->n_folds; i++) {
        rec_eval_result ev;
        rec_status st = rec_evaluate(&ev, models[i], t->folds[i].val,
                                     t->o->k, t->o->relevant_min, err);
        if (st != REC_OK)
            return st;
        sn += ev.ndcg_at_k;
    }
    *ndcg = sn / t->n_folds;
    return REC_OK;
}

/* The (blend, blend_shrink) pair i of the lists (base values for a list
   not given). */
static void pair_at(const tuner *t, size_t i, const rec_als_params *p,
                    double *blend, double *shrink)
{
    const rec_tune_options *o = t->o;
    size_t ns = o->n_blend_shrinks ? o->n_blend_shrinks : 1;
    *blend = o->n_blends ? o->blends[i / ns] : p->blend;
    *shrink = o->n_blend_shrinks ? o->blend_shrinks[i % ns] : p->blend_shrink;
}

/* Rank the hybrid models of every fold with another blend: the ranking
   vectors are derived again, nothing is trained. */
static rec_status set_ranking(tuner *t, rec_model **models, double blend,
                              double shrink, rec_error *err)
{
    for (int i = 0; i < t->n_folds; i++) {
        models[i]->blend = (float)blend;
        models[i]->blend_shrink = shrink;
        rec_status st = rec__model_finish(models[i], err);
        if (st != REC_OK)
            return st;
    }
    return REC_OK;
}

typedef struct train_ctx {
    tuner *t;
} train_ctx;

/* Training's per-iteration callback: forwards to the tuning callback so a
   long point can be cancelled. */
static int on_iteration(void *ud, const rec_progress *pr)
{
    tuner *t = ((train_ctx *)ud)->t;
    rec_tune_progress tp = {.points_done = t->n,
                            .points_max = t->points_max,
                            .iteration = pr->iteration,
                            .point = NULL,
                            .best = t->have_best ? &t->best : NULL,
                            .seconds = omp_get_wtime() - t->t0};
    if (t->o->progress(t->o->progress_userdata, &tp) != 0) {
        t->cancelled = 1;
        return 1;
    }
    return 0;
}

static rec_status train_failed(tuner *t, rec_status st, rec_error *err)
{
    if (t->cancelled)
        return rec__fail(err, REC_ECANCELED, "tuning cancelled at point %zu",
                         t->n + 1);
    return st;
}

/* The preference scores of fold f's validation ratings, from f->pref. */
static rec_status score_val_pref(fold *f, int nt, rec_error *err)
{
    const rec_ratings *val = f->val;
    free(f->val_pref);
    f->val_pref = malloc(val->nnz * sizeof *f->val_pref);
    if (!f->val_pref)
        return rec__fail(err, REC_ENOMEM, "rec_tune_als: out of memory");
#pragma omp parallel for num_threads(nt) schedule(dynamic, 64)
    for (size_t u = 0; u < val->n_users; u++)
        for (uint64_t e = val->user_off[u]; e < val->user_off[u + 1]; e++)
            rec__predict_parts(f->pref, val->user_ids[u],
                               val->movie_ids[val->user_items[e]],
                               &f->val_pref[e]);
    return REC_OK;
}

/* Give the rating model `m` of fold i the preference part of `p` (its
   full iterations): trained on the fold's first point of the setting,
   copied from it afterwards. */
static rec_status attach_pref(tuner *t, int i, rec_model *m,
                              const rec_als_params *p, rec_error *err)
{
    fold *f = &t->folds[i];
    if (f->pref) {
        rec_status st = rec__model_copy_pref(m, f->pref, err);
        return st == REC_OK ? rec__model_finish(m, err) : st;
    }
    rec_als_params q = *p; /* the term is the scorer's, not the model's */
    q.rating_pref_weight = q.rating_pref_shift = 0.0;
    rec_status st = rec__train_preference(m, f->train, &q, err);
    if (st == REC_OK)
        st = rec_model_copy(&f->pref, m, err);
    if (st == REC_OK && t->pref_term)
        st = score_val_pref(f, t->nt, err);
    return st;
}

/* Train every fold for `iters` iterations, from `from[i]` when not NULL:
   the rating model of a hybrid alone, plus its preference part when the
   points are ranked. */
static rec_status train_folds(rec_model **models, tuner *t,
                              const rec_als_params *p, int iters,
                              rec_model *const *from, rec_error *err)
{
    rec_als_params q = *p;
    train_ctx ctx = {t};
    q.progress = t->o->progress ? on_iteration : NULL;
    q.progress_userdata = &ctx;
    rec_als_params pref = q; /* the preference model: all its iterations */
    q.iterations = iters;
    if (t->hybrid)
        q.preference = 0;
    q.rating_pref_weight = q.rating_pref_shift = 0.0;
    for (int i = 0; i < t->n_folds; i++) {
        rec_status st = rec__train_als_from(&models[i], t->folds[i].train, &q,
                                            from ? from[i] : NULL, err);
        /* ranked points need the preference part; the term needs it once
           per fold, for the validation ratings' scores */
        if (st == REC_OK &&
            (t->rank_points || (t->pref_term && !t->folds[i].pref)))
            st = attach_pref(t, i, models[i], &pref, err);
        if (st != REC_OK)
            return train_failed(t, st, err);
    }
    return REC_OK;
}

static void free_models(tuner *t, rec_model **models)
{
    for (int i = 0; i < t->n_folds; i++) {
        drop(&t->folds[i], models[i]);
        models[i] = NULL;
    }
}

/* Zero factors are a fixed point of ALS: a dimension a strong reg drove to
   zero would stay zero all along the path. Before a warm start, user-factor
   columns whose RMS fell below a thousandth of the seeded start's are
   seeded again (rec__init_factors' values), so weaker regs can grow
   them back. The fold's best model is never changed: a copy is. */
static rec_status warm_source(rec_model **out, fold *f, uint64_t seed,
                              int nonneg, rec_error *err)
{
    rec_model *m = f->prev;
    int k = m->rank;
    size_t n = m->n_users;
    double init_rms = 1.0 / sqrt(3.0 * (double)k);
    double *ss = calloc((size_t)k, sizeof *ss);
    float *fresh = NULL;
    if (!ss)
        return rec__fail(err, REC_ENOMEM, "rec_tune_als: out of memory");
    for (size_t u = 0; u < n; u++)
        for (int c = 0; c < k; c++) {
            double v = m->user_factors[u * (size_t)k + c];
            ss[c] += v * v;
        }
    int any = 0;
    for (int c = 0; c < k; c++) {
        ss[c] = sqrt(ss[c] / (double)(n ? n : 1)) < 1e-3 * init_rms;
        any |= ss[c] != 0.0;
    }
    rec_status st = REC_OK;
    if (any && m == f->best) {
        rec_model *copy = NULL;
        st = rec_model_copy(&copy, m, err);
        if (st == REC_OK)
            f->prev = m = copy;
    }
    if (any && st == REC_OK) {
        fresh = malloc(n * (size_t)k * sizeof *fresh);
        if (!fresh)
            st = rec__fail(err, REC_ENOMEM, "rec_tune_als: out of memory");
    }
    if (any && st == REC_OK) {
        rec__init_factors(fresh, n, k, seed, nonneg);
        for (size_t u = 0; u < n; u++)
            for (int c = 0; c < k; c++)
                if (ss[c] != 0.0)
                    m->user_factors[u * (size_t)k + c] =
                        fresh[u * (size_t)k + c];
    }
    free(fresh);
    free(ss);
    *out = m;
    return st;
}

/* Score the models of a point into t->rows: one row, or with ranked
   points one per (blend, blend_shrink) pair. *best_row: the row of the
   best metric (ties: the first). */
static rec_status score_rows(tuner *t, rec_model **models,
                             const rec_als_params *p, size_t *best_row,
                             rec_error *err)
{
    int want_ndcg = t->o->metric == REC_METRIC_NDCG;
    *best_row = 0;
    for (size_t i = 0; i < t->n_pairs; i++) {
        rec_tune_point *row = &t->rows[i];
        double t0 = omp_get_wtime();
        rec_status st = REC_OK;
        if (t->rank_points) {
            pair_at(t, i, p, &row->params.blend, &row->params.blend_shrink);
            st = set_ranking(t, models, row->params.blend,
                             row->params.blend_shrink, err);
        }
        row->ndcg = -1.0;
        if (st == REC_OK)
            st = score_rmse(&row->rmse, &row->params.rating_pref_weight,
                            &row->params.rating_pref_shift, t, models, err);
        if (st == REC_OK && want_ndcg)
            st = score_ndcg(&row->ndcg, t, models, err);
        if (st != REC_OK)
            return st;
        row->metric = want_ndcg ? row->ndcg : row->rmse;
        row->seconds = omp_get_wtime() - t0;
        if (better(t, row->metric, t->rows[*best_row].metric))
            *best_row = i;
    }
    return REC_OK;
}

/* Train and score one point into t->rows (*best_row: its best row); on
   success its models become the folds' `prev` (and `best` when a row
   wins). */
static rec_status run_point(tuner *t, const rec_als_params *p, int warm,
                            size_t *best_row, rec_error *err)
{
    const rec_tune_options *o = t->o;
    int n = t->n_folds;
    double t0 = omp_get_wtime();
    rec_model **cur = calloc((size_t)n, sizeof *cur);
    rec_model **from = calloc((size_t)n, sizeof *from);
    if (!cur || !from) {
        free(cur);
        free(from);
        return rec__fail(err, REC_ENOMEM, "rec_tune_als: out of memory");
    }
    rec_tune_point pt;
    memset(&pt, 0, sizeof pt);
    pt.params = *p;
    pt.params.progress = NULL;
    pt.params.progress_userdata = NULL;
    pt.warm = warm;
    for (size_t i = 0; i < t->n_pairs; i++)
        t->rows[i] = pt;
    int total = p->iterations;
    if (warm) {
        total = o->warm_iterations > 0 ? o->warm_iterations
                                       : p->iterations / 3;
        if (total < 2)
            total = 2;
        if (total > p->iterations && o->warm_iterations == 0)
            total = p->iterations;
        for (int i = 0; i < n; i++) {
            rec_status rs = warm_source(&from[i], &t->folds[i], p->seed,
                                        p->nonnegative != 0, err);
            if (rs != REC_OK) {
                free(cur);
                free(from);
                return rs;
            }
        }
    }
    /* only warm points are staged: one iteration from a neighbour's
       factors is near its end, a cold start after a few is not */
    int staged = o->early_stop > 0.0 && t->have_best && warm;
    int stage1 = staged ? total / 3 : total;
    if (stage1 < 1)
        stage1 = 1;
    int iterations = stage1, stopped = 0;
    rec_status st = train_folds(cur, t, p, stage1, warm ? from : NULL, err);
    if (st == REC_OK)
        st = score_rows(t, cur, p, best_row, err);
    if (st == REC_OK && stage1 < total) {
        if (clearly_worse(t, t->rows[*best_row].metric)) {
            stopped = 1;
        } else {
            /* continue from the stage-1 factors: exactly the uninterrupted
               training */
            rec_model **next = calloc((size_t)n, sizeof *next);
            if (!next)
                st = rec__fail(err, REC_ENOMEM, "rec_tune_als: out of memory");
            else
                st = train_folds(next, t, p, total - stage1, cur, err);
            free_models(t, cur);
            if (next && st != REC_OK)
                free_models(t, next);
            if (next)
                memcpy(cur, next, (size_t)n * sizeof *cur);
            free(next);
            iterations = total;
            if (st == REC_OK)
                st = score_rows(t, cur, p, best_row, err);
        }
    }
    free(from);
    if (st != REC_OK) {
        free_models(t, cur);
        free(cur);
        return st;
    }
    /* the first row carries the training, the others their ranking */
    double scoring = 0.0;
    for (size_t i = 0; i < t->n_pairs; i++) {
        t->rows[i].iterations = iterations;
        t->rows[i].stopped_early = stopped;
        t->rows[i].reranked = i > 0;
        scoring += t->rows[i].seconds;
    }
    t->rows[0].seconds += omp_get_wtime() - t0 - scoring;
    int wins = 0;
    for (size_t i = 0; i < t->n_pairs; i++)
        if (!t->have_best || better(t, t->rows[i].metric, t->best.metric)) {
            t->best = t->rows[i];
            t->have_best = 1;
            t->best_index = t->n + i;
            wins = 1;
        }
    for (int i = 0; i < n; i++) {
        fold *f = &t->folds[i];
        rec_model *old_prev = f->prev, *old_best = f->best;
        f->prev = cur[i];
        if (wins)
            f->best = cur[i];
        drop(f, old_prev);
        if (old_best != old_prev)
            drop(f, old_best);
    }
    free(cur);
    return REC_OK;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static rec_status point_done(tuner *t, const rec_tune_point *pt,
                             rec_error *err)
{
    if (t->n < t->cap)
        t->out[t->n] = *pt;
    t->n++;
    if (!t->o->progress)
        return REC_OK;
    rec_tune_progress tp = {.points_done = t->n,
                            .points_max = t->points_max,
                            .iteration = 0,
                            .point = pt,
                            .best = &t->best,
                            .seconds = omp_get_wtime() - t->t0};
    if (t->o->progress(t->o->progress_userdata, &tp) != 0)
        return rec__fail(err, REC_ECANCELED, "tuning cancelled after point %zu",
                         t->n);
    return REC_OK;
}

/* A new preference setting: the folds' preference parts are trained
   again at its first point. */
static void new_pref_setting(tuner *t, const rec_als_params *p)
{
    pref_key k = {p->preference_rank > 0 ? p->preference_rank : p->rank,
                  p->preference_reg, p->preference_alpha};
    if (k.k != t->key.k || k.reg != t->key.reg || k.alpha != t->key.alpha)
        drop_prefs(t);
    t->key = k;
}

/* One regularisation path: regs (descending) for the other values in p. */
static rec_status walk_path(tuner *t, rec_als_params p, const double *regs,
                            size_t n_regs, rec_error *err)
{
    const rec_tune_options *o = t->o;
    int implicit = p.version >= 2 && p.implicit;
    for (int i = 0; i < t->n_folds; i++) { /* a new path starts cold */
        fold *f = &t->folds[i];
        rec_model *old = f->prev;
        f->prev = NULL;
        drop(f, old);
    }
    if (t->rank_points)
        new_pref_setting(t, &p);
    double path_best = 0.0;
    int worse_in_a_row = 0;
    for (size_t i = 0; i < n_regs; i++) {
        p.reg = regs[i];
        int warm = i > 0 && o->warm_start && !implicit;
        size_t best_row = 0;
        rec_status st = run_point(t, &p, warm, &best_row, err);
        if (st != REC_OK)
            return st;
        double metric = t->rows[best_row].metric;
        for (size_t r = 0; r < t->n_pairs; r++)
            if ((st = point_done(t, &t->rows[r], err)) != REC_OK)
                return st;
        if (i == 0 || better(t, metric, path_best)) {
            path_best = metric;
            worse_in_a_row = 0;
        } else if (clearly_above(t, metric, path_best) &&
                   o->path_patience > 0 &&
                   ++worse_in_a_row >= o->path_patience) {
            break; /* a flat stretch goes on: only worse points count */
        }
    }
    return REC_OK;
}

/* Under RMSE without blend lists: rank the best point at the automatic
   blends too (rec_tune_options.auto_blend). */
static int auto_blends(const tuner *t)
{
    const rec_tune_options *o = t->o;
    return t->hybrid && !t->rank_points && o->auto_blend &&
           !o->n_blends && !o->n_blend_shrinks && o->base.blend > 0.0;
}

/* After a search on RMSE: nDCG of the best point with its own ranking
   (a hybrid's best models get their preference part first), and with
   blend lists the pair of best nDCG, each pair a row. */
static rec_status rank_best(double *out, tuner *t, rec_error *err)
{
    int n = t->n_folds;
    rec_model **models = calloc((size_t)n, sizeof *models);
    if (!models)
        return rec__fail(err, REC_ENOMEM, "rec_tune_als: out of memory");
    rec_status st = REC_OK;
    rec_als_params p = t->best.params;
    train_ctx ctx = {t};
    p.progress = t->o->progress ? on_iteration : NULL;
    p.progress_userdata = &ctx;
    for (int i = 0; st == REC_OK && i < n; i++) {
        models[i] = t->folds[i].best;
        /* the fold's preference part when the term made one (the best of
           the first point has it already) */
        if (t->hybrid && !models[i]->pref_rank) {
            st = attach_pref(t, i, models[i], &p, err);
            if (st != REC_OK)
                st = train_failed(t, st, err);
        }
    }
    const rec_tune_options *o = t->o;
    int listed = t->hybrid && (o->n_blends || o->n_blend_shrinks);
    int automatic = auto_blends(t);
    if (st == REC_OK && !listed && !automatic)
        st = score_ndcg(out, t, models, err);
    else if (st == REC_OK) {
        size_t n_pairs = automatic ? AUTO_BLENDS
                                   : (o->n_blends ? o->n_blends : 1) *
                                         (o->n_blend_shrinks
                                              ? o->n_blend_shrinks
                                              : 1);
        rec_tune_point chosen = t->best, base_row = t->best;
        size_t chosen_index = t->best_index, base_index = t->best_index;
        for (size_t i = 0; st == REC_OK && i < n_pairs; i++) {
            rec_tune_point row = t->best;
            double t0 = omp_get_wtime();
            if (automatic)
                row.params.blend = p.blend * auto_blend_factors[i];
            else
                pair_at(t, i, &p, &row.params.blend,
                        &row.params.blend_shrink);
            st = set_ranking(t, models, row.params.blend,
                             row.params.blend_shrink, err);
            if (st == REC_OK)
                st = score_ndcg(&row.ndcg, t, models, err);
            if (st != REC_OK)
                break;
            row.reranked = 1;
            row.stopped_early = 0;
            row.seconds = omp_get_wtime() - t0;
            if (i == 0 || row.ndcg > chosen.ndcg) {
                chosen = row;
                chosen_index = t->n;
            }
            if (i == 0) {
                base_row = row;
                base_index = t->n;
            }
            st = point_done(t, &row, err);
        }
        if (automatic &&
            !(chosen.ndcg > base_row.ndcg * (1.0 + AUTO_BLEND_MARGIN))) {
            chosen = base_row; /* within the noise: the base's blend */
            chosen_index = base_index;
        }
        if (st == REC_OK) {
            t->best = chosen;
            t->best_index = chosen_index;
            *out = chosen.ndcg;
        }
    }
    free(models);
    return st;
}

rec_status rec_tune_als(rec_tune_result *out, rec_tune_point *points,
                        size_t cap, const rec_ratings *r,
                        const rec_tune_options *opts, rec_error *err)
{
    if (!out || !r || !opts || (cap > 0 && !points))
        return rec__fail(err, REC_EINVAL, "rec_tune_als: NULL argument");
    rec_tune_options o;
    rec_status st = read_options(&o, opts, err);
    if (st == REC_OK)
        st = check_options(&o, r, err);
    if (st != REC_OK)
        return st;
    tuner t = {.o = &o, .out = points, .cap = cap, .t0 = omp_get_wtime()};
    t.nt = o.base.n_threads > 0 ? o.base.n_threads : omp_get_max_threads();
    if (t.nt < 1)
        t.nt = 1;
    t.hybrid = rec__train_hybrid(&o.base);
    t.rank_points = t.hybrid && o.metric == REC_METRIC_NDCG;
    t.fit_pref = t.hybrid && o.base.version >= 4 && o.fit_rating_pref;
    t.pref_term = t.fit_pref ||
                  (t.hybrid && o.base.version >= 4 &&
                   (o.base.rating_pref_weight != 0.0 ||
                    o.base.rating_pref_shift != 0.0));
    /* Under RMSE a ranks list searches the rating model's rank: the
       preference model, which does not change the RMSE, keeps the base's
       (following a rank of 64 cost ml-latest-small 0.009 nDCG@10) */
    if (t.hybrid && !t.rank_points && o.n_ranks && !o.base.preference_rank)
        o.base.preference_rank = o.base.rank;
    size_t n_blend_pairs = (o.n_blends ? o.n_blends : 1) *
                           (o.n_blend_shrinks ? o.n_blend_shrinks : 1);
    t.n_pairs = t.rank_points ? n_blend_pairs : 1;

    size_t n_regs = o.n_regs ? o.n_regs
                             : sizeof default_regs / sizeof *default_regs;
    double *regs = malloc(n_regs * sizeof *regs);
    t.rows = calloc(t.n_pairs, sizeof *t.rows);
    if (!regs || !t.rows) {
        free(regs);
        free(t.rows);
        return rec__fail(err, REC_ENOMEM, "rec_tune_als: out of memory");
    }
    memcpy(regs, o.n_regs ? o.regs : default_regs, n_regs * sizeof *regs);
    qsort(regs, n_regs, sizeof *regs, cmp_desc); /* strong to weak */

    /* the paths: every combination of the other lists, rank outermost,
       then these in order (the preference setting changes less often
       than the biases') */
    const struct {
        const double *v;
        size_t n, off;
    } dims[] = {
        {o.alphas, o.n_alphas, offsetof(rec_als_params, alpha)},
        {o.preference_alphas, o.n_preference_alphas,
         offsetof(rec_als_params, preference_alpha)},
        {o.preference_regs, o.n_preference_regs,
         offsetof(rec_als_params, preference_reg)},
        {o.bias_regs, o.n_bias_regs, offsetof(rec_als_params, bias_reg)},
        {o.bias_priors, o.n_bias_priors,
         offsetof(rec_als_params, bias_prior)},
    };
    const int n_dims = (int)(sizeof dims / sizeof *dims);
    size_t n_paths = o.n_ranks ? o.n_ranks : 1;
    for (int d = 0; d < n_dims; d++)
        n_paths *= dims[d].n ? dims[d].n : 1;
    t.points_max = n_paths * n_regs * t.n_pairs +
                   (t.hybrid && !t.rank_points &&
                            (o.n_blends || o.n_blend_shrinks)
                        ? n_blend_pairs
                    : auto_blends(&t) ? AUTO_BLENDS
                                      : 0);
    st = make_folds(&t, r, err);
    for (size_t path = 0; st == REC_OK && path < n_paths; path++) {
        rec_als_params p = o.base;
        size_t rest = path;
        for (int d = n_dims - 1; d >= 0; d--) {
            size_t nd = dims[d].n ? dims[d].n : 1;
            if (dims[d].n)
                *(double *)((char *)&p + dims[d].off) = dims[d].v[rest % nd];
            rest /= nd;
        }
        if (o.n_ranks)
            p.rank = o.ranks[rest];
        st = walk_path(&t, p, regs, n_regs, err);
    }
    double ndcg = t.best.ndcg;
    if (st == REC_OK && o.metric != REC_METRIC_NDCG)
        st = rank_best(&ndcg, &t, err);
    free(regs);
    free(t.rows);
    free_folds(&t);
    if (st != REC_OK)
        return st;

    rec_tune_result res;
    memset(&res, 0, sizeof res);
    const rec_als_params *b = &t.best.params;
    res.best = o.base;
    res.best.rank = b->rank;
    res.best.reg = b->reg;
    res.best.alpha = b->alpha;
    res.best.bias_reg = b->bias_reg;
    if (o.base.version >= 3) {
        res.best.bias_prior = b->bias_prior;
        res.best.preference_reg = b->preference_reg;
        res.best.preference_alpha = b->preference_alpha;
        res.best.blend = b->blend;
        res.best.blend_shrink = b->blend_shrink;
    }
    if (o.base.version >= 4) {
        res.best.rating_pref_weight = b->rating_pref_weight;
        res.best.rating_pref_shift = b->rating_pref_shift;
    }
    res.metric = t.best.metric;
    res.rmse = t.best.rmse;
    res.ndcg = ndcg;
    res.n_points = t.n;
    res.best_index = t.best_index;
    res.seconds = omp_get_wtime() - t.t0;
    *out = res;
    return REC_OK;
}
