/* check_arrays.c - bulk access in columns (arrays.c): datasets from and to
   arrays, factor matrices, many predictions. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "als_fixture.h"

START_TEST(test_round_trip)
{
    rec_ratings *r = fx_ratings(30, 12, 0.5), *back = NULL;
    rec_error e;
    size_t n = 0, n2 = 0;
    ck_assert_ok(rec_ratings_to_arrays(NULL, NULL, NULL, 0, &n, r, &e), &e);
    ck_assert_uint_eq(n, rec_ratings_n_ratings(r));
    int32_t *u = malloc(n * sizeof *u), *m = malloc(n * sizeof *m);
    float *v = malloc(n * sizeof *v);
    ck_assert_ok(rec_ratings_to_arrays(u, m, v, n, &n2, r, &e), &e);
    ck_assert_uint_eq(n2, n);
    for (size_t i = 1; i < n; i++) /* by user, then movie */
        ck_assert(u[i] > u[i - 1] || (u[i] == u[i - 1] && m[i] > m[i - 1]));
    /* each user's rows are what rec_ratings_user gives */
    rec_rating rows[64];
    size_t got;
    ck_assert_ok(rec_ratings_user(rows, 64, &got, r, u[0], &e), &e);
    for (size_t i = 0; i < got; i++) {
        ck_assert_int_eq(rows[i].movie_id, m[i]);
        ck_assert_float_eq(rows[i].rating, v[i]);
    }
    ck_assert_ok(rec_ratings_from_arrays(&back, u, m, v, n, &e), &e);
    ck_assert_uint_eq(rec_ratings_n_ratings(back), n);
    ck_assert_uint_eq(rec_ratings_n_users(back), rec_ratings_n_users(r));
    ck_assert_uint_eq(rec_ratings_n_movies(back), rec_ratings_n_movies(r));
    int32_t *u2 = malloc(n * sizeof *u2), *m2 = malloc(n * sizeof *m2);
    float *v2 = malloc(n * sizeof *v2);
    ck_assert_ok(rec_ratings_to_arrays(u2, m2, v2, n, &n2, back, &e), &e);
    ck_assert_mem_eq(u, u2, n * sizeof *u);
    ck_assert_mem_eq(m, m2, n * sizeof *m);
    ck_assert_mem_eq(v, v2, n * sizeof *v);
    /* a short buffer gets the first rows */
    memset(u2, 0, n * sizeof *u2);
    ck_assert_ok(rec_ratings_to_arrays(u2, m2, v2, 5, &n2, r, &e), &e);
    ck_assert_uint_eq(n2, n);
    ck_assert_mem_eq(u, u2, 5 * sizeof *u);
    ck_assert_int_eq(u2[5], 0);
    free(u), free(m), free(v), free(u2), free(m2), free(v2);
    rec_ratings_free(back);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_from_arrays_errors)
{
    rec_ratings *r = NULL;
    rec_error e;
    int32_t u[3] = {1, 2, -3}, m[3] = {1, 1, 1};
    float v[3] = {4, 3, 2};
    ck_assert_int_eq(rec_ratings_from_arrays(&r, u, m, v, 3, &e), REC_EINVAL);
    ck_assert_ptr_null(r);
    ck_assert_str_eq(e.msg, "row 2: negative id (user -3, movie 1)");
    u[2] = 3;
    v[1] = NAN;
    ck_assert_int_eq(rec_ratings_from_arrays(&r, u, m, v, 3, &e), REC_EINVAL);
    ck_assert_str_eq(e.msg, "row 1: rating nan is not finite or beyond "
                            "+-1e+06 (REC_MAX_RATING)");
    v[1] = 2e6f; /* the same limits as every other door */
    ck_assert_int_eq(rec_ratings_from_arrays(&r, u, m, v, 3, &e), REC_EINVAL);
    ck_assert_str_eq(e.msg, "row 1: rating 2e+06 is not finite or beyond "
                            "+-1e+06 (REC_MAX_RATING)");
    v[1] = NAN;
    ck_assert_int_eq(rec_ratings_from_arrays(&r, NULL, m, v, 3, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_ratings_from_arrays(NULL, u, m, v, 3, &e),
                     REC_EINVAL);
    /* empty is fine; duplicates: last wins */
    ck_assert_ok(rec_ratings_from_arrays(&r, NULL, NULL, NULL, 0, &e), &e);
    ck_assert_uint_eq(rec_ratings_n_ratings(r), 0);
    rec_ratings_free(r);
    u[1] = 1;
    v[1] = 1.5f;
    ck_assert_ok(rec_ratings_from_arrays(&r, u, m, v, 3, &e), &e);
    ck_assert_uint_eq(rec_ratings_n_ratings(r), 2);
    rec_rating row;
    size_t got;
    ck_assert_ok(rec_ratings_user(&row, 1, &got, r, 1, &e), &e);
    ck_assert_float_eq(row.rating, 1.5f);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_matrices)
{
    rec_ratings *r = fx_ratings(25, 10, 0.6);
    rec_model *m = fx_train(r, 3, 1);
    rec_error e;
    /* remove and add users so dense order is not id order */
    ck_assert_ok(rec_remove_user(m, 30, &e), &e);
    rec_movie_rating mr[2] = {{1, 5.0f}, {3, 2.0f}};
    int32_t id;
    ck_assert_ok(rec_add_user(&id, m, 5, mr, 2, &e), &e);
    size_t nu = 0, nm = 0, k = 3;
    ck_assert_ok(rec_model_user_matrix(NULL, NULL, NULL, 0, &nu, m, &e), &e);
    ck_assert_uint_eq(nu, rec_model_n_users(m));
    float *uf = malloc(nu * k * sizeof *uf), *ub = malloc(nu * sizeof *ub);
    int32_t *uid = malloc(nu * sizeof *uid);
    ck_assert_int_eq(rec_model_user_matrix(uf, ub, uid, nu - 1, &nu, m, &e),
                     REC_EINVAL);
    ck_assert_ok(rec_model_user_matrix(uf, ub, uid, nu, &nu, m, &e), &e);
    ck_assert_int_eq(uid[0], 5);
    for (size_t i = 0; i < nu; i++) {
        float f[3], b;
        if (i)
            ck_assert_int_gt(uid[i], uid[i - 1]);
        ck_assert_ok(rec_model_user_factors(f, 3, &b, m, uid[i], &e), &e);
        ck_assert_mem_eq(f, uf + i * k, sizeof f);
        ck_assert_float_eq(b, ub[i]);
    }
    ck_assert_ok(rec_model_movie_matrix(NULL, NULL, NULL, 0, &nm, m, &e), &e);
    float *mf = malloc(nm * k * sizeof *mf);
    int32_t *mid = malloc(nm * sizeof *mid);
    ck_assert_ok(rec_model_movie_matrix(mf, NULL, mid, nm, &nm, m, &e), &e);
    for (size_t i = 0; i < nm; i++) {
        float f[3];
        ck_assert_ok(rec_model_movie_factors(f, 3, NULL, m, mid[i], &e), &e);
        ck_assert_mem_eq(f, mf + i * k, sizeof f);
    }
    /* many predictions equal rec_predict, unknown ids included */
    size_t np = 0;
    int32_t pu[400], pm[400];
    for (size_t i = 0; i < nu; i++)
        for (size_t j = 0; j < nm && np < 398; j++, np++) {
            pu[np] = uid[i];
            pm[np] = mid[j];
        }
    pu[np] = 99999, pm[np++] = mid[0];
    pu[np] = uid[0], pm[np++] = 88888;
    float out[400];
    ck_assert_ok(rec_predict_many(out, m, pu, pm, np, &e), &e);
    for (size_t i = 0; i < np; i++) {
        float p;
        ck_assert_ok(rec_predict(&p, m, pu[i], pm[i], &e), &e);
        ck_assert_float_eq(out[i], p);
    }
    ck_assert_int_eq(rec_predict_many(NULL, m, pu, pm, 1, &e), REC_EINVAL);
    ck_assert_ok(rec_predict_many(NULL, m, NULL, NULL, 0, &e), &e);
    free(uf), free(ub), free(uid), free(mf), free(mid);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

static Suite *arrays_suite(void)
{
    Suite *s = suite_create("arrays");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_round_trip);
    tcase_add_test(core, test_from_arrays_errors);
    tcase_add_test(core, test_matrices);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return run_suite(arrays_suite());
}
