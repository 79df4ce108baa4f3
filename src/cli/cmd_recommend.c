/*
 * cmd_recommend.c - `movieme recommend`: top-N for a known user or for new ratings.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

const cli_opt recommend_opts[] = {
    {"--model", "-m", "MODEL", "a model saved by 'movieme train'", false},
    {"--user", "-u", "ID", "a user known to the model", false},
    {"--rate", "-r", "MOVIE=RATING",
     "a rating of a new user (repeat, or list several after one --rate)",
     true},
    {"--all", NULL, NULL,
     "every user of the model (or of --users): the batch path, to --out",
     false},
    {"--users", NULL, "FILE", "with --all: the user ids, one per line", false},
    {"--out", "-o", "FILE",
     "with --all: where to write (CSV user_id,rank,movie_id,score; with "
     "--json one JSON object per user and line; - for stdout)", false},
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

int cmd_recommend(ctx *c)
{
    const char *model = need(c, "--model", "MODEL");
    if (!model)
        return EXIT_USAGE;
    if (cli_get(&c->args, "--all")) {
        long n_all;
        if (!opt_long(&n_all, c, "-n", 10, 1, 1000000))
            return EXIT_USAGE;
        return recommend_all(c, model, n_all);
    }
    if (cli_get(&c->args, "--users") || cli_get(&c->args, "--out")) {
        cli_usage_error(c->cmd, "--users and --out go with --all");
        return EXIT_USAGE;
    }
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
