/*
 * cmd_tune.c - `movieme tune`: search ALS parameters on a validation split
 * (rec_tune_als) and print every point tried; also the tuning step of
 * `movieme train --tune` (cmd_train.c calls tune_run, never the reverse).
 */
#include "cli.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

const cli_opt tune_opts[] = {
    {"--data", NULL, "PATH", "MovieLens directory or ratings file", false},
    {"--rank", NULL, "K", "latent factors when not searched (default 32)",
     false},
    {"--iters", NULL, "N", "ALS iterations of a cold point (default 10)",
     false},
    {"--seed", NULL, "S", "initialisation seed (default 42)", false},
    {"--threads", NULL, "T", "OpenMP threads, 0 = all cores (default 0)",
     false},
    {"--implicit", NULL, NULL, "implicit-feedback ALS (tuned on nDCG)", false},
    TUNE_OPTS,
    OPT_JSON, OPT_QUIET, OPT_END,
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* ---- --grid NAME=V1,V2,... ---- */

#define MAX_VALUES 64

typedef struct grid_lists {
    double regs[MAX_VALUES], alphas[MAX_VALUES], bias_regs[MAX_VALUES],
        bias_priors[MAX_VALUES], preference_regs[MAX_VALUES],
        preference_alphas[MAX_VALUES], blends[MAX_VALUES],
        blend_shrinks[MAX_VALUES];
    int ranks[MAX_VALUES];
    size_t n_regs, n_alphas, n_bias_regs, n_bias_priors, n_preference_regs,
        n_preference_alphas, n_blends, n_blend_shrinks, n_ranks;
} grid_lists;

#define GRID_NAMES                                                           \
    "reg, rank, alpha, bias_reg, bias_prior, preference_reg, "               \
    "preference_alpha, blend or blend_shrink"

static bool parse_list(double *out, size_t *n, const ctx *c, const char *spec,
                       const char *values, double min, double max)
{
    char buf[1024];
    if (strlen(values) >= sizeof buf) {
        cli_usage_error(c->cmd, "--grid: '%s' is too long", spec);
        return false;
    }
    strcpy(buf, values);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_VALUES) {
            cli_usage_error(c->cmd, "--grid: more than %d values in '%s'",
                            MAX_VALUES, spec);
            return false;
        }
        if (!cli_double(&out[*n], c->cmd, "--grid", tok, min, max))
            return false;
        (*n)++;
    }
    if (*n == 0) {
        cli_usage_error(c->cmd, "--grid: no values in '%s'", spec);
        return false;
    }
    return true;
}

/* The real-valued lists of --grid: name, list, lower bound (the library
   checks the rest: REC_EINVAL names the list). */
typedef struct grid_real {
    const char *name;
    double *v;
    size_t *n;
    double min;
} grid_real;

static bool parse_grid(grid_lists *g, const ctx *c)
{
    const char *specs[16];
    int n = cli_values(&c->args, "--grid", specs, 16);
    memset(g, 0, sizeof *g);
    const grid_real reals[] = {
        {"reg", g->regs, &g->n_regs, 0},
        {"alpha", g->alphas, &g->n_alphas, 1e-12},
        {"bias_reg", g->bias_regs, &g->n_bias_regs, 0},
        {"bias_prior", g->bias_priors, &g->n_bias_priors, 0},
        {"preference_reg", g->preference_regs, &g->n_preference_regs, 0},
        {"preference_alpha", g->preference_alphas, &g->n_preference_alphas,
         1e-12},
        {"blend", g->blends, &g->n_blends, 0},
        {"blend_shrink", g->blend_shrinks, &g->n_blend_shrinks, 0},
    };
    for (int i = 0; i < n && i < 16; i++) {
        const char *eq = strchr(specs[i], '=');
        size_t len = eq ? (size_t)(eq - specs[i]) : 0;
        const char *v = eq ? eq + 1 : "";
        double tmp[MAX_VALUES];
        bool ok = false, known = false;
        for (size_t r = 0; r < sizeof reals / sizeof *reals; r++)
            if (len == strlen(reals[r].name) &&
                !strncmp(specs[i], reals[r].name, len)) {
                ok = parse_list(reals[r].v, reals[r].n, c, specs[i], v,
                                reals[r].min, 1e12);
                known = true;
            }
        if (!known && len == 4 && !strncmp(specs[i], "rank", 4)) {
            known = true;
            ok = parse_list(tmp, &g->n_ranks, c, specs[i], v, 1, 4096);
            for (size_t k = 0; ok && k < g->n_ranks; k++) {
                if (tmp[k] != floor(tmp[k])) {
                    cli_usage_error(c->cmd, "--grid: rank %g is not a whole "
                                    "number", tmp[k]);
                    ok = false;
                }
                g->ranks[k] = (int)tmp[k];
            }
        }
        if (!known)
            cli_usage_error(c->cmd,
                            "--grid: '%s' is not NAME=V1,V2,... with NAME "
                            GRID_NAMES, specs[i]);
        if (!ok)
            return false;
    }
    if (n > 16) {
        cli_usage_error(c->cmd, "--grid: given more than 16 times");
        return false;
    }
    return true;
}

/* ---- options of the search (tune, and train --tune) ---- */

static bool parse_tune_options(rec_tune_options *o, grid_lists *g,
                               const ctx *c, const rec_als_params *base)
{
    rec_tune_options_init(o);
    o->base = *base;
    o->base.progress = NULL;
    o->base.progress_userdata = NULL;
    const char *metric = cli_get(&c->args, "--metric");
    const char *split_seed = cli_get(&c->args, "--split-seed");
    long k, folds, leave_out, warm_iters, patience;
    double fraction, early;
    if (!opt_long(&k, c, "--k", o->k, 1, 1000000) ||
        !opt_long(&folds, c, "--folds", 0, 2, 100) ||
        !opt_long(&leave_out, c, "--tune-leave-out", 0, 1, 1000000) ||
        !opt_double(&fraction, c, "--validation", 0, 1e-9, 1 - 1e-9) ||
        !opt_long(&warm_iters, c, "--warm-iters", 0, 0, 100000) ||
        !opt_double(&early, c, "--early-stop", o->early_stop, 0, 1e6) ||
        !opt_long(&patience, c, "--patience", o->path_patience, 0, 1000000) ||
        (split_seed && !cli_u64(&o->split_seed, c->cmd, "--split-seed",
                                split_seed)) ||
        !parse_grid(g, c))
        return false;
    if ((folds > 0) + (fraction > 0) + (leave_out > 0) > 1) {
        cli_usage_error(c->cmd, "give one of --folds, --validation and "
                                "--tune-leave-out");
        return false;
    }
    if (metric && strcmp(metric, "rmse") && strcmp(metric, "ndcg")) {
        cli_usage_error(c->cmd, "--metric: '%s' is not rmse or ndcg", metric);
        return false;
    }
    o->metric = (metric && metric[0] == 'n') || base->implicit
                    ? REC_METRIC_NDCG
                    : REC_METRIC_RMSE;
    o->k = (int)k;
    if (folds > 0) {
        o->validation = REC_VALIDATION_FOLDS;
        o->folds = (int)folds;
    } else if (leave_out > 0) {
        o->validation = REC_VALIDATION_PER_USER;
        o->leave_out = (int)leave_out;
    } else if (fraction > 0) {
        o->fraction = fraction;
    }
    o->warm_start = cli_get(&c->args, "--no-warm") == NULL;
    o->warm_iterations = (int)warm_iters;
    o->early_stop = early;
    o->path_patience = (int)patience;
    o->fit_rating_pref = cli_get(&c->args, "--no-rating-pref") == NULL;
    o->auto_blend = cli_get(&c->args, "--no-auto-blend") == NULL;
    o->regs = g->regs;
    o->n_regs = g->n_regs;
    o->ranks = g->ranks;
    o->n_ranks = g->n_ranks;
    o->alphas = g->alphas;
    o->n_alphas = g->n_alphas;
    o->bias_regs = g->bias_regs;
    o->n_bias_regs = g->n_bias_regs;
    o->bias_priors = g->bias_priors;
    o->n_bias_priors = g->n_bias_priors;
    o->preference_regs = g->preference_regs;
    o->n_preference_regs = g->n_preference_regs;
    o->preference_alphas = g->preference_alphas;
    o->n_preference_alphas = g->n_preference_alphas;
    o->blends = g->blends;
    o->n_blends = g->n_blends;
    o->blend_shrinks = g->blend_shrinks;
    o->n_blend_shrinks = g->n_blend_shrinks;
    return true;
}

/* The hybrid model (docs/ranking.md) has more to show. */
static bool hybrid(const rec_als_params *p)
{
    return !p->implicit && p->preference;
}

/* The searched values of a point (or of the best) as JSON members. */
static void json_params(json *j, const rec_als_params *p)
{
    json_int(j, "rank", p->rank);
    json_num(j, "reg", p->reg);
    if (p->implicit) {
        json_num(j, "alpha", p->alpha);
        return;
    }
    json_num(j, "bias_reg", p->bias_reg);
    json_num(j, "bias_prior", p->bias_prior);
    if (hybrid(p)) {
        json_num(j, "preference_reg", p->preference_reg);
        json_num(j, "preference_alpha", p->preference_alpha);
        json_num(j, "blend", p->blend);
        json_num(j, "blend_shrink", p->blend_shrink);
        json_num(j, "rating_pref_weight", p->rating_pref_weight);
        json_num(j, "rating_pref_shift", p->rating_pref_shift);
    }
}

static int on_tune_progress(void *ud, const rec_tune_progress *p)
{
    const ctx *c = ud;
    if (p->point) {
        const rec_tune_point *q = p->point;
        char ndcg[32] = "";
        if (q->ndcg >= 0)
            snprintf(ndcg, sizeof ndcg, ", nDCG %.4f", q->ndcg);
        char more[96] = "";
        if (hybrid(&q->params) && q->ndcg >= 0) /* where it was ranked */
            snprintf(more, sizeof more, ", bias_prior %g, blend %g%s",
                     q->params.bias_prior, q->params.blend,
                     q->reranked ? " (ranked again)" : "");
        else if (!q->params.implicit)
            snprintf(more, sizeof more, ", bias_prior %g",
                     q->params.bias_prior);
        progress(c,
                 "point %zu (of up to %zu): rank %d, reg %g%s%s -> RMSE "
                 "%.4f%s (%.2f s, %d iterations%s); best so far: reg %g\n",
                 p->points_done, p->points_max, q->params.rank, q->params.reg,
                 more, q->warm ? ", warm" : "", q->rmse, ndcg, q->seconds,
                 q->iterations, q->stopped_early ? ", stopped early" : "",
                 p->best->params.reg);
    }
    return interrupted ? 1 : 0;
}

static const char *metric_name(const rec_tune_options *o)
{
    return o->metric == REC_METRIC_NDCG ? "ndcg" : "rmse";
}

static const char *validation_name(const rec_tune_options *o)
{
    return o->validation == REC_VALIDATION_FOLDS      ? "folds"
           : o->validation == REC_VALIDATION_PER_USER ? "per_user"
                                                      : "random";
}

/* The search as JSON members of the current object. */
static void json_tune(json *j, const rec_tune_options *o,
                      const rec_tune_result *res, const rec_tune_point *pts,
                      size_t n)
{
    json_str(j, "metric", metric_name(o));
    json_int(j, "k", o->k);
    json_str(j, "validation", validation_name(o));
    json_num(j, "fraction", o->fraction);
    json_int(j, "folds", o->folds);
    json_int(j, "leave_out", o->leave_out);
    json_int(j, "split_seed", (long long)o->split_seed);
    json_array(j, "points");
    for (size_t i = 0; i < n; i++) {
        const rec_tune_point *q = &pts[i];
        json_object(j, NULL);
        json_params(j, &q->params);
        json_num(j, "metric", q->metric);
        json_num(j, "rmse", q->rmse);
        if (q->ndcg >= 0)
            json_num(j, "ndcg", q->ndcg);
        else
            json_null(j, "ndcg");
        json_num(j, "seconds", q->seconds);
        json_int(j, "iterations", q->iterations);
        json_bool(j, "warm", q->warm != 0);
        json_bool(j, "stopped_early", q->stopped_early != 0);
        json_bool(j, "reranked", q->reranked != 0);
        json_end_object(j);
    }
    json_end_array(j);
    json_object(j, "best");
    json_int(j, "index", (long long)res->best_index);
    json_params(j, &res->best);
    json_num(j, "metric", res->metric);
    json_num(j, "rmse", res->rmse);
    json_num(j, "ndcg", res->ndcg);
    json_end_object(j);
    json_num(j, "tune_seconds", res->seconds);
}

/* One table cell per searched value the model has: alpha (implicit), the
   biases' (explicit), the preference model's and the blend (hybrid). */
/* preference_reg as the text shows it: "auto" for REC_PREFERENCE_REG_AUTO
   (each training derives its own value from its data). */
static void pref_reg_text(char *out, size_t cap, double v)
{
    if (v == REC_PREFERENCE_REG_AUTO)
        snprintf(out, cap, "auto");
    else
        snprintf(out, cap, "%g", v);
}

static int text_params(char *out, size_t cap, const rec_als_params *p,
                       bool header)
{
    if (header)
        return snprintf(out, cap,
                        p->implicit ? " %8s"
                        : hybrid(p) ? " %8s %6s %7s %6s %6s %6s %7s %7s"
                                    : " %8s %6s",
                        p->implicit ? "alpha" : "bias_reg", "prior",
                        "p_reg", "p_alph", "blend", "shrink", "r_pref",
                        "r_shift");
    if (p->implicit)
        return snprintf(out, cap, " %8g", p->alpha);
    if (!hybrid(p))
        return snprintf(out, cap, " %8g %6g", p->bias_reg, p->bias_prior);
    char preg[24];
    pref_reg_text(preg, sizeof preg, p->preference_reg);
    return snprintf(out, cap, " %8g %6g %7s %6g %6g %6g %7.4f %7.4f",
                    p->bias_reg, p->bias_prior, preg, p->preference_alpha,
                    p->blend, p->blend_shrink, p->rating_pref_weight,
                    p->rating_pref_shift);
}

static void text_tune(const rec_tune_options *o, const rec_tune_result *res,
                      const rec_tune_point *pts, size_t n)
{
    char cells[128];
    printf("%zu points on a %s validation split, metric %s%s:\n", n,
           validation_name(o), metric_name(o),
           o->metric == REC_METRIC_NDCG ? "@k" : "");
    text_params(cells, sizeof cells, &o->base, true);
    printf("  %3s %5s %8s%s %8s %8s %6s %5s %8s\n", "#", "rank", "reg", cells,
           "RMSE", "nDCG", "iters", "warm", "seconds");
    for (size_t i = 0; i < n; i++) {
        const rec_tune_point *q = &pts[i];
        char ndcg[16] = "-";
        if (q->ndcg >= 0)
            snprintf(ndcg, sizeof ndcg, "%.4f", q->ndcg);
        text_params(cells, sizeof cells, &q->params, false);
        printf("  %3zu %5d %8g%s %8.4f %8s %6d %5s %8.2f%s%s%s\n", i,
               q->params.rank, q->params.reg, cells, q->rmse, ndcg,
               q->iterations, q->warm ? "yes" : "no", q->seconds,
               q->reranked ? "  ranked again" : "",
               q->stopped_early ? "  stopped early" : "",
               i == res->best_index ? "  <- best" : "");
    }
    const rec_als_params *b = &res->best;
    printf("best: rank %d, reg %g", b->rank, b->reg);
    if (b->implicit)
        printf(", alpha %g", b->alpha);
    else
        printf(", bias_reg %g, bias_prior %g", b->bias_reg, b->bias_prior);
    if (hybrid(b)) {
        char preg[24];
        pref_reg_text(preg, sizeof preg, b->preference_reg);
        printf(", preference_reg %s, preference_alpha %g, blend %g, "
               "blend_shrink %g, rating_pref_weight %.4g, rating_pref_shift "
               "%.4g",
               preg, b->preference_alpha, b->blend, b->blend_shrink,
               b->rating_pref_weight, b->rating_pref_shift);
    }
    printf(": validation RMSE %.4f, nDCG@%d %.4f (%.2f s)\n", res->rmse, o->k,
           res->ndcg, res->seconds);
}

int tune_run(tune_outcome *t, ctx *c, const rec_ratings *data,
             const rec_als_params *base, rec_error *e)
{
    grid_lists *g = calloc(1, sizeof *g);
    memset(t, 0, sizeof *t);
    if (!g)
        return fail_msg(c, REC_ENOMEM, "out of memory");
    if (!parse_tune_options(&t->opts, g, c, base)) {
        free(g);
        return EXIT_USAGE;
    }
    t->opts.progress = on_tune_progress;
    t->opts.progress_userdata = c;
    size_t cap = 4096;
    t->points = calloc(cap, sizeof *t->points);
    if (!t->points) {
        free(g);
        return fail_msg(c, REC_ENOMEM, "out of memory");
    }
    progress(c, "tuning on %zu ratings (metric %s, %s validation) ...\n",
             rec_ratings_n_ratings(data), metric_name(&t->opts),
             validation_name(&t->opts));
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    rec_status st = rec_tune_als(&t->result, t->points, cap, data, &t->opts, e);
    sigaction(SIGINT, &old, NULL);
    /* the grid lists live in g: the outcome keeps the figures only */
    t->opts.regs = t->opts.alphas = t->opts.bias_regs = NULL;
    t->opts.bias_priors = t->opts.preference_regs = NULL;
    t->opts.preference_alphas = t->opts.blends = t->opts.blend_shrinks = NULL;
    t->opts.ranks = NULL;
    free(g);
    if (st != REC_OK) {
        free(t->points);
        t->points = NULL;
        return fail(c, e);
    }
    t->n = t->result.n_points < cap ? t->result.n_points : cap;
    return EXIT_OK;
}

void tune_emit(ctx *c, const tune_outcome *t)
{
    if (c->json) {
        json_object(&c->j, "tune");
        json_tune(&c->j, &t->opts, &t->result, t->points, t->n);
        json_end_object(&c->j);
    } else {
        text_tune(&t->opts, &t->result, t->points, t->n);
    }
}

void tune_free(tune_outcome *t)
{
    free(t->points);
    t->points = NULL;
}

/* Base parameters from the shared training options. */
static bool parse_base(rec_als_params *p, const ctx *c)
{
    rec_als_params_init(p);
    long rank, iters, threads;
    const char *seed = cli_get(&c->args, "--seed");
    if (!opt_long(&rank, c, "--rank", p->rank, 1, 4096) ||
        !opt_long(&iters, c, "--iters", p->iterations, 1, 100000) ||
        !opt_long(&threads, c, "--threads", p->n_threads, 0, 4096) ||
        (seed && !cli_u64(&p->seed, c->cmd, "--seed", seed)))
        return false;
    p->rank = (int)rank;
    p->iterations = (int)iters;
    p->n_threads = (int)threads;
    p->implicit = cli_get(&c->args, "--implicit") != NULL;
    return true;
}

int cmd_tune(ctx *c)
{
    const char *data = need(c, "--data", "PATH");
    rec_als_params base;
    if (!data || !parse_base(&base, c))
        return EXIT_USAGE;
    rec_error e = {0};
    rec_ratings *all = NULL;
    if (load_data(&all, c, data, &e) != REC_OK)
        return fail(c, &e);
    tune_outcome t;
    int rc = tune_run(&t, c, all, &base, &e);
    if (rc == EXIT_OK) {
        if (c->json) {
            begin_json(c);
            json_str(&c->j, "data", data);
            json_int(&c->j, "ratings", (long long)rec_ratings_n_ratings(all));
        }
        tune_emit(c, &t);
        rc = done(c);
    }
    tune_free(&t);
    rec_ratings_free(all);
    return rc;
}
