/* rec_tune_als: the search finds the optimum of data built for it, warm
   starts agree with cold starts, cancel and bad options fail cleanly, and
   the result does not depend on the thread count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test_util.h"

/* ---- data from known factors: rating = 3 + u . v + noise ---- */

static double unif(uint64_t *s)
{
    return (double)(rec__splitmix64(s) >> 11) / 9007199254740992.0;
}

static double gauss(uint64_t *s)
{
    double a = unif(s) + 1e-12, b = unif(s);
    return sqrt(-2.0 * log(a)) * cos(6.283185307179586 * b);
}

typedef struct planted {
    rec_ratings *train; /* noisy ratings */
    rec_ratings *truth; /* other pairs, noise-free: the true optimum */
} planted;

/* The two sets of rows as ratings (rows and factors are freed). */
static planted planted_from(double *U, double *V, rec_rating *tr, size_t a,
                            rec_rating *te, size_t b)
{
    free(U);
    free(V);
    planted d = {NULL, NULL};
    rec_error e;
    ck_assert_ok(rec_ratings_new(&d.train, &e), &e);
    ck_assert_ok(rec_ratings_new(&d.truth, &e), &e);
    ck_assert_ok(rec_ratings_add(d.train, tr, a, &e), &e);
    ck_assert_ok(rec_ratings_add(d.truth, te, b, &e), &e);
    free(tr);
    free(te);
    return d;
}

/* 800 users x 500 movies from rank-3 factors, each pair observed with
   probability 5% (noisy, into train) or else with 5% into truth. */
static planted make_planted(double noise)
{
    const int nu = 800, nm = 500, k = 3;
    uint64_t s = 11;
    double *U = malloc(sizeof *U * nu * k), *V = malloc(sizeof *V * nm * k);
    rec_rating *tr = malloc(sizeof *tr * nu * nm);
    rec_rating *te = malloc(sizeof *te * nu * nm);
    ck_assert(U && V && tr && te);
    for (int i = 0; i < nu * k; i++)
        U[i] = 0.6 * gauss(&s);
    for (int i = 0; i < nm * k; i++)
        V[i] = 0.6 * gauss(&s);
    size_t a = 0, b = 0;
    for (int u = 0; u < nu; u++)
        for (int j = 0; j < nm; j++) {
            double p = unif(&s);
            if (p >= 0.1)
                continue;
            double v = 3.0;
            for (int f = 0; f < k; f++)
                v += U[u * k + f] * V[j * k + f];
            rec_rating x = {u + 1, j + 1, (float)v};
            if (p < 0.05) {
                double y = v + noise * gauss(&s);
                x.rating = (float)(y < 0.0 ? 0.0 : y);
                tr[a++] = x;
            } else {
                te[b++] = x;
            }
        }
    return planted_from(U, V, tr, a, te, b);
}

static void free_planted(planted *d)
{
    rec_ratings_free(d->train);
    rec_ratings_free(d->truth);
}

static const double grid[] = {0.3, 0.2, 0.12, 0.08, 0.05, 0.03, 0.02, 0.012};
#define N_GRID (sizeof grid / sizeof *grid)

static void options(rec_tune_options *o)
{
    rec_tune_options_init(o);
    o->base.rank = 8;
    o->base.n_threads = 2;
    /* the rating model alone: these tests search its regularisation, and
       count its iterations */
    o->base.preference = 0;
    o->regs = grid;
    o->n_regs = N_GRID;
}

/* RMSE against the noise-free ratings of a model trained on all of train */
static double truth_rmse(const planted *d, const rec_als_params *p)
{
    rec_model *m = NULL;
    rec_error e;
    ck_assert_ok(rec_train_als(&m, d->train, p, &e), &e);
    rec_eval_result ev;
    ck_assert_ok(rec_evaluate(&ev, m, d->truth, 10, 4.0f, &e), &e);
    rec_model_free(m);
    return ev.rmse;
}

static size_t grid_index(double reg)
{
    for (size_t i = 0; i < N_GRID; i++)
        if (grid[i] == reg)
            return i;
    ck_abort_msg("reg %g is not on the grid", reg);
    return 0;
}

/* ---- the known optimum ---- */

START_TEST(test_finds_planted_optimum)
{
    planted d = make_planted(0.4);
    rec_tune_options o;
    options(&o);
    rec_tune_point pts[N_GRID];
    rec_tune_result res;
    rec_error e;
    ck_assert_ok(rec_tune_als(&res, pts, N_GRID, d.train, &o, &e), &e);
    ck_assert_uint_ge(res.n_points, 3);
    ck_assert_uint_le(res.n_points, N_GRID);
    ck_assert_uint_lt(res.best_index, res.n_points);
    ck_assert(res.best.reg == pts[res.best_index].params.reg);
    ck_assert(res.metric == pts[res.best_index].metric);
    ck_assert(res.ndcg > 0.0 && res.ndcg <= 1.0);
    ck_assert_int_eq(res.best.iterations, o.base.iterations);

    /* the true curve: every reg trained in full on all the data, scored
       against the noise-free ratings */
    double curve[N_GRID];
    size_t arg = 0;
    for (size_t i = 0; i < N_GRID; i++) {
        rec_als_params p = o.base;
        p.reg = grid[i];
        curve[i] = truth_rmse(&d, &p);
        if (curve[i] < curve[arg])
            arg = i;
    }
    ck_assert_msg(arg > 0 && arg + 1 < N_GRID,
                  "the planted optimum should be inside the grid (at %zu)",
                  arg);
    size_t got = grid_index(res.best.reg);
    ck_assert_msg(got + 1 >= arg && got <= arg + 1,
                  "tuned reg %g, true optimum %g", res.best.reg, grid[arg]);
    ck_assert_msg(curve[got] <= curve[arg] * 1.03,
                  "true RMSE %g at the tuned reg, %g at the optimum",
                  curve[got], curve[arg]);
    /* the default (0.12) is not this data's optimum: tuning gains */
    ck_assert_msg(curve[got] < curve[grid_index(0.2)] * 0.9,
                  "tuned %g vs 0.2's %g", curve[got], curve[grid_index(0.2)]);
    free_planted(&d);
}
END_TEST

/* More noise needs more regularisation: the choice follows the data. */
START_TEST(test_choice_follows_noise)
{
    double reg_at[2];
    const double noise[2] = {0.1, 0.8};
    for (int i = 0; i < 2; i++) {
        planted d = make_planted(noise[i]);
        rec_tune_options o;
        options(&o);
        rec_tune_result res;
        rec_error e;
        ck_assert_ok(rec_tune_als(&res, NULL, 0, d.train, &o, &e), &e);
        reg_at[i] = res.best.reg;
        free_planted(&d);
    }
    ck_assert_msg(reg_at[0] <= 0.03 && reg_at[1] >= 0.12,
                  "noise 0.1 -> reg %g, noise 0.8 -> reg %g", reg_at[0],
                  reg_at[1]);
}
END_TEST

/* ---- warm against cold ---- */

START_TEST(test_warm_matches_cold)
{
    planted d = make_planted(0.4);
    rec_tune_result res[2];
    rec_tune_point pts[2][N_GRID];
    for (int warm = 0; warm < 2; warm++) {
        rec_tune_options o;
        options(&o);
        o.warm_start = warm;
        o.path_patience = 0; /* the whole path, both ways */
        o.early_stop = 0.0;
        rec_error e;
        ck_assert_ok(rec_tune_als(&res[warm], pts[warm], N_GRID, d.train, &o,
                                  &e),
                     &e);
        ck_assert_uint_eq(res[warm].n_points, N_GRID);
        for (size_t i = 0; i < N_GRID; i++) {
            ck_assert_int_eq(pts[warm][i].warm, warm && i > 0);
            ck_assert_int_eq(pts[warm][i].iterations,
                             warm && i > 0 ? 3 : o.base.iterations);
        }
    }
    /* the same choice (within one grid step); the warm path's figure is
       no worse (continuation from strong regularisation tends to find
       better optima of this non-convex loss than a cold start: about 5%
       here, docs/tuning.md), and models trained from the two choices
       score alike */
    size_t c = grid_index(res[0].best.reg), w = grid_index(res[1].best.reg);
    ck_assert_msg(c <= w + 1 && w <= c + 1, "cold %g, warm %g",
                  res[0].best.reg, res[1].best.reg);
    ck_assert_msg(res[1].rmse <= res[0].rmse * 1.01 &&
                      res[1].rmse >= res[0].rmse * 0.9,
                  "validation RMSE cold %g warm %g", res[0].rmse, res[1].rmse);
    double tc = truth_rmse(&d, &res[0].best), tw = truth_rmse(&d, &res[1].best);
    ck_assert_msg(fabs(tc - tw) <= 0.02 * tc, "true RMSE cold %g warm %g", tc,
                  tw);
    free_planted(&d);
}
END_TEST

/* warm + n iterations continues the warm model's training exactly */
START_TEST(test_warm_continues_training)
{
    planted d = make_planted(0.4);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 6;
    p.iterations = 7;
    rec_model *full = NULL, *part = NULL, *rest = NULL;
    rec_error e;
    ck_assert_ok(rec_train_als(&full, d.train, &p, &e), &e);
    p.iterations = 3;
    ck_assert_ok(rec__train_als_from(&part, d.train, &p, NULL, &e), &e);
    p.iterations = 4;
    ck_assert_ok(rec__train_als_from(&rest, d.train, &p, part, &e), &e);
    size_t nf = full->n_users * (size_t)full->rank;
    ck_assert_mem_eq(full->user_factors, rest->user_factors,
                     nf * sizeof(float));
    ck_assert_mem_eq(full->movie_bias, rest->movie_bias,
                     full->n_movies * sizeof(float));
    /* a model of another rank does not fit */
    p.rank = 5;
    rec_model *bad = (rec_model *)1;
    ck_assert_int_eq(rec__train_als_from(&bad, d.train, &p, part, &e),
                     REC_EINVAL);
    ck_assert_ptr_null(bad);
    ck_assert_ptr_nonnull(strstr(e.msg, "warm start"));
    rec_model_free(full);
    rec_model_free(part);
    rec_model_free(rest);
    free_planted(&d);
}
END_TEST

/* ---- determinism ---- */

START_TEST(test_same_result_any_thread_count)
{
    planted d = make_planted(0.4);
    rec_tune_point pts[3][N_GRID];
    rec_tune_result res[3];
    const int threads[3] = {1, 2, 3};
    for (int i = 0; i < 3; i++) {
        rec_tune_options o;
        options(&o);
        o.base.n_threads = threads[i];
        o.validation = REC_VALIDATION_FOLDS;
        o.folds = 3;
        rec_error e;
        ck_assert_ok(rec_tune_als(&res[i], pts[i], N_GRID, d.train, &o, &e),
                     &e);
    }
    for (int i = 1; i < 3; i++) {
        ck_assert_uint_eq(res[i].n_points, res[0].n_points);
        ck_assert(res[i].best.reg == res[0].best.reg);
        ck_assert(res[i].rmse == res[0].rmse);
        ck_assert(res[i].ndcg == res[0].ndcg);
        for (size_t j = 0; j < res[0].n_points; j++) {
            ck_assert(pts[i][j].metric == pts[0][j].metric);
            ck_assert_int_eq(pts[i][j].iterations, pts[0][j].iterations);
            ck_assert_int_eq(pts[i][j].stopped_early,
                             pts[0][j].stopped_early);
        }
    }
    free_planted(&d);
}
END_TEST

/* ---- validation schemes, metrics and grids ---- */

START_TEST(test_schemes_and_ndcg)
{
    planted d = make_planted(0.4);
    rec_error e;
    rec_tune_result res;
    rec_tune_options o;

    options(&o);
    o.validation = REC_VALIDATION_PER_USER;
    o.leave_out = 3;
    o.metric = REC_METRIC_NDCG;
    ck_assert_ok(rec_tune_als(&res, NULL, 0, d.train, &o, &e), &e);
    ck_assert(res.metric == res.ndcg && res.ndcg > 0.0 && res.ndcg <= 1.0);
    ck_assert(res.rmse > 0.0);

    /* a rank grid: every rank gets its own path, starting cold */
    static const int ranks[] = {1, 8};
    static const double bias_regs[] = {0.05, 0.5};
    options(&o);
    o.ranks = ranks;
    o.n_ranks = 2;
    o.bias_regs = bias_regs;
    o.n_bias_regs = 2;
    rec_tune_point pts[4 * N_GRID];
    ck_assert_ok(rec_tune_als(&res, pts, 4 * N_GRID, d.train, &o, &e), &e);
    int seen_rank[2] = {0, 0};
    for (size_t i = 0; i < res.n_points; i++) {
        seen_rank[pts[i].params.rank == 8]++;
        if (i == 0 || pts[i].params.rank != pts[i - 1].params.rank ||
            pts[i].params.bias_reg != pts[i - 1].params.bias_reg)
            ck_assert_int_eq(pts[i].warm, 0);
    }
    ck_assert(seen_rank[0] > 0 && seen_rank[1] > 0);
    /* rank 1 cannot fit rank-3 data */
    ck_assert_int_eq(res.best.rank, 8);

    /* a buffer smaller than the search: n_points still counts them all */
    rec_tune_point two[2];
    memset(two, 0, sizeof two);
    options(&o);
    ck_assert_ok(rec_tune_als(&res, two, 2, d.train, &o, &e), &e);
    ck_assert_uint_gt(res.n_points, 2);
    ck_assert(two[1].params.reg == 0.2 && two[1].warm);
    free_planted(&d);
}
END_TEST

START_TEST(test_implicit_alpha)
{
    planted d = make_planted(0.4);
    static const double alphas[] = {0.5, 4.0};
    static const double regs[] = {1.0, 0.1};
    rec_tune_options o;
    options(&o);
    o.base.implicit = 1;
    o.metric = REC_METRIC_NDCG;
    o.alphas = alphas;
    o.n_alphas = 2;
    o.regs = regs;
    o.n_regs = 2;
    o.path_patience = 0;
    rec_tune_point pts[4];
    rec_tune_result res;
    rec_error e;
    ck_assert_ok(rec_tune_als(&res, pts, 4, d.train, &o, &e), &e);
    ck_assert_uint_eq(res.n_points, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pts[i].warm, 0);
        ck_assert(pts[i].params.alpha == alphas[i / 2]);
        ck_assert(pts[i].params.reg == regs[i % 2]);
    }
    ck_assert_int_eq(res.best.implicit, 1);
    ck_assert(res.best.alpha == pts[res.best_index].params.alpha);
    free_planted(&d);
}
END_TEST

/* ---- the hybrid model: bias prior, preference model, blend ---- */

static void hybrid_options(rec_tune_options *o)
{
    options(o);
    o->base.preference = 1;
    o->base.rank = 4;
    o->base.iterations = 6;
}

/* nDCG@10 of rec_train_als(p) on the tuner's random validation split:
   what rec_top_n ranks, scored as a point is */
static double split_ndcg(const rec_ratings *r, const rec_tune_options *o,
                         const rec_als_params *p)
{
    rec_ratings *tr = NULL, *val = NULL;
    rec_model *m = NULL;
    rec_error e;
    ck_assert_ok(rec_ratings_split(&tr, &val, r, o->fraction, o->split_seed,
                                   &e),
                 &e);
    ck_assert_ok(rec_train_als(&m, tr, p, &e), &e);
    rec_eval_result ev;
    ck_assert_ok(rec_evaluate(&ev, m, val, o->k, o->relevant_min, &e), &e);
    rec_model_free(m);
    rec_ratings_free(tr);
    rec_ratings_free(val);
    return ev.ndcg_at_k;
}

/* Ratings whose choice says something the rating model cannot: 600 users
   x 400 movies, rating = 3 + u . v + a . b (+ noise in train), with u, v
   rank 2 and a, b rank 2, and a pair rated with a probability that grows
   with a . b. A rank-2 rating model learns u . v; the preference model
   sees which movies each user rates, hence a . b; the fitted term carries
   it into the predictions. Half the rated pairs train, half are truth. */
static planted make_selective(void)
{
    const int nu = 600, nm = 400, k = 2;
    uint64_t s = 23;
    double *U = malloc(sizeof *U * nu * 2 * k), *V = malloc(sizeof *V * nm * 2 * k);
    rec_rating *tr = malloc(sizeof *tr * nu * nm);
    rec_rating *te = malloc(sizeof *te * nu * nm);
    ck_assert(U && V && tr && te);
    for (int i = 0; i < nu * 2 * k; i++)
        U[i] = 0.7 * gauss(&s);
    for (int i = 0; i < nm * 2 * k; i++)
        V[i] = 0.7 * gauss(&s);
    size_t a = 0, b = 0;
    for (int u = 0; u < nu; u++)
        for (int j = 0; j < nm; j++) {
            double taste = 0.0, choice = 0.0;
            for (int f = 0; f < k; f++) {
                taste += U[u * 2 * k + f] * V[j * 2 * k + f];
                choice += U[u * 2 * k + k + f] * V[j * 2 * k + k + f];
            }
            double p = 0.2 / (1.0 + exp(-3.0 * choice)), c = unif(&s);
            if (c >= p)
                continue;
            double v = 3.0 + taste + choice;
            rec_rating x = {u + 1, j + 1, (float)v};
            if (c < p / 2) {
                x.rating = (float)(v + 0.3 * gauss(&s));
                tr[a++] = x;
            } else {
                te[b++] = x;
            }
        }
    return planted_from(U, V, tr, a, te, b);
}

/* The preference term: fitted at every point, positive on data where the
   choice of movies carries taste, lower validation and truth RMSE than
   without it, the same for any thread count; version-2 options do not
   fit it. */
START_TEST(test_rating_pref_fit)
{
    planted d = make_selective();
    static const double regs[] = {0.1, 0.05, 0.02};
    rec_tune_options o;
    hybrid_options(&o);
    o.base.rank = 2;
    o.base.preference_rank = 8;
    o.base.iterations = 8;
    o.regs = regs;
    o.n_regs = 3;
    rec_tune_point pts[3 + 4]; /* the regs, then the automatic blends */
    rec_tune_result fit, nofit, one, v2;
    rec_error e;
    ck_assert_ok(rec_tune_als(&fit, pts, 7, d.train, &o, &e), &e);
    ck_assert_uint_le(fit.n_points, 7);
    for (size_t i = 0; i < fit.n_points && i < 3; i++)
        ck_assert_msg(pts[i].params.rating_pref_weight > 0.0,
                      "point %zu: weight %g", i,
                      pts[i].params.rating_pref_weight);
    ck_assert(fit.best.rating_pref_weight ==
              pts[fit.best_index].params.rating_pref_weight);
    ck_assert(fit.best.rating_pref_shift ==
              pts[fit.best_index].params.rating_pref_shift);
    o.base.n_threads = 1;
    ck_assert_ok(rec_tune_als(&one, NULL, 0, d.train, &o, &e), &e);
    ck_assert(one.rmse == fit.rmse && one.best.reg == fit.best.reg &&
              one.best.rating_pref_weight == fit.best.rating_pref_weight &&
              one.best.rating_pref_shift == fit.best.rating_pref_shift);
    o.base.n_threads = 2;
    o.fit_rating_pref = 0;
    ck_assert_ok(rec_tune_als(&nofit, NULL, 0, d.train, &o, &e), &e);
    ck_assert(nofit.best.rating_pref_weight == 0.0 &&
              nofit.best.rating_pref_shift == 0.0);
    o.version = 2; /* no such field: no fit */
    o.fit_rating_pref = 1;
    ck_assert_ok(rec_tune_als(&v2, NULL, 0, d.train, &o, &e), &e);
    ck_assert(v2.rmse == nofit.rmse && v2.best.rating_pref_weight == 0.0);
    ck_assert_msg(fit.rmse < 0.98 * nofit.rmse,
                  "validation RMSE %.4f with the term, %.4f without",
                  fit.rmse, nofit.rmse);
    double with = truth_rmse(&d, &fit.best);
    double without = truth_rmse(&d, &nofit.best);
    printf("preference term (weight %.3f, shift %.3f): validation RMSE "
           "%.4f vs %.4f without, truth %.4f vs %.4f\n",
           fit.best.rating_pref_weight, fit.best.rating_pref_shift, fit.rmse,
           nofit.rmse, with, without);
    ck_assert_msg(with < 0.98 * without,
                  "truth RMSE %.4f with the term, %.4f without", with,
                  without);
    free_planted(&d);
}
END_TEST

/* Under nDCG every point is ranked at every blend, each pair a row; the
   figures are those of the model rec_train_als trains (cold points), also
   for a point whose preference part is the cached one (second bias
   prior). */
START_TEST(test_hybrid_ndcg_blends)
{
    planted d = make_planted(0.4);
    static const double blends[] = {0.0, 0.4, 3.0};
    static const double priors[] = {0.5, 5.0};
    static const double one_reg[] = {0.1};
    rec_tune_options o;
    hybrid_options(&o);
    o.metric = REC_METRIC_NDCG;
    o.regs = one_reg;
    o.n_regs = 1;
    o.blends = blends;
    o.n_blends = 3;
    o.bias_priors = priors;
    o.n_bias_priors = 2;
    rec_tune_point pts[6];
    rec_tune_result res;
    rec_error e;
    ck_assert_ok(rec_tune_als(&res, pts, 6, d.train, &o, &e), &e);
    ck_assert_uint_eq(res.n_points, 6);
    int differ = 0;
    for (size_t i = 0; i < 6; i++) {
        const rec_tune_point *q = &pts[i];
        ck_assert(q->params.blend == blends[i % 3]);
        ck_assert(q->params.bias_prior == priors[i / 3]);
        ck_assert_int_eq(q->reranked, i % 3 != 0);
        ck_assert_int_eq(q->warm, 0);
        ck_assert(q->metric == q->ndcg && q->ndcg > 0.0 && q->ndcg <= 1.0);
        ck_assert(q->rmse == pts[i - i % 3].rmse); /* one rating model */
        differ |= q->ndcg != pts[i - i % 3].ndcg;
        double want = split_ndcg(d.train, &o, &q->params);
        ck_assert_msg(q->ndcg == want, "row %zu: nDCG %.17g, trained %.17g",
                      i, q->ndcg, want);
    }
    ck_assert_msg(differ, "the blend changes the ranking");
    ck_assert(res.metric == pts[res.best_index].ndcg);
    for (size_t i = 0; i < 6; i++)
        ck_assert(pts[i].ndcg <= res.metric);
    ck_assert(res.best.blend == pts[res.best_index].params.blend);
    ck_assert(res.best.bias_prior == pts[res.best_index].params.bias_prior);
    ck_assert_int_eq(res.best.preference, 1);
    free_planted(&d);
}
END_TEST

/* Under RMSE the rating model is chosen by RMSE, then the best point is
   ranked at every blend and the blend of best nDCG kept. */
START_TEST(test_hybrid_rmse_then_blend)
{
    planted d = make_planted(0.4);
    static const double blends[] = {0.0, 3.0};
    static const double shrinks[] = {0.0, 50.0};
    rec_tune_options o;
    hybrid_options(&o);
    o.blends = blends;
    o.n_blends = 2;
    o.blend_shrinks = shrinks;
    o.n_blend_shrinks = 2;
    rec_tune_point pts[2 * N_GRID + 4]; /* two ranks, then the blends */
    rec_tune_result res;
    rec_error e;
    ck_assert_ok(rec_tune_als(&res, pts, 2 * N_GRID + 4, d.train, &o, &e),
                 &e);
    size_t n = res.n_points, searched = n - 4;
    ck_assert_uint_ge(searched, 3);
    size_t best_rmse = 0;
    for (size_t i = 0; i < searched; i++) {
        ck_assert_int_eq(pts[i].reranked, 0);
        ck_assert(pts[i].ndcg == -1.0 && pts[i].metric == pts[i].rmse);
        if (pts[i].rmse < pts[best_rmse].rmse)
            best_rmse = i;
    }
    double top = -1.0;
    for (size_t i = searched; i < n; i++) {
        const rec_tune_point *q = &pts[i];
        ck_assert_int_eq(q->reranked, 1);
        ck_assert(q->params.reg == pts[best_rmse].params.reg);
        ck_assert(q->rmse == pts[best_rmse].rmse);
        ck_assert(q->params.blend == blends[(i - searched) / 2]);
        ck_assert(q->params.blend_shrink == shrinks[(i - searched) % 2]);
        ck_assert(q->ndcg > 0.0 && q->ndcg <= 1.0);
        if (q->ndcg > top)
            top = q->ndcg;
    }
    ck_assert_uint_ge(res.best_index, searched);
    ck_assert(res.ndcg == top && res.ndcg == pts[res.best_index].ndcg);
    ck_assert(res.rmse == pts[best_rmse].rmse);
    ck_assert(res.best.reg == pts[best_rmse].params.reg);
    ck_assert(res.best.blend == pts[res.best_index].params.blend);
    ck_assert(res.best.blend_shrink == pts[res.best_index].params.blend_shrink);
    /* the best point was ranked as its trained model ranks (it is cold
       when it is the first point) */
    if (best_rmse == 0)
        ck_assert(res.ndcg == split_ndcg(d.train, &o, &res.best));
    ck_assert_int_eq(res.best.preference_rank, 128); /* no ranks list */

    /* a ranks list under RMSE is the rating model's: the preference model
       keeps the base's rank */
    static const int ranks[] = {2, 6};
    o.ranks = ranks;
    o.n_ranks = 2;
    o.n_blends = o.n_blend_shrinks = 0;
    ck_assert_ok(rec_tune_als(&res, pts, 2 * N_GRID + 4, d.train, &o, &e),
                 &e);
    ck_assert_uint_le(res.n_points, 2 * N_GRID + 4);
    ck_assert_int_eq(res.best.preference_rank, o.base.preference_rank);
    ck_assert(res.ndcg == split_ndcg(d.train, &o, &res.best) ||
              pts[res.best_index].warm);
    free_planted(&d);
}
END_TEST

/* Under RMSE without blend lists the best point is ranked at blend, blend
   / 2, blend / 4 and 0; another blend wins only by more than 2% of
   validation nDCG. auto_blend 0 and version-2 options rank at the base's
   blend alone. */
START_TEST(test_auto_blend)
{
    planted d = make_planted(0.4);
    static const double regs[] = {0.1, 0.05};
    rec_tune_options o;
    hybrid_options(&o);
    o.regs = regs;
    o.n_regs = 2;
    o.path_patience = 0;
    rec_tune_point pts[6];
    rec_tune_result res;
    rec_error e;
    ck_assert_ok(rec_tune_als(&res, pts, 6, d.train, &o, &e), &e);
    ck_assert_uint_eq(res.n_points, 6);
    const double b = o.base.blend, want[] = {b, b / 2, b / 4, 0.0};
    double top = -1.0;
    for (int i = 0; i < 4; i++) {
        const rec_tune_point *q = &pts[2 + i];
        ck_assert_int_eq(q->reranked, 1);
        ck_assert(q->params.blend == want[i]);
        ck_assert(q->params.blend_shrink == o.base.blend_shrink);
        ck_assert(q->ndcg > 0.0);
        top = q->ndcg > top ? q->ndcg : top;
    }
    if (top > pts[2].ndcg * 1.02)
        ck_assert(res.ndcg == top && pts[res.best_index].ndcg == top);
    else
        ck_assert(res.best_index == 2 && res.best.blend == b);
    ck_assert(res.best.blend == pts[res.best_index].params.blend);
    /* no automatic blends: the base blend's figure, without its row */
    double at_base = pts[2].ndcg;
    o.auto_blend = 0;
    ck_assert_ok(rec_tune_als(&res, pts, 6, d.train, &o, &e), &e);
    ck_assert_uint_eq(res.n_points, 2);
    ck_assert(res.best.blend == b && res.ndcg == at_base);
    o.auto_blend = 1;
    o.version = 2;
    ck_assert_ok(rec_tune_als(&res, pts, 6, d.train, &o, &e), &e);
    ck_assert_uint_eq(res.n_points, 2);
    free_planted(&d);
}
END_TEST

/* A warm point of a hybrid path is ranked with the full preference model
   (not one trained for the warm point's few iterations): its figure is
   that of the warm rating model plus the preference model of
   rec_train_als. */
START_TEST(test_warm_point_full_preference)
{
    planted d = make_planted(0.4);
    static const double regs[] = {0.1, 0.05};
    rec_tune_options o;
    hybrid_options(&o);
    o.metric = REC_METRIC_NDCG;
    o.regs = regs;
    o.n_regs = 2;
    o.path_patience = 0;
    o.early_stop = 0.0;
    rec_tune_point pts[2];
    rec_tune_result res;
    rec_error e;
    ck_assert_ok(rec_tune_als(&res, pts, 2, d.train, &o, &e), &e);
    ck_assert_int_eq(pts[1].warm, 1);
    ck_assert_int_eq(pts[1].iterations, 2); /* 6 / 3 */

    rec_ratings *tr = NULL, *val = NULL;
    ck_assert_ok(rec_ratings_split(&tr, &val, d.train, o.fraction,
                                   o.split_seed, &e),
                 &e);
    rec_als_params p = pts[0].params;
    p.preference = 0;
    p.rating_pref_weight = p.rating_pref_shift = 0.0; /* needs preference */
    rec_model *cold = NULL, *warm = NULL;
    ck_assert_ok(rec_train_als(&cold, tr, &p, &e), &e);
    p.reg = 0.05;
    p.iterations = 2;
    ck_assert_ok(rec__train_als_from(&warm, tr, &p, cold, &e), &e);
    ck_assert_ok(rec__train_preference(warm, tr, &pts[1].params, &e), &e);
    rec_eval_result ev;
    ck_assert_ok(rec_evaluate(&ev, warm, val, o.k, o.relevant_min, &e), &e);
    ck_assert_msg(pts[1].ndcg == ev.ndcg_at_k, "warm point %.17g, rebuilt %.17g",
                  pts[1].ndcg, ev.ndcg_at_k);
    /* a model that has a preference part, or non-hybrid parameters, gets
       none */
    ck_assert_int_eq(rec__train_preference(warm, tr, &pts[1].params, &e),
                     REC_EINVAL);
    rec_model_free(cold);
    rec_model_free(warm);
    rec_ratings_free(tr);
    rec_ratings_free(val);
    free_planted(&d);
}
END_TEST

/* The preference model's settings: searched under nDCG, each trained
   once per fold and setting; the same table whatever the thread count. */
START_TEST(test_hybrid_preference_grid)
{
    planted d = make_planted(0.4);
    static const double pregs[] = {1.0, 20.0};
    static const double palphas[] = {0.3, 3.0};
    static const double regs[] = {0.2, 0.1};
    rec_tune_point pts[2][8];
    rec_tune_result res[2];
    for (int th = 0; th < 2; th++) {
        rec_tune_options o;
        hybrid_options(&o);
        o.base.n_threads = th + 1;
        o.metric = REC_METRIC_NDCG;
        o.regs = regs;
        o.n_regs = 2;
        o.path_patience = 0;
        o.preference_regs = pregs;
        o.n_preference_regs = 2;
        o.preference_alphas = palphas;
        o.n_preference_alphas = 2;
        rec_error e;
        ck_assert_ok(rec_tune_als(&res[th], pts[th], 8, d.train, &o, &e), &e);
        ck_assert_uint_eq(res[th].n_points, 8);
        for (size_t i = 0; i < 8; i++) {
            const rec_tune_point *q = &pts[th][i];
            ck_assert(q->params.preference_alpha == palphas[i / 4]);
            ck_assert(q->params.preference_reg == pregs[(i / 2) % 2]);
            ck_assert(q->params.reg == regs[i % 2]);
            ck_assert_int_eq(q->warm, (int)(i % 2));
            if (i % 2 == 0) /* cold: the trained model's figure */
                ck_assert(q->ndcg == split_ndcg(d.train, &o, &q->params));
        }
        const rec_tune_point *b = &pts[th][res[th].best_index];
        ck_assert(res[th].best.preference_reg == b->params.preference_reg);
        ck_assert(res[th].best.preference_alpha == b->params.preference_alpha);
    }
    for (size_t i = 0; i < 8; i++)
        ck_assert(pts[0][i].ndcg == pts[1][i].ndcg &&
                  pts[0][i].rmse == pts[1][i].rmse);
    ck_assert_uint_eq(res[0].best_index, res[1].best_index);
    free_planted(&d);
}
END_TEST

/* A bias-prior grid walks one reg path per prior; a version 1 options
   struct has no version 2 fields, whatever follows it in memory. */
START_TEST(test_bias_prior_grid_and_v1)
{
    planted d = make_planted(0.4);
    static const double priors[] = {0.0, 25.0};
    rec_tune_options o;
    options(&o);
    o.bias_priors = priors;
    o.n_bias_priors = 2;
    rec_tune_point pts[2 * N_GRID];
    rec_tune_result res;
    rec_error e;
    ck_assert_ok(rec_tune_als(&res, pts, 2 * N_GRID, d.train, &o, &e), &e);
    int seen[2] = {0, 0};
    for (size_t i = 0; i < res.n_points; i++) {
        ck_assert(pts[i].params.bias_prior == priors[0] ||
                  pts[i].params.bias_prior == priors[1]);
        seen[pts[i].params.bias_prior == priors[1]]++;
        if (i > 0 && pts[i].params.bias_prior != pts[i - 1].params.bias_prior)
            ck_assert_int_eq(pts[i].warm, 0);
    }
    ck_assert(seen[0] > 0 && seen[1] > 0);
    ck_assert(res.best.bias_prior == pts[res.best_index].params.bias_prior);

    rec_tune_options v1;
    options(&v1);
    v1.version = 1;
    v1.bias_priors = (const double *)&v1; /* not read: not there in v1 */
    v1.n_bias_priors = (size_t)-1;
    v1.blends = NULL;
    v1.n_blends = 7;
    rec_tune_result r1, r0;
    ck_assert_ok(rec_tune_als(&r1, NULL, 0, d.train, &v1, &e), &e);
    options(&o);
    ck_assert_ok(rec_tune_als(&r0, NULL, 0, d.train, &o, &e), &e);
    ck_assert(r1.best.reg == r0.best.reg && r1.rmse == r0.rmse &&
              r1.n_points == r0.n_points);
    ck_assert(r1.best.bias_prior == o.base.bias_prior);
    free_planted(&d);
}
END_TEST

/* ---- cancel ---- */

typedef struct cancel_at {
    size_t point;  /* cancel once this many points are done (0: never) */
    int iteration; /* or at this iteration of the first point */
    int calls;
} cancel_at;

static int cancel_cb(void *ud, const rec_tune_progress *p)
{
    cancel_at *c = ud;
    c->calls++;
    if (c->point && p->point && p->points_done >= c->point)
        return 1;
    if (c->iteration && !p->point && p->iteration >= c->iteration)
        return 1;
    return 0;
}

START_TEST(test_cancel_gives_no_result)
{
    planted d = make_planted(0.4);
    for (int mode = 0; mode < 2; mode++) {
        rec_tune_options o;
        options(&o);
        cancel_at c = {mode == 0 ? 2 : 0, mode == 1 ? 4 : 0, 0};
        o.progress = cancel_cb;
        o.progress_userdata = &c;
        rec_tune_result res;
        memset(&res, 0xAB, sizeof res);
        rec_tune_result before = res;
        rec_error e;
        ck_assert_int_eq(rec_tune_als(&res, NULL, 0, d.train, &o, &e),
                         REC_ECANCELED);
        ck_assert_int_eq(e.code, REC_ECANCELED);
        ck_assert_ptr_nonnull(strstr(e.msg, "cancelled"));
        ck_assert_mem_eq(&res, &before, sizeof res);
        ck_assert_int_eq(c.calls, mode == 0 ? 10 + 3 + 2 : 4);
    }
    free_planted(&d);
}
END_TEST

/* ---- bad options ---- */

typedef void (*mutate_fn)(rec_tune_options *o);
static const double bad_regs[] = {0.1, -0.2};
static const double nan_regs[] = {NAN};
static const int bad_ranks[] = {4, 0};
static const double alphas1[] = {1.0};
static const double zero_alpha[] = {0.0};
static void m_version(rec_tune_options *o) { o->version = 99; }
static void m_metric(rec_tune_options *o) { o->metric = 7; }
static void m_k(rec_tune_options *o) { o->metric = REC_METRIC_NDCG; o->k = 0; }
static void m_validation(rec_tune_options *o) { o->validation = 9; }
static void m_fraction(rec_tune_options *o) { o->fraction = 1.0; }
static void m_fraction0(rec_tune_options *o) { o->fraction = 0.0; }
static void m_leave(rec_tune_options *o)
{
    o->validation = REC_VALIDATION_PER_USER;
    o->leave_out = 0;
}
static void m_folds(rec_tune_options *o)
{
    o->validation = REC_VALIDATION_FOLDS;
    o->folds = 1;
}
static void m_regs(rec_tune_options *o) { o->regs = bad_regs; o->n_regs = 2; }
static void m_nan(rec_tune_options *o) { o->regs = nan_regs; o->n_regs = 1; }
static void m_null(rec_tune_options *o) { o->regs = NULL; o->n_regs = 3; }
static void m_ranks(rec_tune_options *o) { o->ranks = bad_ranks; o->n_ranks = 2; }
static void m_alpha_explicit(rec_tune_options *o)
{
    o->alphas = alphas1;
    o->n_alphas = 1;
}
static void m_alpha_zero(rec_tune_options *o)
{
    o->base.implicit = 1;
    o->metric = REC_METRIC_NDCG;
    o->alphas = zero_alpha;
    o->n_alphas = 1;
}
static void m_implicit_rmse(rec_tune_options *o) { o->base.implicit = 1; }
static void m_base(rec_tune_options *o) { o->base.iterations = 0; }
static void m_early(rec_tune_options *o) { o->early_stop = -1.0; }
static void m_warm(rec_tune_options *o) { o->warm_iterations = -2; }
static void m_patience(rec_tune_options *o) { o->path_patience = -1; }
static const double neg1[] = {-1.0};
static const double one1[] = {1.0};
static void m_prior_neg(rec_tune_options *o)
{
    o->bias_priors = neg1;
    o->n_bias_priors = 1;
}
static void m_prior_implicit(rec_tune_options *o)
{
    o->base.implicit = 1;
    o->metric = REC_METRIC_NDCG;
    o->bias_priors = one1;
    o->n_bias_priors = 1;
}
static void m_prior_nobias(rec_tune_options *o)
{
    o->base.biases = 0;
    o->bias_priors = one1;
    o->n_bias_priors = 1;
}
static void m_blend_explicit(rec_tune_options *o)
{
    o->blends = one1; /* options() trains the rating model alone */
    o->n_blends = 1;
}
static void m_blend_neg(rec_tune_options *o)
{
    o->base.preference = 1;
    o->blends = neg1;
    o->n_blends = 1;
}
static void m_shrink_null(rec_tune_options *o)
{
    o->base.preference = 1;
    o->blend_shrinks = NULL;
    o->n_blend_shrinks = 2;
}
static void m_preg_rmse(rec_tune_options *o)
{
    o->base.preference = 1;
    o->preference_regs = one1;
    o->n_preference_regs = 1;
}
static void m_palpha_zero(rec_tune_options *o)
{
    o->base.preference = 1;
    o->metric = REC_METRIC_NDCG;
    o->preference_alphas = zero_alpha;
    o->n_preference_alphas = 1;
}
static void m_palpha_explicit(rec_tune_options *o)
{
    o->metric = REC_METRIC_NDCG;
    o->preference_alphas = one1;
    o->n_preference_alphas = 1;
}

static const struct {
    mutate_fn f;
    const char *needle;
} bad[] = {
    {m_version, "version"},    {m_metric, "metric"},
    {m_k, "k 0"},              {m_validation, "validation"},
    {m_fraction, "fraction"},  {m_fraction0, "fraction"},
    {m_leave, "leave_out"},    {m_folds, "folds"},
    {m_regs, "regs[1]"},       {m_nan, "regs[0]"},
    {m_null, "NULL"},          {m_ranks, "ranks[1]"},
    {m_alpha_explicit, "implicit"}, {m_alpha_zero, "alphas[0]"},
    {m_implicit_rmse, "NDCG"}, {m_base, "iterations"},
    {m_early, "early_stop"},   {m_warm, "warm_iterations"},
    {m_patience, "path_patience"},
    {m_prior_neg, "bias_priors[0]"}, {m_prior_implicit, "bias_priors need"},
    {m_prior_nobias, "biases"},  {m_blend_explicit, "blends are searched"},
    {m_blend_neg, "blends[0]"},  {m_shrink_null, "blend_shrinks is NULL"},
    {m_preg_rmse, "REC_METRIC_NDCG"}, {m_palpha_zero, "preference_alphas[0]"},
    {m_palpha_explicit, "hybrid"},
};

START_TEST(test_bad_options)
{
    planted d = make_planted(0.4);
    rec_tune_options o;
    options(&o);
    o.progress = cancel_cb; /* must never be called */
    cancel_at c = {1, 1, 0};
    o.progress_userdata = &c;
    rec_tune_options good = o;
    rec_tune_result res;
    rec_error e;
    memset(&e, 0, sizeof e);
    o = good;
    bad[_i].f(&o);
    ck_assert_int_eq(rec_tune_als(&res, NULL, 0, d.train, &o, &e), REC_EINVAL);
    ck_assert_int_eq(e.code, REC_EINVAL);
    ck_assert_msg(strstr(e.msg, bad[_i].needle) != NULL,
                  "case %d: '%s' lacks '%s'", _i, e.msg, bad[_i].needle);
    ck_assert_int_eq(c.calls, 0);
    free_planted(&d);
}
END_TEST

START_TEST(test_bad_arguments)
{
    rec_tune_options o;
    rec_tune_options_init(&o);
    rec_tune_result res;
    rec_tune_point pt;
    rec_error e;
    rec_ratings *r = NULL;
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    ck_assert_int_eq(rec_tune_als(NULL, NULL, 0, r, &o, &e), REC_EINVAL);
    ck_assert_int_eq(rec_tune_als(&res, NULL, 0, NULL, &o, &e), REC_EINVAL);
    ck_assert_int_eq(rec_tune_als(&res, NULL, 0, r, NULL, &e), REC_EINVAL);
    ck_assert_int_eq(rec_tune_als(&res, NULL, 1, r, &o, &e), REC_EINVAL);
    ck_assert_int_eq(rec_tune_als(&res, &pt, 1, r, &o, &e), REC_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "no ratings"));
    /* too few ratings to hold any out */
    rec_rating one = {1, 1, 4.0f};
    ck_assert_ok(rec_ratings_add(r, &one, 1, &e), &e);
    ck_assert_int_eq(rec_tune_als(&res, &pt, 1, r, &o, &e), REC_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "empty"));
    rec_ratings_free(r);
    rec_tune_options_init(NULL); /* no crash */
}
END_TEST

static Suite *tune_suite(void)
{
    Suite *s = suite_create("tune");
    TCase *tc = tcase_create("tune");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_finds_planted_optimum);
    tcase_add_test(tc, test_choice_follows_noise);
    tcase_add_test(tc, test_warm_matches_cold);
    tcase_add_test(tc, test_warm_continues_training);
    tcase_add_test(tc, test_same_result_any_thread_count);
    tcase_add_test(tc, test_schemes_and_ndcg);
    tcase_add_test(tc, test_implicit_alpha);
    tcase_add_test(tc, test_hybrid_ndcg_blends);
    tcase_add_test(tc, test_hybrid_rmse_then_blend);
    tcase_add_test(tc, test_hybrid_preference_grid);
    tcase_add_test(tc, test_warm_point_full_preference);
    tcase_add_test(tc, test_rating_pref_fit);
    tcase_add_test(tc, test_auto_blend);
    tcase_add_test(tc, test_bias_prior_grid_and_v1);
    tcase_add_test(tc, test_cancel_gives_no_result);
    tcase_add_loop_test(tc, test_bad_options, 0,
                        (int)(sizeof bad / sizeof *bad));
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(tune_suite());
}
