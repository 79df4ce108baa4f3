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
    double regs[MAX_VALUES], alphas[MAX_VALUES], bias_regs[MAX_VALUES];
    int ranks[MAX_VALUES];
    size_t n_regs, n_alphas, n_bias_regs, n_ranks;
} grid_lists;

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

static bool parse_grid(grid_lists *g, const ctx *c)
{
    const char *specs[16];
    int n = cli_values(&c->args, "--grid", specs, 16);
    memset(g, 0, sizeof *g);
    for (int i = 0; i < n && i < 16; i++) {
        const char *eq = strchr(specs[i], '=');
        size_t len = eq ? (size_t)(eq - specs[i]) : 0;
        const char *v = eq ? eq + 1 : "";
        double tmp[MAX_VALUES];
        bool ok;
        if (len == 3 && !strncmp(specs[i], "reg", 3))
            ok = parse_list(g->regs, &g->n_regs, c, specs[i], v, 0, 1e6);
        else if (len == 5 && !strncmp(specs[i], "alpha", 5))
            ok = parse_list(g->alphas, &g->n_alphas, c, specs[i], v, 1e-12,
                            1e12);
        else if (len == 8 && !strncmp(specs[i], "bias_reg", 8))
            ok = parse_list(g->bias_regs, &g->n_bias_regs, c, specs[i], v, 0,
                            1e6);
        else if (len == 4 && !strncmp(specs[i], "rank", 4)) {
            ok = parse_list(tmp, &g->n_ranks, c, specs[i], v, 1, 4096);
            for (size_t k = 0; ok && k < g->n_ranks; k++) {
                if (tmp[k] != floor(tmp[k])) {
                    cli_usage_error(c->cmd, "--grid: rank %g is not a whole "
                                    "number", tmp[k]);
                    ok = false;
                }
                g->ranks[k] = (int)tmp[k];
            }
        } else {
            cli_usage_error(c->cmd,
                            "--grid: '%s' is not NAME=V1,V2,... with NAME "
                            "reg, rank, alpha or bias_reg",
                            specs[i]);
            ok = false;
        }
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
    o->regs = g->regs;
    o->n_regs = g->n_regs;
    o->ranks = g->ranks;
    o->n_ranks = g->n_ranks;
    o->alphas = g->alphas;
    o->n_alphas = g->n_alphas;
    o->bias_regs = g->bias_regs;
    o->n_bias_regs = g->n_bias_regs;
    return true;
}

static int on_tune_progress(void *ud, const rec_tune_progress *p)
{
    const ctx *c = ud;
    if (p->point) {
        const rec_tune_point *q = p->point;
        char ndcg[32] = "";
        if (q->ndcg >= 0)
            snprintf(ndcg, sizeof ndcg, ", nDCG %.4f", q->ndcg);
        progress(c,
                 "point %zu (of up to %zu): rank %d, reg %g%s -> RMSE %.4f%s "
                 "(%.2f s, %d iterations%s); best so far: reg %g\n",
                 p->points_done, p->points_max, q->params.rank, q->params.reg,
                 q->warm ? ", warm" : "", q->rmse, ndcg, q->seconds,
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
        json_int(j, "rank", q->params.rank);
        json_num(j, "reg", q->params.reg);
        json_num(j, "bias_reg", q->params.bias_reg);
        if (q->params.implicit)
            json_num(j, "alpha", q->params.alpha);
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
        json_end_object(j);
    }
    json_end_array(j);
    json_object(j, "best");
    json_int(j, "index", (long long)res->best_index);
    json_int(j, "rank", res->best.rank);
    json_num(j, "reg", res->best.reg);
    json_num(j, "bias_reg", res->best.bias_reg);
    if (res->best.implicit)
        json_num(j, "alpha", res->best.alpha);
    json_num(j, "metric", res->metric);
    json_num(j, "rmse", res->rmse);
    json_num(j, "ndcg", res->ndcg);
    json_end_object(j);
    json_num(j, "tune_seconds", res->seconds);
}

static void text_tune(const rec_tune_options *o, const rec_tune_result *res,
                      const rec_tune_point *pts, size_t n)
{
    printf("%zu points on a %s validation split, metric %s%s:\n", n,
           validation_name(o), metric_name(o),
           o->metric == REC_METRIC_NDCG ? "@k" : "");
    printf("  %3s %5s %8s %8s %8s %8s %8s %6s %5s %8s\n", "#", "rank", "reg",
           "bias_reg", "alpha", "RMSE", "nDCG", "iters", "warm", "seconds");
    for (size_t i = 0; i < n; i++) {
        const rec_tune_point *q = &pts[i];
        char ndcg[16] = "-", alpha[16] = "-";
        if (q->ndcg >= 0)
            snprintf(ndcg, sizeof ndcg, "%.4f", q->ndcg);
        if (q->params.implicit)
            snprintf(alpha, sizeof alpha, "%g", q->params.alpha);
        printf("  %3zu %5d %8g %8g %8s %8.4f %8s %6d %5s %8.2f%s%s\n", i,
               q->params.rank, q->params.reg, q->params.bias_reg, alpha,
               q->rmse, ndcg, q->iterations, q->warm ? "yes" : "no",
               q->seconds, q->stopped_early ? "  stopped early" : "",
               i == res->best_index ? "  <- best" : "");
    }
    printf("best: rank %d, reg %g, bias_reg %g", res->best.rank, res->best.reg,
           res->best.bias_reg);
    if (res->best.implicit)
        printf(", alpha %g", res->best.alpha);
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
    t->opts.regs = NULL;
    t->opts.ranks = NULL;
    t->opts.alphas = NULL;
    t->opts.bias_regs = NULL;
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
