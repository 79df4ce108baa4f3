/*
 * make_seeds.c - writes small valid model files for the fuzz corpus of
 * fuzz_model_load, made with the library itself so they follow whatever the
 * current format is. Usage: make_seeds OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* rec__model_save_order: a big-endian seed */

static void die(const char *what, const rec_error *err)
{
    fprintf(stderr, "make_seeds: %s: %s\n", what, err->msg);
    exit(1);
}

static rec_ratings *tiny_dataset(int n_users, int n_movies)
{
    rec_error err;
    rec_ratings *r = NULL;
    if (rec_ratings_new(&r, &err) != REC_OK)
        die("rec_ratings_new", &err);
    rec_rating rows[512];
    size_t n = 0;
    for (int u = 0; u < n_users; u++)
        for (int mv = 0; mv < n_movies && n < 512; mv++)
            if ((u * 7 + mv * 3) % 4 != 0 || (u == 0 && mv == 0)) {
                rows[n].user_id = 10 + u * 3;
                rows[n].movie_id = 1 + mv * 5;
                rows[n].rating = (float)(1 + (u * 3 + mv * 2) % 5) * 0.5f + 2.0f;
                n++;
            }
    if (rec_ratings_add(r, rows, n, &err) != REC_OK)
        die("rec_ratings_add", &err);
    static const char *titles[] = {
        "Toy Story (1995)", "American President, The (1995)",
        "Am\xc3\xa9lie (Fabuleux destin d'Am\xc3\xa9lie Poulain, Le) (2001)",
        "\xe5\x8d\x83\xe3\x81\xa8\xe5\x8d\x83\xe5\xb0\x8b (2001)", "Untitled",
        "\"Quoted\" Title (1999)"};
    for (int mv = 0; mv < n_movies; mv++) {
        const char *t = titles[mv % 6];
        if (rec_ratings_set_movie(r, 1 + mv * 5, t,
                                  mv % 2 ? "Comedy|Drama" : "Animation",
                                  &err) != REC_OK)
            die("rec_ratings_set_movie", &err);
    }
    /* a movie with metadata and no ratings */
    if (rec_ratings_set_movie(r, 9999, "No Ratings (2020)", NULL, &err) != REC_OK)
        die("rec_ratings_set_movie", &err);
    return r;
}

static void save_model(const char *dir, const char *name, int users, int movies,
                       int rank, int biases, int nonneg, int add_user,
                       int big_endian, int implicit, int pref_term)
{
    rec_error err;
    rec_ratings *r = tiny_dataset(users, movies);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = rank;
    p.iterations = 2;
    p.n_threads = 1;
    p.biases = biases;
    p.nonnegative = nonneg;
    p.implicit = implicit;
    if (implicit)
        p.biases = 0;
    if (pref_term) { /* section RPRF */
        p.rating_pref_weight = 0.5;
        p.rating_pref_shift = -0.1;
    }
    rec_model *m = NULL;
    if (rec_train_als(&m, r, &p, &err) != REC_OK)
        die("rec_train_als", &err);
    if (add_user) {
        rec_movie_rating mr[2] = {{1, 5.0f}, {6, 1.0f}};
        int32_t id;
        if (rec_add_user(&id, m, REC_NEW_USER, mr, 2, &err) != REC_OK)
            die("rec_add_user", &err);
        if (rec_add_user(&id, m, 10, mr, 1, &err) != REC_OK)
            die("rec_add_user (known)", &err);
        if (rec_remove_user(m, 13, &err) != REC_OK)
            die("rec_remove_user", &err);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (rec__model_save_order(m, path, big_endian, &err) != REC_OK)
        die("rec_model_save", &err);
    rec_model_free(m);
    rec_ratings_free(r);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds OUTDIR\n");
        return 2;
    }
    save_model(argv[1], "model-r2.bin", 6, 8, 2, 1, 0, 0, 0, 0, 0);
    save_model(argv[1], "model-r2-be.bin", 6, 8, 2, 1, 0, 0, 1, 0, 0);
    save_model(argv[1], "model-r1-nobias.bin", 3, 4, 1, 0, 0, 0, 0, 0, 0);
    save_model(argv[1], "model-nonneg.bin", 5, 6, 3, 1, 1, 0, 0, 0, 0);
    save_model(argv[1], "model-added-user.bin", 4, 6, 2, 1, 0, 1, 0, 0, 0);
    save_model(argv[1], "model-1x1.bin", 1, 1, 1, 1, 0, 0, 0, 0, 0);
    save_model(argv[1], "model-implicit.bin", 5, 8, 2, 0, 0, 0, 0, 1, 0);
    save_model(argv[1], "model-implicit-added.bin", 5, 8, 2, 0, 0, 1, 0, 1, 0);
    save_model(argv[1], "model-rating-pref.bin", 6, 8, 2, 1, 0, 1, 0, 0, 1);
    return 0;
}
