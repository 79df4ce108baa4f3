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
     "with --all: where to write (CSV user_id,rank,movie_id,score,rating; "
     "with "
     "--json one JSON object per user and line; - for stdout)", false},
    {"--min-count", NULL, "N",
     "only movies with at least N training ratings (default 0)", false},
    {"--genre", NULL, "GENRE", "only movies of this genre (e.g. Comedy)",
     false},
    {"--reasons", NULL, "K",
     "show the K rated movies that contributed most (default 2, 0: none)",
     false},
    OPT_N("movies"), OPT_JSON, OPT_QUIET, OPT_END,
};

/* The candidate options of recommend (--min-count, --genre). */
static bool parse_options(rec_top_n_options *o, const ctx *c)
{
    long min_count;
    rec_top_n_options_init(o);
    if (!opt_long(&min_count, c, "--min-count", 0, 0, 2147483647L))
        return false;
    o->min_count = (uint32_t)min_count;
    o->genre = cli_get(&c->args, "--genre");
    return true;
}

/* The list with predicted stars and, for each movie, the user's rated
   movies that contributed most (rec_explain). */
static void emit_recommendations(ctx *c, const rec_model *m,
                                 const rec_scored *top, size_t n,
                                 const int32_t *user,
                                 const rec_movie_rating *rates, size_t n_rates,
                                 long n_reasons)
{
    rec_reason why[16];
    if (c->json)
        json_array(&c->j, "recommendations");
    for (size_t i = 0; i < n; i++) {
        rec_movie_info mi = {.movie_id = top[i].movie_id, .title = "",
                             .genres = ""};
        rec_model_movie(&mi, m, top[i].movie_id, NULL);
        size_t nw = 0;
        if (n_reasons > 0 &&
            (user ? rec_explain(why, (size_t)n_reasons, &nw, NULL, NULL, m,
                                *user, top[i].movie_id, NULL)
                  : rec_explain_for_ratings(why, (size_t)n_reasons, &nw, NULL,
                                            NULL, m, rates, n_rates,
                                            top[i].movie_id, NULL)) != REC_OK)
            nw = 0;
        while (nw > 0 && why[nw - 1].weight <= 0.0f)
            nw--; /* reasons for, not against */
        if (c->json) {
            json_object(&c->j, NULL);
            json_int(&c->j, "rank", (long long)i + 1);
            json_int(&c->j, "movie_id", mi.movie_id);
            json_str(&c->j, "title", mi.title);
            json_str(&c->j, "genres", mi.genres);
            json_int(&c->j, "training_ratings", mi.n_ratings);
            json_num(&c->j, "score", top[i].score);
            json_num(&c->j, "rating", top[i].rating);
            json_array(&c->j, "because");
            for (size_t k = 0; k < nw; k++) {
                rec_movie_info ri = {.title = ""};
                rec_model_movie(&ri, m, why[k].movie_id, NULL);
                json_object(&c->j, NULL);
                json_int(&c->j, "movie_id", why[k].movie_id);
                json_str(&c->j, "title", ri.title);
                json_num(&c->j, "weight", why[k].weight);
                json_num(&c->j, "share", why[k].share);
                json_end_object(&c->j);
            }
            json_end_array(&c->j);
            json_end_object(&c->j);
            continue;
        }
        printf("%4zu. %6.3f  %.1f stars  %s  [%d]  %s\n", i + 1,
               (double)top[i].score, (double)top[i].rating,
               *mi.title ? mi.title : "(no title)", (int)mi.movie_id,
               mi.genres);
        for (size_t k = 0; k < nw; k++) {
            rec_movie_info ri = {.title = ""};
            rec_model_movie(&ri, m, why[k].movie_id, NULL);
            printf("%s %s (%.0f%%)%s", k ? "," : "        because you rated",
                   *ri.title ? ri.title : "(no title)",
                   100.0 * why[k].share, k + 1 == nw ? "\n" : "");
        }
    }
    if (c->json)
        json_end_array(&c->j);
}

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
        rec_top_n_options o;
        if (!opt_long(&n_all, c, "-n", 10, 1, 1000000) ||
            !parse_options(&o, c))
            return EXIT_USAGE;
        return recommend_all(c, model, n_all, &o);
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
    long n, n_reasons;
    int32_t user = 0;
    rec_top_n_options o;
    if (!opt_long(&n, c, "-n", 10, 1, 1000000) ||
        !opt_long(&n_reasons, c, "--reasons", 2, 0, 16) ||
        !parse_options(&o, c) ||
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
        st = rec_top_n_ex(top, (size_t)n, &got, m, user, &o, &e);
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
            progress(c, "no rated movie is known: the best-rated movies "
                        "(Bayesian average) instead\n");
        st = rec_recommend_for_ratings_ex(top, (size_t)n, &got, m, rates,
                                          (size_t)n_rate, &o, &e);
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
    emit_recommendations(c, m, top, got, user_s ? &user : NULL, rates,
                         (size_t)n_rate, n_reasons);
    rc = done(c);
out:
    free(rates);
    free(vals);
    free(top);
    rec_model_free(m);
    return rc;
}
