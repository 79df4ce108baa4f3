/* check_model.c - the model handle: getters, metadata, factors, copy,
   allocation, the rated lists, and the dense Cholesky kernel. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "als_fixture.h"

static rec_ratings *titled_ratings(void)
{
    rec_ratings *r = fx_ratings(20, 10, 0.6);
    rec_error e;
    ck_assert_ok(rec_ratings_set_movie(r, 3, "Heat (1995)", "Action|Crime",
                                       &e),
                 &e);
    ck_assert_ok(rec_ratings_set_movie(r, 101, "Nobody Saw It (2020)", NULL,
                                       &e),
                 &e);
    return r;
}

START_TEST(test_getters_null)
{
    ck_assert_int_eq(rec_model_rank(NULL), 0);
    ck_assert_uint_eq(rec_model_n_users(NULL), 0);
    ck_assert_uint_eq(rec_model_n_movies(NULL), 0);
    ck_assert_float_eq(rec_model_global_mean(NULL), 0.0f);
    ck_assert_int_eq(rec_model_has_user(NULL, 1), 0);
    rec_model_free(NULL);
}
END_TEST

START_TEST(test_movie_metadata)
{
    rec_ratings *r = titled_ratings();
    rec_model *m = fx_train(r, 3, 1);
    ck_assert_uint_eq(rec_model_n_movies(m), 11); /* 10 rated + 1 */
    rec_movie_info mi;
    rec_error e;
    ck_assert_ok(rec_model_movie(&mi, m, 3, &e), &e);
    ck_assert_int_eq(mi.movie_id, 3);
    ck_assert_str_eq(mi.title, "Heat (1995)");
    ck_assert_str_eq(mi.genres, "Action|Crime");
    ck_assert_int_eq(mi.year, 1995);
    /* count and mean as in the dataset */
    rec_movie_stats st[11];
    size_t n;
    ck_assert_ok(rec_ratings_count_avg(st, 11, &n, r, &e), &e);
    ck_assert_uint_eq(n, 11);
    for (size_t i = 0; i < n; i++) {
        ck_assert_ok(rec_model_movie_at(&mi, m, i, &e), &e);
        ck_assert_int_eq(mi.movie_id, st[i].movie_id);
        ck_assert_uint_eq(mi.n_ratings, st[i].count);
        ck_assert_float_eq_tol(mi.mean_rating, (float)st[i].average, 1e-5f);
        if (i > 0) {
            rec_movie_info prev;
            ck_assert_ok(rec_model_movie_at(&prev, m, i - 1, &e), &e);
            ck_assert_int_lt(prev.movie_id, mi.movie_id);
        }
    }
    ck_assert_ok(rec_model_movie(&mi, m, 101, &e), &e);
    ck_assert_uint_eq(mi.n_ratings, 0);
    ck_assert_float_eq(mi.mean_rating, 0.0f);
    ck_assert_str_eq(mi.genres, "");
    ck_assert_int_eq(mi.year, 2020);
    /* untitled movies have empty strings, never NULL */
    ck_assert_ok(rec_model_movie(&mi, m, 1, &e), &e);
    ck_assert_ptr_nonnull(mi.title);
    ck_assert_str_eq(mi.title, "");
    /* the model does not depend on the dataset any more */
    rec_ratings_free(r);
    ck_assert_ok(rec_model_movie(&mi, m, 3, &e), &e);
    ck_assert_str_eq(mi.title, "Heat (1995)");
    rec_model_free(m);
}
END_TEST

START_TEST(test_factors)
{
    rec_ratings *r = fx_ratings(20, 10, 0.6);
    rec_model *m = fx_train(r, 4, 1);
    float f[8], b = NAN;
    rec_error e;
    ck_assert_ok(rec_model_user_factors(f, 8, &b, m, 10, &e), &e);
    ck_assert(isfinite(b));
    ck_assert_mem_eq(f, m->user_factors, 4 * sizeof *f);
    ck_assert_float_eq(b, m->user_bias[0]);
    ck_assert_ok(rec_model_movie_factors(f, 4, &b, m, 3, &e), &e);
    ck_assert_mem_eq(f, m->movie_factors + 4, 4 * sizeof *f);
    ck_assert_float_eq(b, m->movie_bias[1]);
    /* bias only */
    ck_assert_ok(rec_model_movie_factors(NULL, 0, &b, m, 1, &e), &e);
    ck_assert_float_eq(b, m->movie_bias[0]);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_copy)
{
    rec_ratings *r = titled_ratings();
    rec_model *m = fx_train(r, 3, 1), *c = NULL;
    rec_error e;
    const rec_movie_rating mr[] = {{3, 5.0f}, {5, 1.0f}};
    int32_t id;
    /* an override in the source is copied as well */
    ck_assert_ok(rec_add_user(&id, m, 10, mr, 2, &e), &e);
    ck_assert_ok(rec_model_copy(&c, m, &e), &e);
    ck_assert_int_eq(rec_model_rank(c), 3);
    ck_assert_uint_eq(rec_model_n_users(c), rec_model_n_users(m));
    ck_assert_uint_eq(rec_model_n_movies(c), rec_model_n_movies(m));
    ck_assert_float_eq(rec_model_global_mean(c), rec_model_global_mean(m));
    for (int32_t u = 10; u <= 200; u += 10) {
        rec_scored a[5], b[5];
        size_t na, nb;
        ck_assert_ok(rec_top_n(a, 5, &na, m, u, &e), &e);
        ck_assert_ok(rec_top_n(b, 5, &nb, c, u, &e), &e);
        ck_assert_uint_eq(na, nb);
        ck_assert_mem_eq(a, b, na * sizeof *a);
    }
    /* the copy is independent */
    ck_assert_ok(rec_add_user(&id, c, REC_NEW_USER, mr, 2, &e), &e);
    ck_assert(rec_model_has_user(c, id));
    ck_assert(!rec_model_has_user(m, id));
    rec_model_free(m);
    rec_movie_info mi;
    ck_assert_ok(rec_model_movie(&mi, c, 3, &e), &e);
    ck_assert_str_eq(mi.title, "Heat (1995)");
    const int32_t *items;
    const float *vals;
    size_t n;
    rec__model_user_rated(c, 0, &items, &vals, &n);
    ck_assert_uint_ge(n, 2);
    rec_model_free(c);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_alloc)
{
    rec_model *m = NULL;
    rec_error e;
    ck_assert_ok(rec__model_alloc(&m, 5, 3, 4, 7, &e), &e);
    ck_assert_int_eq(m->rank, 5);
    ck_assert_uint_eq(m->n_users, 3);
    ck_assert_uint_eq(m->n_trained_users, 3);
    ck_assert_uint_eq(m->n_movies, 4);
    for (size_t i = 0; i < 15; i++)
        ck_assert_float_eq(m->user_factors[i], 0.0f);
    for (size_t i = 0; i < 20; i++)
        ck_assert_float_eq(m->movie_factors[i], 0.0f);
    ck_assert_ptr_null(m->overrides);
    const int32_t *items;
    const float *vals;
    size_t n = 9;
    rec__model_user_rated(m, 1, &items, &vals, &n);
    ck_assert_uint_eq(n, 0);
    rec__model_user_rated(m, 3, &items, &vals, &n); /* beyond: none */
    ck_assert_uint_eq(n, 0);
    rec_model_free(m);
    /* an empty model is fine too */
    ck_assert_ok(rec__model_alloc(&m, 1, 0, 0, 0, &e), &e);
    rec_model_free(m);
}
END_TEST

START_TEST(test_cholesky)
{
    /* A = [4 2 0; 2 5 1; 0 1 3], x = [1 -1 2] -> b = A x */
    double A[9] = {4, 2, 0, 2, 5, 1, 0, 1, 3};
    double b[3] = {4 * 1 + 2 * -1, 2 * 1 + 5 * -1 + 1 * 2, -1 + 3 * 2};
    ck_assert_int_eq(rec__cholesky_solve(A, b, 3), 0);
    ck_assert_double_eq_tol(b[0], 1.0, 1e-12);
    ck_assert_double_eq_tol(b[1], -1.0, 1e-12);
    ck_assert_double_eq_tol(b[2], 2.0, 1e-12);
    /* a bigger one, against a known solution */
    enum { K = 13 };
    double M[K * K], y[K], x[K];
    for (int i = 0; i < K; i++) {
        x[i] = (double)(i % 5) - 2.0;
        for (int j = 0; j < K; j++)
            M[i * K + j] = 1.0 / (1.0 + abs(i - j)) + (i == j ? K : 0.0);
    }
    for (int i = 0; i < K; i++) {
        y[i] = 0.0;
        for (int j = 0; j < K; j++)
            y[i] += M[i * K + j] * x[j];
    }
    ck_assert_int_eq(rec__cholesky_solve(M, y, K), 0);
    for (int i = 0; i < K; i++)
        ck_assert_double_eq_tol(y[i], x[i], 1e-10);
    /* not positive definite */
    double S[4] = {1, 2, 2, 1}, c[2] = {1, 1};
    ck_assert_int_eq(rec__cholesky_solve(S, c, 2), -1);
    ck_assert_int_eq(rec__cholesky_solve(NULL, c, 2), -1);
    ck_assert_int_eq(rec__cholesky_solve(S, c, 0), -1);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_errors)
{
    rec_ratings *r = fx_ratings(10, 8, 0.6);
    rec_model *m = fx_train(r, 3, 1);
    rec_movie_info mi;
    float f[3];
    rec_error e = {0};
    ck_assert_int_eq(rec_model_movie(&mi, m, 2, &e), REC_ENOTFOUND);
    ck_assert_int_eq(e.code, REC_ENOTFOUND);
    ck_assert(strlen(e.msg) > 0);
    ck_assert_int_eq(rec_model_movie(NULL, m, 1, &e), REC_EINVAL);
    ck_assert_int_eq(rec_model_movie(&mi, NULL, 1, &e), REC_EINVAL);
    ck_assert_int_eq(rec_model_movie_at(&mi, m, 8, &e), REC_EINVAL);
    ck_assert_int_eq(rec_model_movie_at(&mi, NULL, 0, &e), REC_EINVAL);
    ck_assert_int_eq(rec_model_user_factors(f, 3, NULL, m, 11, &e),
                     REC_ENOTFOUND);
    ck_assert_int_eq(rec_model_user_factors(f, 2, NULL, m, 10, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_model_user_factors(f, 3, NULL, NULL, 10, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_model_movie_factors(f, 3, NULL, m, 2, &e),
                     REC_ENOTFOUND);
    ck_assert_int_eq(rec_model_movie_factors(f, 1, NULL, m, 1, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_model_copy(NULL, m, &e), REC_EINVAL);
    rec_model *c = (rec_model *)&e;
    ck_assert_int_eq(rec_model_copy(&c, NULL, &e), REC_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(rec__model_alloc(&c, 0, 1, 1, 1, &e), REC_EINVAL);
    /* 2^40 users x rank 8: far beyond memory, or beyond size_t */
    ck_assert_int_eq(rec__model_alloc(&c, 8, (size_t)1 << 40, 10, 10, &e),
                     REC_ENOMEM);
    ck_assert_int_eq(e.code, REC_ENOMEM);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(rec__model_alloc(&c, 1024, SIZE_MAX / 2, 10, 10, &e),
                     REC_ENOMEM);
    ck_assert_int_eq(rec__model_alloc(NULL, 2, 1, 1, 1, &e), REC_EINVAL);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_getters_null);
    tcase_add_test(core, test_movie_metadata);
    tcase_add_test(core, test_factors);
    tcase_add_test(core, test_copy);
    tcase_add_test(core, test_alloc);
    tcase_add_test(core, test_cholesky);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return run_suite(model_suite());
}
