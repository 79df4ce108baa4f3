/*
 * movieme.c - the `movieme` command: stats, train, eval, recommend, similar.
 *
 * Uses only the public header. Results go to stdout (human text, or one
 * JSON object with --json), progress to stderr (silenced by --quiet).
 * Exit codes: 0 success, 1 the job failed, 2 bad command line.
 */
#include "cli.h"

#include "movieme.h"
#ifdef MOVIEME_WITH_MPI
#include "cli_mpi.h" /* train --mpi (src/mpi/cli_mpi.c) */
#endif

#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* ---- shared bits ------------------------------------------------------- */

#define OPT_JSON {"--json", NULL, NULL, "print one JSON object on stdout", false}
#define OPT_QUIET {"--quiet", "-q", NULL, "no progress on stderr", false}
#define OPT_N(what) {"-n", "--count", "N", "how many " what " (default 10)", false}
#define OPT_END {NULL, NULL, NULL, NULL, false}

typedef struct ctx {
    const cli_cmd *cmd;
    cli_args args;
    bool json;
    bool quiet;
    json j;
} ctx;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void progress(const ctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void progress(const ctx *c, const char *fmt, ...)
{
    if (c->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

/* A library failure: message on stderr, and an error object with --json. */
static int fail(ctx *c, const rec_error *e)
{
    fprintf(stderr, "movieme %s: %s\n", c->cmd->name, e->msg);
    if (c->json) {
        json_init(&c->j, stdout);
        json_object(&c->j, NULL);
        json_str(&c->j, "command", c->cmd->name);
        json_object(&c->j, "error");
        json_int(&c->j, "code", e->code);
        json_str(&c->j, "name", rec_strerror(e->code));
        json_str(&c->j, "message", e->msg);
        json_end_object(&c->j);
        json_end_object(&c->j);
        json_finish(&c->j);
    }
    return EXIT_FAIL;
}

static int fail_msg(ctx *c, rec_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail_msg(ctx *c, rec_status code, const char *fmt, ...)
{
    rec_error e = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    return fail(c, &e);
}

/* Finish the output: stdout must really have been written. */
static int done(ctx *c)
{
    bool ok = c->json ? json_finish(&c->j)
                      : (fflush(stdout) == 0 && !ferror(stdout));
    if (!ok) {
        fprintf(stderr, "movieme %s: cannot write the output\n", c->cmd->name);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* Value of a required option, or NULL after a usage error. */
static const char *need(const ctx *c, const char *name, const char *metavar)
{
    const char *v = cli_get(&c->args, name);
    if (!v || !*v) {
        cli_usage_error(c->cmd, "missing %s %s", name, metavar);
        return NULL;
    }
    return v;
}

/* Optional integer option with a default. */
static bool opt_long(long *out, const ctx *c, const char *name, long def,
                     long min, long max)
{
    const char *v = cli_get(&c->args, name);
    *out = def;
    return !v || cli_long(out, c->cmd, name, v, min, max);
}

static bool opt_double(double *out, const ctx *c, const char *name,
                       double def, double min, double max)
{
    const char *v = cli_get(&c->args, name);
    *out = def;
    return !v || cli_double(out, c->cmd, name, v, min, max);
}

static bool parse_id(int32_t *out, const ctx *c, const char *name,
                     const char *s)
{
    long v;
    if (!cli_long(&v, c->cmd, name, s, 0, INT32_MAX))
        return false;
    *out = (int32_t)v;
    return true;
}

static rec_status load_data(rec_ratings **out, ctx *c, const char *path,
                            rec_error *e)
{
    progress(c, "loading %s ...", path);
    double t0 = now();
    rec_status st = rec_load_movielens(out, path, e);
    if (st == REC_OK)
        progress(c, " %zu ratings, %zu users, %zu movies (%.2f s)\n",
                 rec_ratings_n_ratings(*out), rec_ratings_n_users(*out),
                 rec_ratings_n_movies(*out), now() - t0);
    else
        progress(c, " failed\n");
    return st;
}

static rec_status load_model(rec_model **out, ctx *c, const char *path,
                             rec_error *e)
{
    progress(c, "loading model %s ...", path);
    double t0 = now();
    rec_status st = rec_model_load(out, path, e);
    if (st == REC_OK)
        progress(c, " rank %d, %zu users, %zu movies (%.2f s)\n",
                 rec_model_rank(*out), rec_model_n_users(*out),
                 rec_model_n_movies(*out), now() - t0);
    else
        progress(c, " failed\n");
    return st;
}

/* One movie of a result list, as a JSON object or a line of text. */
static void emit_movie(ctx *c, const char *key, size_t rank,
                       const rec_movie_info *mi, double score, bool has_score)
{
    if (c->json) {
        json_object(&c->j, key);
        if (rank)
            json_int(&c->j, "rank", (long long)rank);
        json_int(&c->j, "movie_id", mi->movie_id);
        json_str(&c->j, "title", mi->title);
        if (mi->year)
            json_int(&c->j, "year", mi->year);
        else
            json_null(&c->j, "year");
        json_str(&c->j, "genres", mi->genres);
        if (has_score)
            json_num(&c->j, "score", score);
        json_end_object(&c->j);
        return;
    }
    const char *title = *mi->title ? mi->title : "(no title)";
    if (has_score)
        printf("%4zu. %6.3f  %s  [%d]  %s\n", rank, score, title,
               (int)mi->movie_id, mi->genres);
    else
        printf("%s  [%d]  %s\n", title, (int)mi->movie_id, mi->genres);
}

/* A result list of a model: titles from the model itself. */
static void emit_scored(ctx *c, const char *key, const rec_model *m,
                        const rec_scored *list, size_t n)
{
    if (c->json)
        json_array(&c->j, key);
    for (size_t i = 0; i < n; i++) {
        rec_movie_info mi = {.movie_id = list[i].movie_id, .title = "",
                             .genres = ""};
        rec_model_movie(&mi, m, list[i].movie_id, NULL);
        emit_movie(c, NULL, i + 1, &mi, list[i].score, true);
    }
    if (c->json)
        json_end_array(&c->j);
}

static void begin_json(ctx *c)
{
    if (!c->json)
        return;
    json_init(&c->j, stdout);
    json_object(&c->j, NULL);
    json_str(&c->j, "command", c->cmd->name);
}

/* ---- stats ------------------------------------------------------------- */

static const cli_opt stats_opts[] = {
    {"--data", NULL, "PATH", "MovieLens directory or ratings file", false},
    {"--top", NULL, "N", "how many best movies (default 10)", false},
    {"--min-count", NULL, "M", "least ratings a best movie needs (default 20)",
     false},
    {"--prior", NULL, "W",
     "weight of the Bayesian prior, 0 = plain average (default 10)", false},
    {"--genre", NULL, "G", "best movies of one genre only, e.g. Comedy", false},
    OPT_JSON, OPT_QUIET, OPT_END,
};

static int cmp_stats_id(const void *key, const void *elem)
{
    int32_t id = *(const int32_t *)key;
    int32_t other = ((const rec_movie_stats *)elem)->movie_id;
    return (id > other) - (id < other);
}

static int cmd_stats(ctx *c)
{
    const char *data = need(c, "--data", "PATH");
    long top, min_count;
    double prior;
    if (!data || !opt_long(&top, c, "--top", 10, 0, 1000000) ||
        !opt_long(&min_count, c, "--min-count", 20, 0, UINT32_MAX) ||
        !opt_double(&prior, c, "--prior", 10, 0, 1e12))
        return EXIT_USAGE;
    const char *genre = cli_get(&c->args, "--genre");

    rec_error e = {0};
    rec_ratings *r = NULL;
    if (load_data(&r, c, data, &e) != REC_OK)
        return fail(c, &e);
    size_t nu = rec_ratings_n_users(r), nm = rec_ratings_n_movies(r),
           nr = rec_ratings_n_ratings(r);
    rec_movie_stats *st = malloc((nm ? nm : 1) * sizeof *st);
    rec_scored *best = malloc((size_t)(top ? top : 1) * sizeof *best);
    size_t n_st = 0, n_best = 0;
    int rc = EXIT_OK;
    if (!st || !best) {
        rc = fail_msg(c, REC_ENOMEM, "out of memory");
        goto out;
    }
    if (rec_ratings_count_avg(st, nm, &n_st, r, &e) != REC_OK ||
        rec_best_movies(best, (size_t)top, &n_best, r, (uint32_t)min_count,
                        prior, genre, &e) != REC_OK) {
        rc = fail(c, &e);
        goto out;
    }
    double sum = 0;
    size_t rated = 0;
    for (size_t i = 0; i < n_st; i++) {
        sum += st[i].average * st[i].count;
        rated += st[i].count > 0;
    }
    double mean = nr ? sum / (double)nr : 0;
    double density = nu && nm ? (double)nr / ((double)nu * (double)nm) : 0;

    if (c->json) {
        begin_json(c);
        json_str(&c->j, "data", data);
        json_int(&c->j, "users", (long long)nu);
        json_int(&c->j, "movies", (long long)nm);
        json_int(&c->j, "rated_movies", (long long)rated);
        json_int(&c->j, "ratings", (long long)nr);
        json_num(&c->j, "density", density);
        json_num(&c->j, "mean_rating", mean);
        json_object(&c->j, "best_params");
        json_int(&c->j, "min_count", min_count);
        json_num(&c->j, "prior_weight", prior);
        json_str(&c->j, "genre", genre && *genre ? genre : NULL);
        json_end_object(&c->j);
        json_array(&c->j, "best");
    } else {
        printf("%s: %zu ratings by %zu users of %zu movies (%zu rated)\n",
               data, nr, nu, nm, rated);
        printf("density %.3f%%, mean rating %.3f\n", 100 * density, mean);
        printf("\nBest movies (at least %ld ratings, ", min_count);
        if (prior > 0)
            printf("Bayesian average with prior weight %g", prior);
        else
            printf("plain average");
        if (genre && *genre)
            printf(", genre %s", genre);
        printf("):\n");
    }
    for (size_t i = 0; i < n_best; i++) {
        rec_movie_info mi = {.movie_id = best[i].movie_id, .title = "",
                             .genres = ""};
        rec_ratings_movie(&mi, r, best[i].movie_id, NULL);
        const rec_movie_stats *s =
            bsearch(&best[i].movie_id, st, n_st, sizeof *st, cmp_stats_id);
        if (c->json) {
            json_object(&c->j, NULL);
            json_int(&c->j, "rank", (long long)i + 1);
            json_int(&c->j, "movie_id", mi.movie_id);
            json_str(&c->j, "title", mi.title);
            if (mi.year)
                json_int(&c->j, "year", mi.year);
            else
                json_null(&c->j, "year");
            json_str(&c->j, "genres", mi.genres);
            json_num(&c->j, "score", best[i].score);
            json_int(&c->j, "count", s ? (long long)s->count : 0);
            json_num(&c->j, "average", s ? s->average : 0);
            json_end_object(&c->j);
        } else {
            printf("%4zu. %6.3f  %s  [%d]  (%u ratings, average %.2f)\n",
                   i + 1, best[i].score, *mi.title ? mi.title : "(no title)",
                   (int)mi.movie_id, s ? s->count : 0u,
                   s ? s->average : 0.0);
        }
    }
    if (c->json)
        json_end_array(&c->j);
    rc = done(c);
out:
    free(st);
    free(best);
    rec_ratings_free(r);
    return rc;
}

/* ---- train ------------------------------------------------------------- */

/* The help shows the library's own defaults (rec_als_params_init). */
static char rank_help[64], iters_help[64], lambda_help[64], seed_help[96];

static void train_help_init(void)
{
    rec_als_params p;
    rec_als_params_init(&p);
    snprintf(rank_help, sizeof rank_help, "latent factors (default %d)",
             p.rank);
    snprintf(iters_help, sizeof iters_help, "ALS iterations (default %d)",
             p.iterations);
    snprintf(lambda_help, sizeof lambda_help,
             "regularisation, ALS-WR scaled (default %g)", p.reg);
    snprintf(seed_help, sizeof seed_help,
             "seed of the initialisation and the split (default %llu)",
             (unsigned long long)p.seed);
}

static const cli_opt train_opts[] = {
    {"--data", NULL, "PATH", "MovieLens directory or ratings file", false},
    {"--out", "-o", "MODEL", "where to save the model", false},
    {"--rank", NULL, "K", rank_help, false},
    {"--iters", NULL, "N", iters_help, false},
    {"--lambda", NULL, "L", lambda_help, false},
    {"--seed", NULL, "S", seed_help, false},
    {"--threads", NULL, "T", "OpenMP threads, 0 = all cores (default 0)",
     false},
    {"--test-fraction", NULL, "F",
     "hold out this fraction of ratings, 0 <= F < 1, and report test RMSE",
     false},
    {"--leave-out", NULL, "K",
     "hold out K ratings of each user with more than K (instead of "
     "--test-fraction) and report ranking metrics and the popularity "
     "baseline", false},
    {"--implicit", NULL, NULL,
     "implicit-feedback ALS: ratings are interactions (docs/implicit.md)",
     false},
    {"--alpha", NULL, "A", "implicit: confidence 1 + A * r (default 1)",
     false},
    {"--solver", NULL, "cg|cholesky", "implicit: row solver (default cg)",
     false},
    {"--cg-steps", NULL, "N", "implicit: CG steps per row (default 3)", false},
    {"--min-rating", NULL, "R",
     "implicit: ratings below R are no interaction (default 0)", false},
    {"--weight-by-value", NULL, NULL,
     "implicit: r = the rating (default: r = 1)", false},
#ifdef MOVIEME_WITH_MPI
    CLI_MPI_OPTS,
#endif
    OPT_JSON, OPT_QUIET, OPT_END,
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct train_state {
    const ctx *c;
    rec_progress last;
    bool any;
} train_state;

static int on_progress(void *userdata, const rec_progress *p)
{
    train_state *ts = userdata;
    ts->last = *p;
    ts->any = true;
    progress(ts->c, "iteration %d/%d: train RMSE %.4f, loss %.6g (%.2f s)\n",
             p->iteration, p->iterations, p->train_rmse, p->loss, p->seconds);
    return interrupted ? 1 : 0;
}

static void json_eval(json *j, const char *key, const rec_eval_result *ev)
{
    json_object(j, key);
    json_num(j, "rmse", ev->rmse);
    json_num(j, "mae", ev->mae);
    json_int(j, "n_predictions", (long long)ev->n_predictions);
    json_int(j, "k", ev->k);
    json_num(j, "precision_at_k", ev->precision_at_k);
    json_num(j, "recall_at_k", ev->recall_at_k);
    json_num(j, "ndcg_at_k", ev->ndcg_at_k);
    json_num(j, "map_at_k", ev->map_at_k);
    json_int(j, "n_users_ranked", (long long)ev->n_users_ranked);
    json_num(j, "auc", ev->auc);
    json_end_object(j);
}

static void text_eval(const rec_eval_result *ev, const char *indent)
{
    printf("%sRMSE %.4f  MAE %.4f  (%zu ratings)\n", indent, ev->rmse, ev->mae,
           ev->n_predictions);
    printf("%sprecision@%d %.4f  recall@%d %.4f  nDCG@%d %.4f  MAP@%d %.4f  "
           "AUC %.4f  (%zu users)\n",
           indent, ev->k, ev->precision_at_k, ev->k, ev->recall_at_k, ev->k,
           ev->ndcg_at_k, ev->k, ev->map_at_k, ev->auc, ev->n_users_ranked);
}

/* Implicit-feedback options of train (params version 2). */
static bool parse_implicit_params(rec_als_params *p, const ctx *c)
{
    long steps;
    double min_rating;
    const char *solver = cli_get(&c->args, "--solver");
    p->implicit = cli_get(&c->args, "--implicit") != NULL;
    p->implicit_weight_by_value =
        cli_get(&c->args, "--weight-by-value") != NULL;
    if (!opt_double(&p->alpha, c, "--alpha", p->alpha, 1e-12, 1e12) ||
        !opt_long(&steps, c, "--cg-steps", p->cg_steps, 1, 1000) ||
        !opt_double(&min_rating, c, "--min-rating", 0, -1e9, 1e9))
        return false;
    p->cg_steps = (int)steps;
    p->implicit_min_rating = (float)min_rating;
    if (solver && strcmp(solver, "cg") && strcmp(solver, "cholesky")) {
        cli_usage_error(c->cmd, "--solver: '%s' is not cg or cholesky",
                        solver);
        return false;
    }
    if (solver)
        p->solver = solver[1] == 'g' ? REC_SOLVER_CG : REC_SOLVER_CHOLESKY;
    return true;
}

static bool parse_train_params(rec_als_params *p, double *test_fraction,
                               const ctx *c)
{
    rec_als_params_init(p);
    long rank, iters, threads;
    const char *seed = cli_get(&c->args, "--seed");
    if (!opt_long(&rank, c, "--rank", p->rank, 1, 4096) ||
        !opt_long(&iters, c, "--iters", p->iterations, 1, 100000) ||
        !opt_double(&p->reg, c, "--lambda", p->reg, 0, 1e6) ||
        !opt_long(&threads, c, "--threads", p->n_threads, 0, 4096) ||
        !opt_double(test_fraction, c, "--test-fraction", 0, 0, 1) ||
        (seed && !cli_u64(&p->seed, c->cmd, "--seed", seed)))
        return false;
    if (*test_fraction >= 1) {
        cli_usage_error(c->cmd, "--test-fraction: %s is out of range "
                        "(0 <= F < 1)", cli_get(&c->args, "--test-fraction"));
        return false;
    }
    p->rank = (int)rank;
    p->iterations = (int)iters;
    p->n_threads = (int)threads;
    return parse_implicit_params(p, c);
}

static int cmd_train(ctx *c)
{
    const char *data = need(c, "--data", "PATH");
    const char *out = data ? need(c, "--out", "MODEL") : NULL;
    rec_als_params p;
    double test_fraction;
    long leave_out;
    if (!out || !parse_train_params(&p, &test_fraction, c) ||
        !opt_long(&leave_out, c, "--leave-out", 0, 0, 1000000))
        return EXIT_USAGE;
    if (leave_out > 0 && test_fraction > 0) {
        cli_usage_error(c->cmd, "give --test-fraction or --leave-out, not "
                                "both");
        return EXIT_USAGE;
    }

    rec_error e = {0};
    rec_ratings *all = NULL, *train = NULL, *test = NULL;
    rec_model *m = NULL;
    int rc;
    if (load_data(&all, c, data, &e) != REC_OK)
        return fail(c, &e);
    if (test_fraction > 0 || leave_out > 0) {
        if ((leave_out > 0
                 ? rec_ratings_split_per_user(&train, &test, all,
                                              (int)leave_out, p.seed, &e)
                 : rec_ratings_split(&train, &test, all, test_fraction,
                                     p.seed, &e)) != REC_OK) {
            rc = fail(c, &e);
            goto out;
        }
        progress(c, "split: %zu training, %zu test ratings\n",
                 rec_ratings_n_ratings(train), rec_ratings_n_ratings(test));
    }
    const rec_ratings *tr = train ? train : all;

    train_state ts = {.c = c};
    p.progress = on_progress;
    p.progress_userdata = &ts;
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    progress(c, "training: rank %d, %d iterations, lambda %g, seed %llu, "
                "threads %d%s\n",
             p.rank, p.iterations, p.reg, (unsigned long long)p.seed,
             p.n_threads, p.n_threads ? "" : " (all cores)");
    double t0 = now();
#ifdef MOVIEME_WITH_MPI
    rec_status st = cli_mpi_train(&m, tr, &p, &e); /* --mpi or not */
#else
    rec_status st = rec_train_als(&m, tr, &p, &e);
#endif
    double secs = now() - t0;
    sigaction(SIGINT, &old, NULL);
    if (st != REC_OK) {
        rc = fail(c, &e);
        goto out;
    }
    progress(c, "trained in %.2f s\n", secs);

    rec_eval_result ev = {0}, pop = {0};
    if (test) {
        progress(c, "evaluating on %zu test ratings ...\n",
                 rec_ratings_n_ratings(test));
        if (rec_evaluate(&ev, m, test, 10, 4.0f, &e) != REC_OK ||
            rec_evaluate_popularity(&pop, tr, test, 10, 4.0f, &e) != REC_OK) {
            rc = fail(c, &e);
            goto out;
        }
    }
    if (rec_model_save(m, out, &e) != REC_OK) {
        rc = fail(c, &e);
        goto out;
    }
    struct stat sb;
    long long bytes = stat(out, &sb) == 0 ? (long long)sb.st_size : -1;
    double train_rmse = ts.any ? ts.last.train_rmse : NAN;

    if (c->json) {
        begin_json(c);
        json_str(&c->j, "data", data);
        json_str(&c->j, "model", out);
        json_int(&c->j, "model_bytes", bytes);
        json_object(&c->j, "params");
        json_int(&c->j, "rank", p.rank);
        json_int(&c->j, "iterations", p.iterations);
        json_num(&c->j, "lambda", p.reg);
        json_int(&c->j, "seed", (long long)p.seed);
        json_int(&c->j, "threads", p.n_threads);
#ifdef MOVIEME_WITH_MPI
        json_int(&c->j, "mpi_ranks", cli_mpi_ranks());
#endif
        json_num(&c->j, "test_fraction", test_fraction);
        json_int(&c->j, "leave_out", leave_out);
        json_bool(&c->j, "implicit", p.implicit != 0);
        if (p.implicit) {
            json_num(&c->j, "alpha", p.alpha);
            json_str(&c->j, "solver",
                     p.solver == REC_SOLVER_CG ? "cg" : "cholesky");
            json_int(&c->j, "cg_steps", p.cg_steps);
            json_num(&c->j, "min_rating", p.implicit_min_rating);
            json_bool(&c->j, "weight_by_value",
                      p.implicit_weight_by_value != 0);
        }
        json_end_object(&c->j);
        json_int(&c->j, "users", (long long)rec_model_n_users(m));
        json_int(&c->j, "movies", (long long)rec_model_n_movies(m));
        json_int(&c->j, "train_ratings", (long long)rec_ratings_n_ratings(tr));
        json_num(&c->j, "train_seconds", secs);
        json_num(&c->j, "train_rmse", train_rmse);
        if (test) {
            json_int(&c->j, "test_ratings",
                     (long long)rec_ratings_n_ratings(test));
            json_num(&c->j, "test_rmse", ev.rmse);
            json_eval(&c->j, "test", &ev);
            json_eval(&c->j, "popularity", &pop);
        }
    } else {
        printf("trained rank %d, %d iterations, lambda %g on %zu ratings "
               "(%zu users, %zu movies) in %.2f s\n",
               p.rank, p.iterations, p.reg, rec_ratings_n_ratings(tr),
               rec_model_n_users(m), rec_model_n_movies(m), secs);
        printf("train RMSE %.4f\n", train_rmse);
        if (test) {
            if (leave_out > 0)
                printf("test RMSE %.4f on %zu held-out ratings (%ld per "
                       "user)\n",
                       ev.rmse, ev.n_predictions, leave_out);
            else
                printf("test RMSE %.4f on %zu held-out ratings (fraction "
                       "%g)\n",
                       ev.rmse, ev.n_predictions, test_fraction);
            if (p.implicit)
                printf("  (implicit model: scores are preferences, so its "
                       "RMSE/MAE against ratings mean little)\n");
            text_eval(&ev, "  ");
            printf("popularity baseline:\n");
            text_eval(&pop, "  ");
        }
        printf("saved %s (%lld bytes)\n", out, bytes);
    }
    rc = done(c);
out:
    rec_model_free(m);
    rec_ratings_free(train);
    rec_ratings_free(test);
    rec_ratings_free(all);
    return rc;
}

#ifdef MOVIEME_WITH_MPI
/* train --mpi: rank 0 runs the command above, the other ranks only join
   the training; MPI is finished (or the job aborted) on the way out. */
static int cmd_train_mpi(ctx *c)
{
    int rank = 0;
    int rc = cli_mpi_begin(&rank, c->cmd, &c->args);
    if (rc == CLI_MPI_OFF)
        return cmd_train(c);
    if (rc != EXIT_OK)
        return rc;
    if (rank == 0)
        rc = cmd_train(c);
    else
        rc = cli_mpi_worker(&c->args);
    return cli_mpi_end(rc);
}
#define cmd_train cmd_train_mpi
#endif

/* ---- eval -------------------------------------------------------------- */

static const cli_opt eval_opts[] = {
    {"--model", "-m", "MODEL", "a model saved by 'movieme train'", false},
    {"--test", NULL, "PATH", "test ratings: a MovieLens directory or file",
     false},
    {"--k", "-k", "K", "cut-off of the ranking metrics (default 10)", false},
    {"--relevant", NULL, "R",
     "least rating of a relevant test movie (default 4)", false},
    {"--train", NULL, "PATH",
     "the model's training ratings: also evaluate the popularity baseline",
     false},
    OPT_JSON, OPT_QUIET, OPT_END,
};

static int cmd_eval(ctx *c)
{
    const char *model = need(c, "--model", "MODEL");
    const char *test = model ? need(c, "--test", "PATH") : NULL;
    long k;
    double relevant;
    if (!test || !opt_long(&k, c, "--k", 10, 1, 1000000) ||
        !opt_double(&relevant, c, "--relevant", 4.0, -1e9, 1e9))
        return EXIT_USAGE;

    rec_error e = {0};
    rec_model *m = NULL;
    rec_ratings *t = NULL, *tr = NULL;
    const char *train = cli_get(&c->args, "--train");
    rec_eval_result ev, pop;
    int rc;
    if (load_model(&m, c, model, &e) != REC_OK ||
        load_data(&t, c, test, &e) != REC_OK ||
        (train && load_data(&tr, c, train, &e) != REC_OK)) {
        rc = fail(c, &e);
        goto out;
    }
    progress(c, "evaluating ...\n");
    if (rec_evaluate(&ev, m, t, (int)k, (float)relevant, &e) != REC_OK ||
        (tr && rec_evaluate_popularity(&pop, tr, t, (int)k, (float)relevant,
                                       &e) != REC_OK)) {
        rc = fail(c, &e);
        goto out;
    }
    if (c->json) {
        begin_json(c);
        json_str(&c->j, "model", model);
        json_str(&c->j, "test", test);
        json_num(&c->j, "relevant_min", relevant);
        json_num(&c->j, "rmse", ev.rmse);
        json_num(&c->j, "mae", ev.mae);
        json_num(&c->j, "precision_at_k", ev.precision_at_k);
        json_num(&c->j, "recall_at_k", ev.recall_at_k);
        json_num(&c->j, "ndcg_at_k", ev.ndcg_at_k);
        json_num(&c->j, "map_at_k", ev.map_at_k);
        json_int(&c->j, "k", ev.k);
        json_int(&c->j, "n_predictions", (long long)ev.n_predictions);
        json_int(&c->j, "n_users_ranked", (long long)ev.n_users_ranked);
        json_num(&c->j, "auc", ev.auc);
        json_bool(&c->j, "implicit", rec_model_implicit(m) != 0);
        if (tr)
            json_eval(&c->j, "popularity", &pop);
    } else {
        printf("%s on %s:\n", model, test);
        text_eval(&ev, "  ");
        if (tr) {
            printf("popularity baseline (trained on %s):\n", train);
            text_eval(&pop, "  ");
        }
    }
    rc = done(c);
out:
    rec_model_free(m);
    rec_ratings_free(t);
    rec_ratings_free(tr);
    return rc;
}

/* ---- recommend --------------------------------------------------------- */

static const cli_opt recommend_opts[] = {
    {"--model", "-m", "MODEL", "a model saved by 'movieme train'", false},
    {"--user", "-u", "ID", "a user known to the model", false},
    {"--rate", "-r", "MOVIE=RATING",
     "a rating of a new user (repeat, or list several after one --rate)",
     true},
    OPT_N("movies"), OPT_JSON, OPT_QUIET, OPT_END,
};

static bool parse_rating(rec_movie_rating *out, const ctx *c, const char *s)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s) {
        cli_usage_error(c->cmd, "--rate: '%s' is not MOVIE=RATING", s);
        return false;
    }
    char id[32];
    size_t len = (size_t)(eq - s);
    if (len >= sizeof id) {
        cli_usage_error(c->cmd, "--rate: '%s': movie id too long", s);
        return false;
    }
    memcpy(id, s, len);
    id[len] = '\0';
    double v;
    if (!parse_id(&out->movie_id, c, "--rate", id) ||
        !cli_double(&v, c->cmd, "--rate", eq + 1, -1e6, 1e6))
        return false;
    out->rating = (float)v;
    return true;
}

static int cmd_recommend(ctx *c)
{
    const char *model = need(c, "--model", "MODEL");
    if (!model)
        return EXIT_USAGE;
    const char *user_s = cli_get(&c->args, "--user");
    int n_rate = cli_count(&c->args, "--rate");
    if (!user_s == !n_rate) {
        cli_usage_error(c->cmd, user_s ? "give --user or --rate, not both"
                                       : "missing --user ID or --rate "
                                         "MOVIE=RATING");
        return EXIT_USAGE;
    }
    long n;
    int32_t user = 0;
    if (!opt_long(&n, c, "-n", 10, 1, 1000000) ||
        (user_s && !parse_id(&user, c, "--user", user_s)))
        return EXIT_USAGE;
    rec_movie_rating *rates = calloc((size_t)n_rate + 1, sizeof *rates);
    const char **vals = calloc((size_t)n_rate + 1, sizeof *vals);
    rec_scored *top = calloc((size_t)n, sizeof *top);
    int rc = EXIT_USAGE;
    rec_model *m = NULL;
    rec_error e = {0};
    if (!rates || !vals || !top) {
        rc = fail_msg(c, REC_ENOMEM, "out of memory");
        goto out;
    }
    cli_values(&c->args, "--rate", vals, n_rate);
    for (int i = 0; i < n_rate; i++)
        if (!parse_rating(&rates[i], c, vals[i]))
            goto out;

    if (load_model(&m, c, model, &e) != REC_OK) {
        rc = fail(c, &e);
        goto out;
    }
    size_t got = 0;
    rec_status st;
    if (user_s) {
        st = rec_top_n(top, (size_t)n, &got, m, user, &e);
        if (st == REC_ENOTFOUND)
            snprintf(e.msg, sizeof e.msg, "user %d is not in the model",
                     (int)user);
    } else {
        size_t known = 0;
        for (int i = 0; i < n_rate; i++) {
            rec_movie_info mi;
            if (rec_model_movie(&mi, m, rates[i].movie_id, NULL) == REC_OK)
                known++;
            else
                progress(c, "movie %d is not in the model: rating ignored\n",
                         (int)rates[i].movie_id);
        }
        if (known == 0)
            progress(c, "no rated movie is known: recommendations fall back "
                        "to the biases\n");
        st = rec_recommend_for_ratings(top, (size_t)n, &got, m, rates,
                                       (size_t)n_rate, &e);
    }
    if (st != REC_OK) {
        rc = fail(c, &e);
        goto out;
    }
    if (c->json) {
        begin_json(c);
        json_str(&c->j, "model", model);
        if (user_s) {
            json_int(&c->j, "user", user);
        } else {
            json_null(&c->j, "user");
            json_array(&c->j, "ratings");
            for (int i = 0; i < n_rate; i++) {
                json_object(&c->j, NULL);
                json_int(&c->j, "movie_id", rates[i].movie_id);
                json_num(&c->j, "rating", rates[i].rating);
                json_end_object(&c->j);
            }
            json_end_array(&c->j);
        }
    } else if (user_s) {
        printf("Top %zu for user %d:\n", got, (int)user);
    } else {
        printf("Top %zu for a new user with %d rating%s:\n", got, n_rate,
               n_rate == 1 ? "" : "s");
    }
    emit_scored(c, "recommendations", m, top, got);
    rc = done(c);
out:
    free(rates);
    free(vals);
    free(top);
    rec_model_free(m);
    return rc;
}

/* ---- similar ----------------------------------------------------------- */

static const cli_opt similar_opts[] = {
    {"--model", "-m", "MODEL", "a model saved by 'movieme train'", false},
    {"--movie", NULL, "ID", "the movie to find neighbours of", false},
    OPT_N("movies"), OPT_JSON, OPT_QUIET, OPT_END,
};

static int cmd_similar(ctx *c)
{
    const char *model = need(c, "--model", "MODEL");
    const char *movie_s = model ? need(c, "--movie", "ID") : NULL;
    long n;
    int32_t movie;
    if (!movie_s || !parse_id(&movie, c, "--movie", movie_s) ||
        !opt_long(&n, c, "-n", 10, 1, 1000000))
        return EXIT_USAGE;
    rec_scored *sim = calloc((size_t)n, sizeof *sim);
    rec_model *m = NULL;
    rec_error e = {0};
    rec_movie_info mi;
    size_t got = 0;
    int rc;
    if (!sim) {
        rc = fail_msg(c, REC_ENOMEM, "out of memory");
        goto out;
    }
    if (load_model(&m, c, model, &e) != REC_OK) {
        rc = fail(c, &e);
        goto out;
    }
    if (rec_model_movie(&mi, m, movie, &e) != REC_OK) {
        rc = fail_msg(c, e.code, "movie %d is not in the model", (int)movie);
        goto out;
    }
    if (rec_similar_movies(sim, (size_t)n, &got, m, movie, &e) != REC_OK) {
        rc = fail(c, &e);
        goto out;
    }
    if (c->json) {
        begin_json(c);
        json_str(&c->j, "model", model);
        emit_movie(c, "movie", 0, &mi, 0, false);
    } else {
        printf("Movies like ");
        emit_movie(c, NULL, 0, &mi, 0, false);
    }
    emit_scored(c, "similar", m, sim, got);
    rc = done(c);
out:
    free(sim);
    rec_model_free(m);
    return rc;
}

/* ---- main -------------------------------------------------------------- */

static const cli_cmd commands[] = {
    {"stats", "--data PATH [--top N] [--min-count M] [--prior W] [--genre G]",
     "Summarise a dataset and list its best movies by a Bayesian average.",
     stats_opts},
    {"train",
     "--data PATH --out MODEL [--rank K] [--iters N] [--lambda L] [--seed S] "
     "[--threads T] [--test-fraction F | --leave-out K] [--implicit "
     "[--alpha A] [--solver cg|cholesky] [--cg-steps N] [--min-rating R] "
     "[--weight-by-value]]",
     "Train an ALS model (explicit, or implicit feedback) and save it; with "
     "--test-fraction or --leave-out, report the RMSE and ranking metrics on "
     "held-out ratings beside the popularity baseline.",
     train_opts},
    {"eval", "--model MODEL --test PATH [--k K] [--train PATH]",
     "RMSE, MAE, precision@k, recall@k, nDCG@k, MAP@k and AUC of a saved "
     "model on test ratings; with --train, the popularity baseline too.",
     eval_opts},
    {"recommend", "--model MODEL (--user ID | --rate MOVIE=RATING ...) [-n N]",
     "The best movies for a known user, or for a new user from their ratings "
     "(folded in on the spot, the model file is not changed).",
     recommend_opts},
    {"similar", "--model MODEL --movie ID [-n N]",
     "The movies closest to a movie by the cosine of their factors.",
     similar_opts},
};

static int (*const runners[])(ctx *) = {
    cmd_stats, cmd_train, cmd_eval, cmd_recommend, cmd_similar,
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "Usage: movieme COMMAND [OPTIONS]\n\n"
               "Movie recommendations with ALS (libmovieme %s).\n\n"
               "Commands:\n",
            rec_version_string());
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].synopsis);
    fprintf(f, "\nEvery command takes --json (one JSON object on stdout) and "
               "--help.\n'movieme --version' prints the version.\n"
               "Exit status: 0 success, 1 failure, 2 bad command line.\n");
}

int main(int argc, char **argv)
{
    train_help_init();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0)
            for (size_t i = 0; i < N_COMMANDS; i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    cli_help(stdout, &commands[i]);
                    return EXIT_OK;
                }
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("movieme %s (libmovieme %s)\n", REC_VERSION_STRING,
               rec_version_string());
        return EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(name, commands[i].name) != 0)
            continue;
        ctx c = {.cmd = &commands[i]};
        if (!cli_parse(&c.args, c.cmd, argc - 2, argv + 2)) {
            cli_args_free(&c.args);
            return EXIT_USAGE;
        }
        int rc;
        if (c.args.help) {
            cli_help(stdout, c.cmd);
            rc = EXIT_OK;
        } else {
            c.json = cli_get(&c.args, "--json") != NULL;
            c.quiet = cli_get(&c.args, "--quiet") != NULL;
            rc = runners[i](&c);
        }
        cli_args_free(&c.args);
        return rc;
    }
    fprintf(stderr, "movieme: unknown command '%s'\n", name);
    usage(stderr);
    return EXIT_USAGE;
}
