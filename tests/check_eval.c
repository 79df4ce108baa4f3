/* check_eval.c - rec_evaluate: RMSE/MAE with fallbacks, and the ranking
   metrics computed by hand on a model whose scores are known. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "als_fixture.h"

/* Users 1, 2; movies 1..5 with scores 3 + bias: 2.0, 2.5, 3.0, 3.5, 4.0.
   User 1 rated movie 5 in training. */
static rec_model *eval_model(void)
{
    static const int32_t uids[] = {1, 2}, mids[] = {1, 2, 3, 4, 5};
    rec_model *m = fx_model(uids, 2, mids, 5);
    for (size_t j = 0; j < 5; j++)
        fx_movie(m, j, 0.0f, 0.0f, -1.0f + 0.5f * (float)j);
    m->rated_items[0] = 4;
    m->rated_vals[0] = 4.0f;
    m->rated_off[1] = 1;
    m->rated_off[2] = 1;
    fx_ready(m);
    return m;
}

/* user 1: m4 5.0 (relevant), m2 4.5 (relevant), m3 2.0, m77 4.0 (movie
   unknown to the model); user 2: m1 3.0; user 9 (unknown): m1 4.0. */
static rec_ratings *eval_test(void)
{
    rec_ratings *t = NULL;
    rec_error e;
    ck_assert_ok(rec_ratings_new(&t, &e), &e);
    const rec_rating rows[] = {{1, 4, 5.0f}, {1, 2, 4.5f}, {1, 3, 2.0f},
                               {1, 77, 4.0f}, {2, 1, 3.0f}, {9, 1, 4.0f}};
    ck_assert_ok(rec_ratings_add(t, rows, 6, &e), &e);
    return t;
}

START_TEST(test_accuracy)
{
    rec_model *m = eval_model();
    rec_ratings *t = eval_test();
    rec_eval_result r;
    rec_error e;
    ck_assert_ok(rec_evaluate(&r, m, t, 2, 4.0f, &e), &e);
    /* errors: -1.5, -2, +1, -1 (mean + user bias), -1, -2 (mean + movie
       bias for the unknown user) */
    ck_assert_uint_eq(r.n_predictions, 6);
    ck_assert_double_eq_tol(r.rmse, sqrt(13.25 / 6.0), 1e-6);
    ck_assert_double_eq_tol(r.mae, 8.5 / 6.0, 1e-6);
    rec_model_free(m);
    rec_ratings_free(t);
}
END_TEST

START_TEST(test_ranking_by_hand)
{
    rec_model *m = eval_model();
    rec_ratings *t = eval_test();
    rec_eval_result r;
    rec_error e;
    /* top 2 of user 1 (movie 5 was rated in training): m4, m3 */
    ck_assert_ok(rec_evaluate(&r, m, t, 2, 4.0f, &e), &e);
    ck_assert_int_eq(r.k, 2);
    ck_assert_uint_eq(r.n_users_ranked, 1); /* user 2 has nothing relevant */
    ck_assert_double_eq_tol(r.precision_at_k, 0.5, 1e-12);
    ck_assert_double_eq_tol(r.recall_at_k, 0.5, 1e-12);
    ck_assert_double_eq_tol(r.ndcg_at_k, 1.0 / (1.0 + 1.0 / log2(3.0)),
                            1e-12);
    ck_assert_double_eq_tol(r.map_at_k, 0.5, 1e-12);
    /* top 3: m4, m3, m2: hits at ranks 1 and 3 */
    ck_assert_ok(rec_evaluate(&r, m, t, 3, 4.0f, &e), &e);
    ck_assert_double_eq_tol(r.precision_at_k, 2.0 / 3.0, 1e-12);
    ck_assert_double_eq_tol(r.recall_at_k, 1.0, 1e-12);
    ck_assert_double_eq_tol(r.ndcg_at_k, 1.5 / (1.0 + 1.0 / log2(3.0)),
                            1e-12);
    ck_assert_double_eq_tol(r.map_at_k, (1.0 + 2.0 / 3.0) / 2.0, 1e-12);
    /* only 5.0 is relevant: m4 at rank 1 */
    ck_assert_ok(rec_evaluate(&r, m, t, 2, 5.0f, &e), &e);
    ck_assert_uint_eq(r.n_users_ranked, 1);
    ck_assert_double_eq_tol(r.precision_at_k, 0.5, 1e-12);
    ck_assert_double_eq_tol(r.recall_at_k, 1.0, 1e-12);
    ck_assert_double_eq_tol(r.ndcg_at_k, 1.0, 1e-12);
    ck_assert_double_eq_tol(r.map_at_k, 1.0, 1e-12);
    /* nothing relevant: no user ranked, metrics 0 */
    ck_assert_ok(rec_evaluate(&r, m, t, 2, 5.5f, &e), &e);
    ck_assert_uint_eq(r.n_users_ranked, 0);
    ck_assert_double_eq(r.precision_at_k, 0.0);
    rec_model_free(m);
    rec_ratings_free(t);
}
END_TEST

START_TEST(test_empty_test_set)
{
    rec_model *m = eval_model();
    rec_ratings *t = NULL;
    ck_assert_ok(rec_ratings_new(&t, NULL), (rec_error *)NULL);
    rec_eval_result r;
    ck_assert_ok(rec_evaluate(&r, m, t, 10, 4.0f, NULL), (rec_error *)NULL);
    ck_assert_uint_eq(r.n_predictions, 0);
    ck_assert_uint_eq(r.n_users_ranked, 0);
    ck_assert_double_eq(r.rmse, 0.0);
    rec_model_free(m);
    rec_ratings_free(t);
}
END_TEST

START_TEST(test_movielens_small)
{
    rec_ratings *train, *test;
    fx_small_split(&train, &test);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 8;
    p.iterations = 4;
    rec_model *m = NULL;
    rec_error e;
    ck_assert_ok(rec_train_als(&m, train, &p, &e), &e);
    rec_eval_result a, b;
    ck_assert_ok(rec_evaluate(&a, m, test, 10, 4.0f, &e), &e);
    ck_assert_uint_eq(a.n_predictions, rec_ratings_n_ratings(test));
    ck_assert(a.rmse > 0.5 && a.rmse < 1.0);
    ck_assert(a.mae > 0.3 && a.mae < a.rmse);
    ck_assert(a.n_users_ranked > 100);
    ck_assert(a.n_users_ranked <= rec_ratings_n_users(test));
    ck_assert(a.precision_at_k >= 0.0 && a.precision_at_k <= 1.0);
    ck_assert(a.recall_at_k >= 0.0 && a.recall_at_k <= 1.0);
    ck_assert(a.ndcg_at_k >= 0.0 && a.ndcg_at_k <= 1.0);
    ck_assert(a.map_at_k >= 0.0 && a.map_at_k <= 1.0);
    /* parallel inside, yet the same result every time */
    ck_assert_ok(rec_evaluate(&b, m, test, 10, 4.0f, &e), &e);
    ck_assert_double_eq(a.rmse, b.rmse);
    ck_assert_double_eq(a.mae, b.mae);
    ck_assert_double_eq(a.precision_at_k, b.precision_at_k);
    ck_assert_double_eq(a.recall_at_k, b.recall_at_k);
    ck_assert_double_eq(a.ndcg_at_k, b.ndcg_at_k);
    ck_assert_double_eq(a.map_at_k, b.map_at_k);
    ck_assert_uint_eq(a.n_users_ranked, b.n_users_ranked);
    rec_model_free(m);
    rec_ratings_free(train);
    rec_ratings_free(test);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_errors)
{
    rec_model *m = eval_model();
    rec_ratings *t = eval_test();
    rec_eval_result r;
    rec_error e = {0};
    ck_assert_int_eq(rec_evaluate(NULL, m, t, 10, 4.0f, &e), REC_EINVAL);
    ck_assert_int_eq(e.code, REC_EINVAL);
    ck_assert(strlen(e.msg) > 0);
    ck_assert_int_eq(rec_evaluate(&r, NULL, t, 10, 4.0f, &e), REC_EINVAL);
    ck_assert_int_eq(rec_evaluate(&r, m, NULL, 10, 4.0f, &e), REC_EINVAL);
    ck_assert_int_eq(rec_evaluate(&r, m, t, 0, 4.0f, &e), REC_EINVAL);
    ck_assert_int_eq(rec_evaluate(&r, m, t, -1, 4.0f, &e), REC_EINVAL);
    ck_assert_int_eq(rec_evaluate(&r, m, t, 10, NAN, &e), REC_EINVAL);
    rec_model_free(m);
    rec_ratings_free(t);
}
END_TEST

static Suite *eval_suite(void)
{
    Suite *s = suite_create("eval");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_accuracy);
    tcase_add_test(core, test_ranking_by_hand);
    tcase_add_test(core, test_empty_test_set);
    tcase_add_test(core, test_movielens_small);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return run_suite(eval_suite());
}
