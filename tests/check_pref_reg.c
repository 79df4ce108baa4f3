/* check_pref_reg.c - the automatic lambda of the preference model
   (REC_PREFERENCE_REG_AUTO, the default; src/pref_reg.c): the value from
   known data counts, how it grows with the data, that a given value wins,
   that the model and its file keep the value used, and that fold-in uses
   it. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "als_fixture.h"

/* A small hybrid: unweighted interactions (w = the rating), so the rule
   can be checked by hand. */
static void small_params(rec_als_params *p)
{
    rec_als_params_init(p);
    p->rank = 4;
    p->iterations = 3;
    p->n_threads = 1;
    p->preference_weighting = REC_WEIGHT_NONE;
    p->preference_alpha = 0.5;
}

static rec_model *train(const rec_ratings *r, const rec_als_params *p)
{
    rec_model *m = NULL;
    rec_error e;
    ck_assert_ok(rec_train_als(&m, r, p, &e), &e);
    return m;
}

/* The rule by hand: 0.15 alpha (sum of ratings) / sqrt(users * movies). */
static double by_hand(const rec_ratings *r, double alpha)
{
    double sum = 0.0;
    for (uint64_t t = 0; t < r->nnz; t++)
        sum += r->user_vals[t];
    size_t movies = 0;
    for (size_t j = 0; j < r->n_movies; j++)
        movies += r->movie_off[j + 1] > r->movie_off[j];
    return 0.15 * alpha * sum / sqrt((double)r->n_users * (double)movies);
}

START_TEST(test_default_is_auto)
{
    rec_als_params p;
    rec_als_params_init(&p);
    ck_assert(p.preference_reg == REC_PREFERENCE_REG_AUTO);
    ck_assert(REC_PREFERENCE_REG_AUTO < 0.0);
}
END_TEST

START_TEST(test_auto_from_counts)
{
    rec_ratings *r = fx_ratings(30, 20, 0.4);
    rec_als_params p;
    small_params(&p);
    rec_model *m = train(r, &p);
    double want = by_hand(r, p.preference_alpha);
    ck_assert_msg(want > 0.1, "lambda by hand %g", want);
    ck_assert_double_eq_tol(rec_model_preference_reg(m), want, 1e-9 * want);
    ck_assert(m->pref_reg == rec_model_preference_reg(m));
    /* alpha enters linearly */
    p.preference_alpha = 1.5;
    rec_model *m3 = train(r, &p);
    ck_assert_double_eq_tol(rec_model_preference_reg(m3), 3.0 * want,
                            1e-9 * want);
    /* BM25 weights change the sum, and so the value */
    small_params(&p);
    p.preference_weighting = REC_WEIGHT_BM25;
    rec_model *mb = train(r, &p);
    double b = rec_model_preference_reg(mb);
    ck_assert_msg(b > 0.0 && fabs(b - want) > 1e-3 * want, "bm25 %g", b);
    rec_model_free(m);
    rec_model_free(m3);
    rec_model_free(mb);
    rec_ratings_free(r);
}
END_TEST

/* The same users twice (new ids): twice the interactions over twice the
   users, so lambda grows by 2 / sqrt(2). */
START_TEST(test_auto_grows_with_data)
{
    rec_ratings *r = fx_ratings(30, 20, 0.4), *r2 = NULL;
    rec_error e;
    ck_assert_ok(rec_ratings_new(&r2, &e), &e);
    for (int copy = 0; copy < 2; copy++)
        for (size_t u = 0; u < r->n_users; u++)
            for (uint64_t t = r->user_off[u]; t < r->user_off[u + 1]; t++) {
                rec_rating row = {
                    .user_id = r->user_ids[u] + copy * 100000,
                    .movie_id = r->movie_ids[r->user_items[t]],
                    .rating = r->user_vals[t]};
                ck_assert_ok(rec_ratings_add(r2, &row, 1, &e), &e);
            }
    rec_als_params p;
    small_params(&p);
    rec_model *m = train(r, &p), *m2 = train(r2, &p);
    double a = rec_model_preference_reg(m), b = rec_model_preference_reg(m2);
    ck_assert_double_eq_tol(b / a, sqrt(2.0), 1e-9);
    rec_model_free(m);
    rec_model_free(m2);
    rec_ratings_free(r);
    rec_ratings_free(r2);
}
END_TEST

START_TEST(test_given_value_wins)
{
    rec_ratings *r = fx_ratings(30, 20, 0.4);
    rec_als_params p;
    small_params(&p);
    p.preference_reg = 3.25;
    rec_model *m = train(r, &p);
    ck_assert(rec_model_preference_reg(m) == 3.25);
    p.preference_reg = 0.0;
    rec_model *z = train(r, &p);
    ck_assert(rec_model_preference_reg(z) == 0.0);
    /* the automatic value trains the same model as that value given */
    small_params(&p);
    rec_model *a = train(r, &p);
    p.preference_reg = rec_model_preference_reg(a);
    rec_model *g = train(r, &p);
    ck_assert_mem_eq(a->pref_user, g->pref_user,
                     a->n_users * (size_t)a->pref_rank * sizeof(float));
    ck_assert_mem_eq(a->pref_movie, g->pref_movie,
                     a->n_movies * (size_t)a->pref_rank * sizeof(float));
    /* and another value another one */
    p.preference_reg *= 4.0;
    rec_model *o = train(r, &p);
    ck_assert(memcmp(a->pref_movie, o->pref_movie,
                     a->n_movies * (size_t)a->pref_rank * sizeof(float)));
    rec_model_free(m);
    rec_model_free(z);
    rec_model_free(a);
    rec_model_free(g);
    rec_model_free(o);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_not_hybrid)
{
    rec_ratings *r = fx_ratings(30, 20, 0.4);
    rec_als_params p;
    small_params(&p);
    p.preference = 0;
    rec_model *x = train(r, &p);
    ck_assert(rec_model_preference_reg(x) == 0.0);
    small_params(&p);
    p.implicit = 1;
    rec_model *i = train(r, &p);
    ck_assert(rec_model_preference_reg(i) == 0.0);
    ck_assert(rec_model_preference_reg(NULL) == 0.0);
    rec_model_free(x);
    rec_model_free(i);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_saved_and_folded_in)
{
    rec_ratings *r = fx_ratings(30, 20, 0.4);
    rec_als_params p;
    small_params(&p);
    rec_model *m = train(r, &p), *back = NULL;
    rec_error e;
    const char *path = tmp_path("auto_reg.model");
    ck_assert_ok(rec_model_save(m, path, &e), &e);
    ck_assert_ok(rec_model_load(&back, path, &e), &e);
    ck_assert(rec_model_preference_reg(back) == rec_model_preference_reg(m));
    /* fold-in solves with the trained value: a model whose lambda is
       changed after training folds the same ratings in differently */
    rec_movie_rating mine[] = {{1, 5.0f}, {3, 4.0f}, {9, 1.0f}, {15, 4.5f}};
    rec_scored a[5], b[5];
    size_t na, nb;
    ck_assert_ok(rec_recommend_for_ratings(a, 5, &na, m, mine, 4, &e), &e);
    ck_assert_ok(rec_recommend_for_ratings(b, 5, &nb, back, mine, 4, &e), &e);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(a, b, na * sizeof *a);
    back->pref_reg *= 50.0;
    ck_assert_ok(rec_recommend_for_ratings(b, 5, &nb, back, mine, 4, &e), &e);
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(a, b, na * sizeof *a) != 0);
    rec_model_free(m);
    rec_model_free(back);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_bad_values)
{
    rec_ratings *r = fx_ratings(20, 15, 0.4);
    rec_als_params p;
    double bad[] = {-0.5, -2.0, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        small_params(&p);
        p.preference_reg = bad[i];
        rec_model *m = NULL;
        rec_error e = {0};
        ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(e.msg, "preference_reg") != NULL, "%s", e.msg);
    }
    rec_ratings_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pref_reg");
    TCase *c = tcase_create("core");
    tcase_set_timeout(c, 120);
    tcase_add_test(c, test_default_is_auto);
    tcase_add_test(c, test_auto_from_counts);
    tcase_add_test(c, test_auto_grows_with_data);
    tcase_add_test(c, test_given_value_wins);
    tcase_add_test(c, test_not_hybrid);
    tcase_add_test(c, test_saved_and_folded_in);
    tcase_add_test(c, test_bad_values);
    suite_add_tcase(s, c);
    return run_suite(s);
}
