/* rec_tune_als: the search finds the optimum of data built for it, warm
   starts agree with cold starts, cancel and bad options fail cleanly, and
   the result does not depend on the thread count. */
#include <math.h>
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
    planted d = {NULL, NULL};
    rec_error e;
    ck_assert_ok(rec_ratings_new(&d.train, &e), &e);
    ck_assert_ok(rec_ratings_new(&d.truth, &e), &e);
    ck_assert_ok(rec_ratings_add(d.train, tr, a, &e), &e);
    ck_assert_ok(rec_ratings_add(d.truth, te, b, &e), &e);
    free(U);
    free(V);
    free(tr);
    free(te);
    return d;
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
