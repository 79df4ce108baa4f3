/*
 * recommend.c - libmovieme quick start: load MovieLens ratings, train an ALS
 * model, print a user's top movies, serve a brand-new user from a few
 * ratings, and round-trip the model through a file.
 *
 * Build against the installed library with pkg-config alone:
 *     cc -o recommend recommend.c $(pkg-config --cflags --libs movieme)
 * or with CMake: find_package(movieme) + target_link_libraries(... movieme::movieme)
 *
 * Run: ./recommend data/ml-latest-small [USER_ID] [MODEL_FILE]
 */
#include <movieme.h>

#include <stdio.h>
#include <stdlib.h>

static int die(const char *what, const rec_error *err)
{
    fprintf(stderr, "recommend: %s: %s (%s)\n", what, err->msg,
            rec_strerror(err->code));
    return EXIT_FAILURE;
}

static void print_top(const rec_model *m, const rec_scored *top, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        rec_movie_info info;
        if (rec_model_movie(&info, m, top[i].movie_id, NULL) != REC_OK)
            continue;
        printf("  %2zu. %.2f  %s  (%s)\n", i + 1, top[i].score, info.title,
               info.genres);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MOVIELENS_DIR [USER_ID] [MODEL_FILE]\n",
                argv[0]);
        return 2;
    }
    int32_t user = argc > 2 ? (int32_t)strtol(argv[2], NULL, 10) : 1;
    const char *model_path = argc > 3 ? argv[3] : "recommend-example.bin";
    printf("libmovieme %s (header %s)\n", rec_version_string(),
           REC_VERSION_STRING);

    rec_error err = {0};
    rec_ratings *ratings = NULL;
    if (rec_load_movielens(&ratings, argv[1], &err) != REC_OK)
        return die("load", &err);
    printf("%zu ratings, %zu users, %zu movies\n",
           rec_ratings_n_ratings(ratings), rec_ratings_n_users(ratings),
           rec_ratings_n_movies(ratings));

    rec_als_params params;
    rec_als_params_init(&params); /* good defaults; change what you need */
    rec_model *model = NULL;
    rec_status st = rec_train_als(&model, ratings, &params, &err);
    rec_ratings_free(ratings);
    if (st != REC_OK)
        return die("train", &err);

    rec_scored top[10];
    size_t n = 0;
    if (rec_top_n(top, 10, &n, model, user, &err) != REC_OK) {
        rec_model_free(model);
        return die("top-n", &err);
    }
    printf("Top %zu for user %d:\n", n, (int)user);
    print_top(model, top, n);

    /* Someone new: fold their ratings in, the model stays unchanged. */
    const rec_movie_rating mine[] = {{1, 5.0f}, {260, 4.5f}, {2571, 5.0f}};
    if (rec_recommend_for_ratings(top, 5, &n, model, mine, 3, &err) != REC_OK) {
        rec_model_free(model);
        return die("fold-in", &err);
    }
    printf("Top %zu for a new user who loved Toy Story, Star Wars and "
           "The Matrix:\n", n);
    print_top(model, top, n);

    /* A model file alone serves recommendations. */
    rec_model *loaded = NULL;
    if (rec_model_save(model, model_path, &err) != REC_OK ||
        rec_model_load(&loaded, model_path, &err) != REC_OK) {
        rec_model_free(model);
        return die("model file", &err);
    }
    float a = 0, b = 0;
    rec_predict(&a, model, user, 1, NULL);
    rec_predict(&b, loaded, user, 1, NULL);
    printf("saved %s; predicted rating of movie 1: %.3f before, %.3f after "
           "loading\n", model_path, a, b);
    rec_model_free(loaded);
    rec_model_free(model);
    return a == b ? EXIT_SUCCESS : EXIT_FAILURE;
}
