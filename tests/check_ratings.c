/* check_ratings.c - the dataset: building, adding, lookups, statistics,
   best movies, split. */
#include "internal.h"
#include "test_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* A small dataset: users 10, 20, 30; movies 5, 7, 9 (+ 100 with no
   ratings after set_movie). */
static rec_ratings *small(void)
{
    rec_error e = {0};
    rec_ratings *r = NULL;
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    rec_rating rows[] = {
        {10, 7, 4.0f}, {10, 5, 3.0f}, {20, 5, 5.0f}, {30, 9, 1.0f},
        {20, 9, 2.0f}, {10, 7, 5.0f}, /* duplicate: last wins */
    };
    ck_assert_ok(rec_ratings_add(r, rows, 6, &e), &e);
    return r;
}

/* Every structural invariant of a dataset, checked the slow way. */
static void check_invariants(const rec_ratings *r)
{
    for (size_t i = 1; i < r->n_users; i++)
        ck_assert_int_lt(r->user_ids[i - 1], r->user_ids[i]);
    for (size_t i = 1; i < r->n_movies; i++)
        ck_assert_int_lt(r->movie_ids[i - 1], r->movie_ids[i]);
    for (size_t i = 0; i < r->n_users; i++)
        ck_assert_int_eq(rec__idmap_get(&r->user_map, r->user_ids[i]), (int)i);
    for (size_t i = 0; i < r->n_movies; i++)
        ck_assert_int_eq(rec__idmap_get(&r->movie_map, r->movie_ids[i]), (int)i);
    ck_assert_uint_eq(r->user_off[r->n_users], r->nnz);
    ck_assert_uint_eq(r->movie_off[r->n_movies], r->nnz);
    ck_assert_uint_eq(r->meta.n, r->n_movies);
    for (size_t u = 0; u < r->n_users; u++)
        for (uint64_t e = r->user_off[u]; e < r->user_off[u + 1]; e++) {
            if (e > r->user_off[u])
                ck_assert_int_lt(r->user_items[e - 1], r->user_items[e]);
            /* the same rating must be found in the movie's column */
            int32_t m = r->user_items[e];
            uint64_t lo = r->movie_off[m], hi = r->movie_off[m + 1];
            while (lo < hi) { /* the column is sorted by user */
                uint64_t mid = lo + (hi - lo) / 2;
                if ((size_t)r->movie_users[mid] < u)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            ck_assert(lo < r->movie_off[m + 1] && (size_t)r->movie_users[lo] == u);
            ck_assert(r->movie_vals[lo] == r->user_vals[e]);
        }
    for (size_t m = 0; m < r->n_movies; m++)
        for (uint64_t e = r->movie_off[m] + 1; e < r->movie_off[m + 1]; e++)
            ck_assert_int_lt(r->movie_users[e - 1], r->movie_users[e]);
}

/* The id map against a plain array: puts, overwrites, removals (backward
   shift), growth, copies. */
START_TEST(test_idmap)
{
    enum { KEYS = 5000 };
    static int32_t ref[KEYS]; /* value + 1, 0 = absent */
    memset(ref, 0, sizeof ref);
    rec_idmap m, c;
    rec__idmap_init(&m);
    ck_assert_int_eq(rec__idmap_get(&m, 3), -1);
    ck_assert_int_eq(rec__idmap_put(&m, -1, 0), REC_EINVAL);
    uint64_t s = 11;
    for (int step = 0; step < 60000; step++) {
        int32_t k = (int32_t)(rec__splitmix64(&s) % KEYS) * 977; /* clustered hashes */
        int op = (int)(rec__splitmix64(&s) % 3);
        if (op < 2) {
            ck_assert_int_eq(rec__idmap_put(&m, k, step), REC_OK);
            ref[k / 977] = step + 1;
        } else {
            rec__idmap_remove(&m, k);
            ref[k / 977] = 0;
        }
    }
    size_t live = 0;
    for (int i = 0; i < KEYS; i++) {
        ck_assert_int_eq(rec__idmap_get(&m, i * 977), ref[i] - 1);
        live += ref[i] != 0;
    }
    ck_assert_uint_eq(m.size, live);
    ck_assert_int_eq(rec__idmap_copy(&c, &m), REC_OK);
    for (int i = 0; i < KEYS; i++)
        ck_assert_int_eq(rec__idmap_get(&c, i * 977), ref[i] - 1);
    ck_assert_int_eq(rec__idmap_get(&c, 1), -1);
    rec__idmap_free(&m);
    rec__idmap_free(&c);
    rec__idmap_free(NULL);
}
END_TEST

START_TEST(test_new_empty)
{
    rec_error e = {0};
    rec_ratings *r = NULL;
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    ck_assert_uint_eq(rec_ratings_n_users(r), 0);
    ck_assert_uint_eq(rec_ratings_n_movies(r), 0);
    ck_assert_uint_eq(rec_ratings_n_ratings(r), 0);
    size_t n = 99;
    ck_assert_ok(rec_ratings_count_avg(NULL, 0, &n, r, &e), &e);
    ck_assert_uint_eq(n, 0);
    rec_scored best[2];
    ck_assert_ok(rec_best_movies(best, 2, &n, r, 0, 10, NULL, &e), &e);
    ck_assert_uint_eq(n, 0);
    ck_assert_ok(rec_ratings_add(r, NULL, 0, &e), &e);
    rec_ratings_free(r);
    rec_ratings_free(NULL);
    ck_assert_uint_eq(rec_ratings_n_users(NULL), 0);
}
END_TEST

START_TEST(test_add_and_lookup)
{
    rec_error e = {0};
    rec_ratings *r = small();
    ck_assert_uint_eq(rec_ratings_n_users(r), 3);
    ck_assert_uint_eq(rec_ratings_n_movies(r), 3);
    ck_assert_uint_eq(rec_ratings_n_ratings(r), 5);
    check_invariants(r);
    rec_rating out[4];
    size_t n = 0;
    ck_assert_ok(rec_ratings_user(out, 4, &n, r, 10, &e), &e);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].movie_id, 5);
    ck_assert_int_eq(out[1].movie_id, 7);
    ck_assert_float_eq(out[1].rating, 5.0f); /* the later duplicate */
    ck_assert_int_eq(out[0].user_id, 10);
    /* sizing call and truncated output */
    ck_assert_ok(rec_ratings_user(NULL, 0, &n, r, 20, &e), &e);
    ck_assert_uint_eq(n, 2);
    ck_assert_ok(rec_ratings_user(out, 1, &n, r, 20, &e), &e);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].movie_id, 5);

    rec_movie_info mi;
    ck_assert_ok(rec_ratings_movie(&mi, r, 9, &e), &e);
    ck_assert_int_eq(mi.movie_id, 9);
    ck_assert_uint_eq(mi.n_ratings, 2);
    ck_assert_float_eq_tol(mi.mean_rating, 1.5f, 1e-6f);
    ck_assert_str_eq(mi.title, "");
    ck_assert_str_eq(mi.genres, "");
    ck_assert_int_eq(mi.year, 0);
    ck_assert_ok(rec_ratings_movie_at(&mi, r, 0, &e), &e);
    ck_assert_int_eq(mi.movie_id, 5);
    ck_assert_ok(rec_ratings_movie_at(&mi, r, 2, &e), &e);
    ck_assert_int_eq(mi.movie_id, 9);

    /* adding more keeps what was there; re-rating replaces */
    rec_rating more[] = {{20, 5, 1.0f}, {40, 1, 2.5f}};
    ck_assert_ok(rec_ratings_add(r, more, 2, &e), &e);
    ck_assert_uint_eq(rec_ratings_n_ratings(r), 6);
    ck_assert_uint_eq(rec_ratings_n_users(r), 4);
    ck_assert_ok(rec_ratings_user(out, 4, &n, r, 20, &e), &e);
    ck_assert_float_eq(out[0].rating, 1.0f);
    ck_assert_float_eq(r->rating_min, 1.0f);
    ck_assert_float_eq(r->rating_max, 5.0f);
    check_invariants(r);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_set_movie)
{
    rec_error e = {0};
    rec_ratings *r = small();
    ck_assert_ok(rec_ratings_set_movie(r, 7, "Seven (1995)", "Crime|Mystery", &e), &e);
    /* a new movie in the middle of the id order, and one at the end */
    ck_assert_ok(rec_ratings_set_movie(r, 6, "Six, The (2001) ", NULL, &e), &e);
    ck_assert_ok(rec_ratings_set_movie(r, 100, "Hundred", "Drama", &e), &e);
    ck_assert_uint_eq(rec_ratings_n_movies(r), 5);
    ck_assert_uint_eq(rec_ratings_n_ratings(r), 5);
    check_invariants(r);
    rec_movie_info mi;
    ck_assert_ok(rec_ratings_movie(&mi, r, 7, &e), &e);
    ck_assert_str_eq(mi.title, "Seven (1995)");
    ck_assert_str_eq(mi.genres, "Crime|Mystery");
    ck_assert_int_eq(mi.year, 1995);
    ck_assert_uint_eq(mi.n_ratings, 1);
    ck_assert_ok(rec_ratings_movie_at(&mi, r, 1, &e), &e);
    ck_assert_int_eq(mi.movie_id, 6);
    ck_assert_int_eq(mi.year, 2001);
    ck_assert_uint_eq(mi.n_ratings, 0);
    ck_assert_float_eq(mi.mean_rating, 0.0f);
    ck_assert_str_eq(mi.genres, "");
    ck_assert_ok(rec_ratings_movie(&mi, r, 100, &e), &e);
    ck_assert_int_eq(mi.year, 0);
    /* replacing keeps the others; user rows still point at the right ids */
    ck_assert_ok(rec_ratings_set_movie(r, 7, "Se7en (1995)", "Thriller", &e), &e);
    ck_assert_ok(rec_ratings_movie(&mi, r, 7, &e), &e);
    ck_assert_str_eq(mi.title, "Se7en (1995)");
    rec_rating out[4];
    size_t n;
    ck_assert_ok(rec_ratings_user(out, 4, &n, r, 10, &e), &e);
    ck_assert_int_eq(out[1].movie_id, 7);
    /* metadata survives a later add */
    rec_rating more[] = {{50, 6, 4.0f}};
    ck_assert_ok(rec_ratings_add(r, more, 1, &e), &e);
    ck_assert_ok(rec_ratings_movie(&mi, r, 6, &e), &e);
    ck_assert_str_eq(mi.title, "Six, The (2001) ");
    ck_assert_uint_eq(mi.n_ratings, 1);
    ck_assert_ok(rec_ratings_movie(&mi, r, 100, &e), &e);
    ck_assert_str_eq(mi.genres, "Drama");
    check_invariants(r);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_parse_year)
{
    ck_assert_int_eq(rec__parse_year("Toy Story (1995)", 16), 1995);
    ck_assert_int_eq(rec__parse_year("Ready (2018)  ", 14), 2018);
    ck_assert_int_eq(rec__parse_year("Babylon 5", 9), 0);
    ck_assert_int_eq(rec__parse_year("Fake (19x5)", 11), 0);
    ck_assert_int_eq(rec__parse_year("(2000)", 6), 2000);
    ck_assert_int_eq(rec__parse_year("", 0), 0);
    ck_assert_int_eq(rec__parse_year("Series (2006-2007)", 18), 0);
}
END_TEST

START_TEST(test_copy)
{
    rec_error e = {0};
    rec_ratings *r = small(), *c = NULL;
    ck_assert_ok(rec_ratings_set_movie(r, 5, "Five (1990)", "Drama", &e), &e);
    ck_assert_ok(rec_ratings_copy(&c, r, &e), &e);
    rec_rating more[] = {{10, 5, 1.0f}};
    ck_assert_ok(rec_ratings_add(r, more, 1, &e), &e); /* copy unaffected */
    check_invariants(c);
    ck_assert_uint_eq(rec_ratings_n_ratings(c), 5);
    rec_rating out[4];
    size_t n;
    ck_assert_ok(rec_ratings_user(out, 4, &n, c, 10, &e), &e);
    ck_assert_float_eq(out[0].rating, 3.0f);
    rec_movie_info mi;
    ck_assert_ok(rec_ratings_movie(&mi, c, 5, &e), &e);
    ck_assert_str_eq(mi.title, "Five (1990)");
    rec_ratings_free(r);
    rec_ratings_free(c);
}
END_TEST

START_TEST(test_count_avg)
{
    rec_error e = {0};
    rec_ratings *r = small();
    ck_assert_ok(rec_ratings_set_movie(r, 8, "No ratings", "", &e), &e);
    rec_movie_stats s[8];
    size_t n = 0;
    ck_assert_ok(rec_ratings_count_avg(s, 8, &n, r, &e), &e);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(s[0].movie_id, 5);
    ck_assert_uint_eq(s[0].count, 2);
    ck_assert_double_eq_tol(s[0].average, 4.0, 1e-12);
    ck_assert_int_eq(s[1].movie_id, 7);
    ck_assert_double_eq_tol(s[1].average, 5.0, 1e-12);
    ck_assert_int_eq(s[2].movie_id, 8);
    ck_assert_uint_eq(s[2].count, 0);
    ck_assert_double_eq(s[2].average, 0.0);
    ck_assert_int_eq(s[3].movie_id, 9);
    /* a short buffer still reports the full count */
    ck_assert_ok(rec_ratings_count_avg(s, 1, &n, r, &e), &e);
    ck_assert_uint_eq(n, 4);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_best_movies)
{
    rec_error e = {0};
    rec_ratings *r = NULL;
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    /* movie 1: one 5; movie 2: ten 4.5; movie 3: ten 4.5 (tie: lower id),
       movie 4: five 4.5 (tie on plain average, fewer ratings) */
    rec_rating rows[64];
    size_t k = 0;
    rows[k++] = (rec_rating){1, 1, 5.0f};
    for (int u = 0; u < 10; u++) {
        rows[k++] = (rec_rating){100 + u, 3, 4.5f};
        rows[k++] = (rec_rating){100 + u, 2, 4.5f};
    }
    for (int u = 0; u < 5; u++)
        rows[k++] = (rec_rating){200 + u, 4, 4.5f};
    for (int u = 0; u < 10; u++) /* movie 5: ten 1.0, pulls the mean down */
        rows[k++] = (rec_rating){300 + u, 5, 1.0f};
    ck_assert_ok(rec_ratings_add(r, rows, k, &e), &e);
    ck_assert_ok(rec_ratings_set_movie(r, 2, "Two", "Comedy|Drama", &e), &e);
    ck_assert_ok(rec_ratings_set_movie(r, 4, "Four", "drama", &e), &e);
    ck_assert_ok(rec_ratings_set_movie(r, 9, "Unrated", "Drama", &e), &e);
    rec_scored out[8];
    size_t n = 0;
    /* plain average: 1 first (5.0), then ties at 4.5 by count then id */
    ck_assert_ok(rec_best_movies(out, 8, &n, r, 0, 0.0, NULL, &e), &e);
    ck_assert_uint_eq(n, 5); /* unrated movie left out with no prior */
    ck_assert_int_eq(out[4].movie_id, 5);
    ck_assert_int_eq(out[0].movie_id, 1);
    ck_assert_float_eq(out[0].score, 5.0f);
    ck_assert_int_eq(out[1].movie_id, 2);
    ck_assert_int_eq(out[2].movie_id, 3);
    ck_assert_int_eq(out[3].movie_id, 4);
    /* min_count drops movie 1 */
    ck_assert_ok(rec_best_movies(out, 8, &n, r, 5, 0.0, "", &e), &e);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(out[0].movie_id, 2);
    /* Bayesian prior: movie 1 sinks towards the global mean */
    double gm = (5.0 + 25 * 4.5 + 10.0) / 36.0;
    ck_assert_ok(rec_best_movies(out, 2, &n, r, 0, 10.0, NULL, &e), &e);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].movie_id, 2);
    ck_assert_float_eq_tol(out[0].score, (float)((10 * gm + 45.0) / 20.0), 1e-5f);
    /* genre filter: exact, case-insensitive, one of the '|' list */
    ck_assert_ok(rec_best_movies(out, 8, &n, r, 0, 0.0, "DRAMA", &e), &e);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(out[0].movie_id, 2);
    ck_assert_int_eq(out[1].movie_id, 4);
    ck_assert_ok(rec_best_movies(out, 8, &n, r, 0, 0.0, "Dram", &e), &e);
    ck_assert_uint_eq(n, 0);
    /* with a prior, an unrated movie scores the global mean */
    ck_assert_ok(rec_best_movies(out, 8, &n, r, 0, 3.0, "drama", &e), &e);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(out[2].movie_id, 9);
    ck_assert_float_eq_tol(out[2].score, (float)gm, 1e-5f);
    rec_ratings_free(r);
}
END_TEST

/* A random dataset with large sparse ids and duplicates, big enough for
   the parallel paths, checked against a plain reference. */
START_TEST(test_build_random_vs_reference)
{
    enum { N = 200000, NU = 3000, NM = 500 };
    int32_t *u = malloc(N * sizeof *u), *m = malloc(N * sizeof *m);
    float *v = malloc(N * sizeof *v);
    float *ref = malloc((size_t)NU * NM * sizeof *ref);
    for (size_t i = 0; i < (size_t)NU * NM; i++)
        ref[i] = -1;
    uint64_t s = 7;
    for (size_t i = 0; i < N; i++) {
        int a = (int)(rec__splitmix64(&s) % NU), b = (int)(rec__splitmix64(&s) % NM);
        u[i] = a * 700001 + 3; /* sparse ids past the direct-table range */
        m[i] = b * 3;
        v[i] = (float)(rec__splitmix64(&s) % 10) * 0.5f + 0.5f;
        ref[(size_t)a * NM + (size_t)b] = v[i];
    }
    rec_error e = {0};
    rec_ratings *r = NULL;
    ck_assert_ok(rec__ratings_build(&r, u, m, v, N, NULL, NULL, &e), &e);
    size_t nnz = 0, nu = 0;
    for (int a = 0; a < NU; a++) {
        size_t row = 0;
        for (int b = 0; b < NM; b++)
            row += ref[(size_t)a * NM + (size_t)b] >= 0;
        nnz += row;
        nu += row > 0;
    }
    ck_assert_uint_eq(r->nnz, nnz);
    ck_assert_uint_eq(r->n_users, nu);
    for (size_t du = 0; du < r->n_users; du++) {
        int a = (r->user_ids[du] - 3) / 700001;
        for (uint64_t e2 = r->user_off[du]; e2 < r->user_off[du + 1]; e2++) {
            int b = r->movie_ids[r->user_items[e2]] / 3;
            ck_assert(ref[(size_t)a * NM + (size_t)b] == r->user_vals[e2]);
        }
    }
    check_invariants(r);
    rec_ratings_free(r);
    free(u);
    free(m);
    free(v);
    free(ref);
}
END_TEST

/* Rows already in (user, movie) order take the no-copy path; the same
   rows in reverse order take the sorting path: both must agree. */
START_TEST(test_build_sorted_and_unsorted_agree)
{
    enum { NU = 400, NM = 300 };
    size_t n = 0;
    int32_t *u = malloc(NU * NM * sizeof *u), *m = malloc(NU * NM * sizeof *m);
    float *v = malloc(NU * NM * sizeof *v);
    uint64_t s = 3;
    for (int a = 0; a < NU; a++)
        for (int b = 0; b < NM; b++)
            if (rec__splitmix64(&s) % 3 == 0) {
                u[n] = a * 11;
                m[n] = b * 5 + 1;
                v[n++] = (float)(rec__splitmix64(&s) % 9) * 0.5f + 1.0f;
            }
    rec_error e = {0};
    rec_ratings *fast = NULL, *slow = NULL;
    ck_assert_ok(rec__ratings_build(&fast, u, m, v, n, NULL, NULL, &e), &e);
    for (size_t i = 0; i < n / 2; i++) {
        int32_t t = u[i];
        u[i] = u[n - 1 - i];
        u[n - 1 - i] = t;
        t = m[i];
        m[i] = m[n - 1 - i];
        m[n - 1 - i] = t;
        float f = v[i];
        v[i] = v[n - 1 - i];
        v[n - 1 - i] = f;
    }
    ck_assert_ok(rec__ratings_build(&slow, u, m, v, n, NULL, NULL, &e), &e);
    check_invariants(fast);
    check_invariants(slow);
    ck_assert_uint_eq(fast->nnz, n);
    ck_assert_uint_eq(slow->nnz, n);
    ck_assert_mem_eq(fast->user_off, slow->user_off, (NU + 1) * sizeof(uint64_t));
    ck_assert_mem_eq(fast->user_items, slow->user_items, n * sizeof(int32_t));
    ck_assert_mem_eq(fast->user_vals, slow->user_vals, n * sizeof(float));
    ck_assert_mem_eq(fast->movie_users, slow->movie_users, n * sizeof(int32_t));
    ck_assert_mem_eq(fast->movie_vals, slow->movie_vals, n * sizeof(float));
    rec_ratings_free(fast);
    rec_ratings_free(slow);
    free(u);
    free(m);
    free(v);
}
END_TEST

static uint64_t split_digest(const rec_ratings *t)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t u = 0; u < t->n_users; u++)
        for (uint64_t e = t->user_off[u]; e < t->user_off[u + 1]; e++) {
            h = (h ^ (uint64_t)t->user_ids[u]) * 1099511628211ULL;
            h = (h ^ (uint64_t)t->movie_ids[t->user_items[e]]) * 1099511628211ULL;
        }
    return h;
}

START_TEST(test_split)
{
    rec_error e = {0};
    rec_ratings *r = NULL, *tr = NULL, *te = NULL;
    ck_assert_ok(rec_load_movielens(&r, repo_data("ml-latest-small"), &e), &e);
    check_invariants(r);
    uint64_t digest[2];
    for (int t = 1; t <= 2; t++) {
#ifdef _OPENMP
        omp_set_num_threads(t);
#endif
        ck_assert_ok(rec_ratings_split(&tr, &te, r, 0.1, 42, &e), &e);
        ck_assert_uint_eq(rec_ratings_n_ratings(tr) + rec_ratings_n_ratings(te),
                          rec_ratings_n_ratings(r));
        double frac = (double)rec_ratings_n_ratings(te) / (double)rec_ratings_n_ratings(r);
        ck_assert_double_gt(frac, 0.09);
        ck_assert_double_lt(frac, 0.11);
        ck_assert_uint_eq(rec_ratings_n_movies(tr), rec_ratings_n_movies(r));
        ck_assert_uint_eq(rec_ratings_n_movies(te), rec_ratings_n_movies(r));
        rec_movie_info mi;
        ck_assert_ok(rec_ratings_movie(&mi, te, 1, &e), &e);
        ck_assert_str_eq(mi.title, "Toy Story (1995)");
        digest[t - 1] = split_digest(te);
        check_invariants(te);
        rec_ratings_free(tr);
        rec_ratings_free(te);
    }
    ck_assert_uint_eq(digest[0], digest[1]);
    /* another seed, another split; fraction 0 puts everything in train */
    ck_assert_ok(rec_ratings_split(&tr, &te, r, 0.1, 43, &e), &e);
    ck_assert_uint_ne(split_digest(te), digest[0]);
    rec_ratings_free(tr);
    rec_ratings_free(te);
    ck_assert_ok(rec_ratings_split(&tr, &te, r, 0.0, 1, &e), &e);
    ck_assert_uint_eq(rec_ratings_n_ratings(te), 0);
    ck_assert_uint_eq(rec_ratings_n_ratings(tr), rec_ratings_n_ratings(r));
    rec_ratings_free(tr);
    rec_ratings_free(te);
    rec_ratings_free(r);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_err_invalid)
{
    rec_error e = {0};
    rec_ratings *r = small(), *o = NULL, *o2 = NULL;
    ck_assert_int_eq(rec_ratings_new(NULL, &e), REC_EINVAL);
    ck_assert_int_eq(e.code, REC_EINVAL);
    ck_assert_int_eq(rec_ratings_copy(&o, NULL, &e), REC_EINVAL);
    ck_assert_int_eq(rec_ratings_add(NULL, NULL, 0, &e), REC_EINVAL);
    ck_assert_int_eq(rec_ratings_add(r, NULL, 3, NULL), REC_EINVAL);
    /* negative ids and non-finite ratings leave the dataset unchanged */
    rec_rating bad[] = {{1, 2, 3.0f}, {-1, 2, 3.0f}};
    ck_assert_int_eq(rec_ratings_add(r, bad, 2, &e), REC_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "rows[1]"));
    rec_rating bad2[] = {{1, 2, NAN}};
    ck_assert_int_eq(rec_ratings_add(r, bad2, 1, &e), REC_EINVAL);
    rec_rating bad3[] = {{1, 2, INFINITY}};
    ck_assert_int_eq(rec_ratings_add(r, bad3, 1, &e), REC_EINVAL);
    ck_assert_uint_eq(rec_ratings_n_ratings(r), 5);
    ck_assert_uint_eq(rec_ratings_n_users(r), 3);
    ck_assert_int_eq(rec_ratings_set_movie(r, -4, "x", NULL, &e), REC_EINVAL);
    ck_assert_int_eq(rec_ratings_set_movie(NULL, 4, "x", NULL, &e), REC_EINVAL);
    rec_movie_info mi;
    ck_assert_int_eq(rec_ratings_movie(NULL, r, 5, &e), REC_EINVAL);
    ck_assert_int_eq(rec_ratings_movie_at(&mi, NULL, 0, &e), REC_EINVAL);
    size_t n;
    ck_assert_int_eq(rec_ratings_user(NULL, 3, &n, r, 10, &e), REC_EINVAL);
    ck_assert_int_eq(rec_ratings_count_avg(NULL, 3, &n, r, &e), REC_EINVAL);
    rec_scored best[2];
    ck_assert_int_eq(rec_best_movies(best, 2, &n, r, 0, -1.0, NULL, &e), REC_EINVAL);
    ck_assert_int_eq(rec_best_movies(best, 2, &n, r, 0, NAN, NULL, &e), REC_EINVAL);
    ck_assert_int_eq(rec_best_movies(best, 2, NULL, r, 0, 1.0, NULL, &e), REC_EINVAL);
    ck_assert_int_eq(rec_ratings_split(&o, &o2, r, 1.0, 1, &e), REC_EINVAL);
    ck_assert_int_eq(rec_ratings_split(&o, &o2, r, -0.1, 1, &e), REC_EINVAL);
    ck_assert_int_eq(rec_ratings_split(&o, &o2, r, NAN, 1, &e), REC_EINVAL);
    ck_assert_int_eq(rec_ratings_split(&o, NULL, r, 0.5, 1, &e), REC_EINVAL);
    int32_t uu[] = {1}, mm[] = {-2};
    float vv[] = {1};
    ck_assert_int_eq(rec__ratings_build(&o, uu, mm, vv, 1, NULL, NULL, &e), REC_EINVAL);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_err_not_found)
{
    rec_error e = {0};
    rec_ratings *r = small();
    rec_movie_info mi;
    rec_rating out[2];
    size_t n;
    ck_assert_int_eq(rec_ratings_movie(&mi, r, 6, &e), REC_ENOTFOUND);
    ck_assert_int_eq(e.code, REC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "6"));
    ck_assert_int_eq(rec_ratings_movie(&mi, r, -1, &e), REC_ENOTFOUND);
    ck_assert_int_eq(rec_ratings_movie_at(&mi, r, 3, &e), REC_ENOTFOUND);
    ck_assert_int_eq(rec_ratings_user(out, 2, &n, r, 11, &e), REC_ENOTFOUND);
    ck_assert_int_eq(rec_ratings_user(out, 2, &n, r, 11, NULL), REC_ENOTFOUND);
    rec_ratings_free(r);
}
END_TEST

static Suite *ratings_suite(void)
{
    Suite *s = suite_create("ratings");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_idmap);
    tcase_add_test(core, test_new_empty);
    tcase_add_test(core, test_add_and_lookup);
    tcase_add_test(core, test_set_movie);
    tcase_add_test(core, test_parse_year);
    tcase_add_test(core, test_copy);
    tcase_add_test(core, test_count_avg);
    tcase_add_test(core, test_best_movies);
    tcase_add_test(core, test_build_random_vs_reference);
    tcase_add_test(core, test_build_sorted_and_unsorted_agree);
    tcase_add_test(core, test_split);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_err_invalid);
    tcase_add_test(errors, test_err_not_found);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return run_suite(ratings_suite());
}
