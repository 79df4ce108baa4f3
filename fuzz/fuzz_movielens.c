/*
 * fuzz_movielens.c - libFuzzer target for rec_load_movielens(), built once
 * per layout (REC_FUZZ_LAYOUT):
 *   0 csv   ratings.csv, movies.csv            (ml-latest, ml-20m, ...)
 *   1 100k  u.data, u.item, u.genre            (ml-100k)
 *   2 dat   ratings.dat, movies.dat            (ml-1m, ml-10m)
 * The input is split at NUL bytes into the files of the layout, in that
 * order; a file with no part is not written (the loader must cope with a
 * missing movies file). NUL never occurs in a MovieLens file, so the split
 * costs the fuzzer nothing it needs.
 *
 * Besides "no crash, no leak, no UB", a successful load must satisfy the
 * dataset invariants the API promises (UTF-8 titles, counts that add up,
 * finite ratings, ascending ids); a failed one must return a known code
 * with a message.
 */
#include "fuzz_common.h"
#include "internal.h"

#include <math.h>

#ifndef REC_FUZZ_LAYOUT
#define REC_FUZZ_LAYOUT 0
#endif

static const char *const fz_layout_files[3][3] = {
    {"ratings.csv", "movies.csv", NULL},
    {"u.data", "u.item", "u.genre"},
    {"ratings.dat", "movies.dat", NULL},
};

static void check_dataset(const rec_ratings *r)
{
    size_t nu = rec_ratings_n_users(r), nm = rec_ratings_n_movies(r);
    size_t nnz = rec_ratings_n_ratings(r);
    rec_error err;
    FZ_CHECK(r->n_users == nu && r->n_movies == nm && r->nnz == nnz);
    FZ_CHECK(r->user_off[0] == 0 && r->user_off[nu] == nnz);
    FZ_CHECK(r->movie_off[0] == 0 && r->movie_off[nm] == nnz);

    /* every movie: metadata in UTF-8, ids ascending */
    int32_t prev = -1;
    for (size_t i = 0; i < nm; i++) {
        rec_movie_info mi;
        rec_status st = rec_ratings_movie_at(&mi, r, i, &err);
        FZ_CHECK(st == REC_OK);
        fz_check_info(&mi);
        FZ_CHECK(mi.movie_id > prev);
        prev = mi.movie_id;
        rec_movie_info mj;
        FZ_CHECK(rec_ratings_movie(&mj, r, mi.movie_id, &err) == REC_OK);
        FZ_CHECK(mj.movie_id == mi.movie_id && mj.title == mi.title);
    }
    rec_movie_info none;
    rec_status st = rec_ratings_movie(&none, r, -5, &err);
    FZ_CHECK(st != REC_OK);
    fz_check_error(st, &err);

    /* per-movie counts add up to the number of ratings */
    if (nm) {
        rec_movie_stats *ms = calloc(nm, sizeof *ms);
        FZ_CHECK(ms != NULL);
        size_t n_out = 0;
        FZ_CHECK(rec_ratings_count_avg(ms, nm, &n_out, r, &err) == REC_OK);
        FZ_CHECK(n_out == nm);
        uint64_t total = 0;
        for (size_t i = 0; i < nm; i++) {
            total += ms[i].count;
            FZ_CHECK(isfinite(ms[i].average));
        }
        FZ_CHECK(total == nnz);
        free(ms);
    }

    /* every user's ratings: finite, movie ids ascending, counts add up */
    uint64_t total = 0;
    rec_rating buf[64];
    for (size_t u = 0; u < nu; u++) {
        size_t n_out = 0;
        st = rec_ratings_user(buf, 64, &n_out, r, r->user_ids[u], &err);
        FZ_CHECK(st == REC_OK);
        total += n_out;
        size_t k = n_out < 64 ? n_out : 64;
        for (size_t i = 0; i < k; i++) {
            FZ_CHECK(isfinite(buf[i].rating));
            FZ_CHECK(buf[i].user_id == r->user_ids[u]);
            FZ_CHECK(i == 0 || buf[i].movie_id > buf[i - 1].movie_id);
        }
    }
    FZ_CHECK(total == nnz);

    rec_scored best[8];
    size_t n_best = 0;
    FZ_CHECK(rec_best_movies(best, 8, &n_best, r, 1, 5.0, NULL, &err) == REC_OK);
    FZ_CHECK(n_best <= 8);
    for (size_t i = 0; i < n_best; i++)
        FZ_CHECK(isfinite(best[i].score));
}

/* One input for one layout (0 csv, 1 100k, 2 dat); also used by
   tests/check_fuzz_regressions.c to replay fuzz/regressions/ under Check. */
int fz_movielens_one(int layout, const uint8_t *data, size_t size)
{
    const char *const *files = fz_layout_files[layout];
    size_t n_files = files[2] ? 3 : 2;
    size_t pos = 0;
    int done = 0;
    for (size_t f = 0; f < n_files; f++) {
        if (done) {
            fz_remove(files[f]);
            continue;
        }
        size_t stop = size;
        if (f + 1 < n_files) {
            const uint8_t *nul = memchr(data + pos, '\0', size - pos);
            if (nul)
                stop = (size_t)(nul - data);
        }
        fz_write(files[f], data + pos, stop - pos);
        if (stop == size)
            done = 1;
        else
            pos = stop + 1;
    }

    rec_ratings *r = NULL;
    rec_error err;
    memset(&err, 0, sizeof err);
    rec_status st = rec_load_movielens(&r, fz_tmpdir(), &err);
    fz_check_error(st, &err);
    if (st == REC_OK) {
        FZ_CHECK(r != NULL);
        check_dataset(r);
    } else {
        FZ_CHECK(r == NULL);
    }

    /* Differential: given the ratings file itself, the loader looks the
       movies file up beside it and must build the same dataset. */
    rec_ratings *r2 = NULL;
    rec_error err2;
    memset(&err2, 0, sizeof err2);
    rec_status st2 = rec_load_movielens(&r2, fz_path(files[0]), &err2);
    fz_check_error(st2, &err2);
    if (st2 != st)
        fprintf(stderr, "dir: %d %s\nfile: %d %s\n", st, err.msg, st2,
                err2.msg);
    FZ_CHECK(st2 == st);
    if (st == REC_OK) {
        FZ_CHECK(rec_ratings_n_users(r2) == rec_ratings_n_users(r));
        FZ_CHECK(rec_ratings_n_movies(r2) == rec_ratings_n_movies(r));
        FZ_CHECK(rec_ratings_n_ratings(r2) == rec_ratings_n_ratings(r));
    }
    rec_ratings_free(r2);
    rec_ratings_free(r);
    return 0;
}

#ifndef REC_FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fz_movielens_one(REC_FUZZ_LAYOUT, data, size);
}
#endif
