/*
 * cmd_similar.c - `movieme similar`: the nearest movies of a movie.
 */
#include "cli.h"

#include <stdlib.h>

const cli_opt similar_opts[] = {
    {"--model", "-m", "MODEL", "a model saved by 'movieme train'", false},
    {"--movie", NULL, "ID", "the movie to find neighbours of", false},
    OPT_N("movies"), OPT_JSON, OPT_QUIET, OPT_END,
};

int cmd_similar(ctx *c)
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
