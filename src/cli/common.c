/*
 * common.c - what the movieme commands share: the command context, required
 * and optional options, progress on stderr, failures (text and --json),
 * loading data and models, and printing result lists and evaluations.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void progress(const ctx *c, const char *fmt, ...)
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
int fail(ctx *c, const rec_error *e)
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

int fail_msg(ctx *c, rec_status code, const char *fmt, ...)
{
    rec_error e = {.code = code};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    va_end(ap);
    return fail(c, &e);
}

/* Finish the output: stdout must really have been written. */
int done(ctx *c)
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
const char *need(const ctx *c, const char *name, const char *metavar)
{
    const char *v = cli_get(&c->args, name);
    if (!v || !*v) {
        cli_usage_error(c->cmd, "missing %s %s", name, metavar);
        return NULL;
    }
    return v;
}

/* Optional integer option with a default. */
bool opt_long(long *out, const ctx *c, const char *name, long def,
                     long min, long max)
{
    const char *v = cli_get(&c->args, name);
    *out = def;
    return !v || cli_long(out, c->cmd, name, v, min, max);
}

bool opt_double(double *out, const ctx *c, const char *name,
                       double def, double min, double max)
{
    const char *v = cli_get(&c->args, name);
    *out = def;
    return !v || cli_double(out, c->cmd, name, v, min, max);
}

bool parse_id(int32_t *out, const ctx *c, const char *name,
                     const char *s)
{
    long v;
    if (!cli_long(&v, c->cmd, name, s, 0, INT32_MAX))
        return false;
    *out = (int32_t)v;
    return true;
}

rec_status load_data(rec_ratings **out, ctx *c, const char *path,
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

rec_status load_model(rec_model **out, ctx *c, const char *path,
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
void emit_movie(ctx *c, const char *key, size_t rank,
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
void emit_scored(ctx *c, const char *key, const rec_model *m,
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

void begin_json(ctx *c)
{
    if (!c->json)
        return;
    json_init(&c->j, stdout);
    json_object(&c->j, NULL);
    json_str(&c->j, "command", c->cmd->name);
}

void json_eval(json *j, const char *key, const rec_eval_result *ev)
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
    json_num(j, "coverage", ev->coverage);
    json_num(j, "median_train_count", ev->median_train_count);
    json_end_object(j);
}

void text_eval(const rec_eval_result *ev, const char *indent)
{
    printf("%sRMSE %.4f  MAE %.4f  (%zu ratings)\n", indent, ev->rmse, ev->mae,
           ev->n_predictions);
    printf("%sprecision@%d %.4f  recall@%d %.4f  nDCG@%d %.4f  MAP@%d %.4f  "
           "AUC %.4f  (%zu users)\n",
           indent, ev->k, ev->precision_at_k, ev->k, ev->recall_at_k, ev->k,
           ev->ndcg_at_k, ev->k, ev->map_at_k, ev->auc, ev->n_users_ranked);
    printf("%scoverage %.4f of the trained movies, median training count "
           "of the recommended %.1f\n",
           indent, ev->coverage, ev->median_train_count);
}

