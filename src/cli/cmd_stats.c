/*
 * cmd_stats.c - `movieme stats`: a dataset summary and its best movies.
 */
#include "cli.h"

#include <stdlib.h>

const cli_opt stats_opts[] = {
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

int cmd_stats(ctx *c)
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
