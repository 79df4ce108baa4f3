/* check_recommend.c - serving on hand-made models whose scores are known:
   predict (clamping, fallbacks), top-N (order, ties, exclusion, n larger
   than the candidates), fold-in, rec_add_user, similar movies. */
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "als_fixture.h"

/* Users 5 and 7, movies 1..6. User 5 = (1, 0) with bias 0.25 and rated
   movie 3; user 7 = (3, 0). Scores of user 5 (mean 3):
   m1 3.75, m2 4.25, m3 4.25 (rated), m4 2.25, m5 6.25, m6 4.25. */
static rec_model *scored_model(void)
{
    static const int32_t uids[] = {5, 7}, mids[] = {1, 2, 3, 4, 5, 6};
    rec_model *m = fx_model(uids, 2, mids, 6);
    m->user_factors[0] = 1.0f;
    m->user_bias[0] = 0.25f;
    m->user_factors[2] = 3.0f;
    fx_movie(m, 0, 0.5f, 0.0f, 0.0f);
    fx_movie(m, 1, 1.0f, 0.0f, 0.0f);
    fx_movie(m, 2, 1.0f, 0.0f, 0.0f);
    fx_movie(m, 3, -1.0f, 0.0f, 0.0f);
    fx_movie(m, 4, 3.0f, 0.0f, 0.0f);
    fx_movie(m, 5, 0.0f, 0.0f, 1.0f);
    free(m->rated_items);
    free(m->rated_vals);
    m->rated_items = malloc(sizeof(int32_t));
    m->rated_vals = malloc(sizeof(float));
    m->rated_items[0] = 2; /* dense index of movie 3 */
    m->rated_vals[0] = 4.0f;
    m->rated_off[0] = 0;
    m->rated_off[1] = 1;
    m->rated_off[2] = 1;
    /* training counts and means, for the cold-start ranking */
    static const uint32_t count[6] = {1, 1, 1, 30, 1, 1};
    static const float mean[6] = {4.5f, 3.0f, 3.0f, 4.5f, 1.0f, 2.0f};
    for (size_t j = 0; j < 6; j++) {
        m->movie_count[j] = count[j];
        m->movie_mean[j] = mean[j];
    }
    fx_ready(m);
    return m;
}

static void expect_ids(const rec_scored *got, size_t n_got,
                       const int32_t *want, size_t n_want)
{
    ck_assert_uint_eq(n_got, n_want);
    for (size_t i = 0; i < n_want; i++)
        ck_assert_msg(got[i].movie_id == want[i], "rank %zu: movie %d, want %d",
                      i, got[i].movie_id, want[i]);
}

START_TEST(test_predict)
{
    rec_model *m = scored_model();
    float p;
    rec_error e;
    ck_assert_ok(rec_predict(&p, m, 5, 4, &e), &e);
    ck_assert_float_eq_tol(p, 2.25f, 1e-6f);
    ck_assert_ok(rec_predict(&p, m, 5, 5, &e), &e);
    ck_assert_float_eq(p, 5.0f); /* 6.25 clamped */
    ck_assert_ok(rec_predict(&p, m, 7, 4, &e), &e);
    ck_assert_float_eq(p, 0.5f); /* 0 clamped */
    ck_assert_ok(rec_predict(&p, m, 99, 6, &e), &e);
    ck_assert_float_eq_tol(p, 4.0f, 1e-6f); /* mean + movie bias */
    ck_assert_ok(rec_predict(&p, m, 5, 77, &e), &e);
    ck_assert_float_eq_tol(p, 3.25f, 1e-6f); /* mean + user bias */
    ck_assert_ok(rec_predict(&p, m, 99, 77, &e), &e);
    ck_assert_float_eq_tol(p, 3.0f, 1e-6f);
    rec_model_free(m);
}
END_TEST

START_TEST(test_top_n_order_ties_exclusion)
{
    rec_model *m = scored_model();
    rec_scored out[10];
    size_t n = 99;
    rec_error e;
    ck_assert_ok(rec_top_n(out, 3, &n, m, 5, &e), &e);
    const int32_t want3[] = {5, 2, 6}; /* 6.25, then the 4.25 tie by id */
    expect_ids(out, n, want3, 3);
    ck_assert_float_eq_tol(out[0].score, 6.25f, 1e-6f); /* unclamped */
    ck_assert_float_eq_tol(out[1].score, 4.25f, 1e-6f);
    /* n beyond the candidates: all 5 unrated movies, best first */
    ck_assert_ok(rec_top_n(out, 10, &n, m, 5, &e), &e);
    const int32_t want_all[] = {5, 2, 6, 1, 4};
    expect_ids(out, n, want_all, 5);
    for (size_t i = 1; i < n; i++)
        ck_assert(out[i].score <= out[i - 1].score);
    /* n == 0 */
    ck_assert_ok(rec_top_n(NULL, 0, &n, m, 5, &e), &e);
    ck_assert_uint_eq(n, 0);
    /* user 7 rated nothing (cold start): all six movies by Bayesian
       average, (10 * mean + sum) / (10 + count), never by factors or id */
    ck_assert_ok(rec_top_n(out, 10, &n, m, 7, &e), &e);
    const int32_t want7[] = {4, 1, 2, 3, 6, 5};
    expect_ids(out, n, want7, 6);
    /* the mean of all 35 ratings is 148.5 / 35 */
    float mu = 148.5f / 35.0f;
    ck_assert_float_eq_tol(out[0].score, (10 * mu + 30 * 4.5f) / 40, 1e-5f);
    ck_assert_float_eq_tol(out[1].score, (10 * mu + 4.5f) / 11, 1e-5f);
    /* and its shown rating is the model's prediction for it */
    float p;
    ck_assert_ok(rec_predict(&p, m, 7, 4, &e), &e);
    ck_assert_float_eq(out[0].rating, p);
    rec_model_free(m);
}
END_TEST

START_TEST(test_rank_exclude)
{
    rec_model *m = scored_model();
    float x[2] = {1.0f, 0.0f};
    const int32_t exclude[] = {0, 4, 5}; /* movies 1, 5, 6 */
    rec_scored out[6];
    size_t n;
    rec_user_view v = {.x = x, .rated = exclude, .n_rated = 3};
    rec_candidates cand;
    ck_assert_ok(rec__candidates_init(&cand, m, NULL, NULL), (rec_error *)NULL);
    ck_assert_ok(rec__rank(out, 6, &n, m, &v, &cand, NULL), (rec_error *)NULL);
    const int32_t want[] = {2, 3, 4};
    expect_ids(out, n, want, 3);
    ck_assert_int_eq(rec__rank(out, 6, NULL, m, &v, &cand, NULL), REC_EINVAL);
    rec_model_free(m);
}
END_TEST

START_TEST(test_top_n_concurrent)
{
    rec_ratings *r = fx_ratings(40, 50, 0.4);
    rec_model *m = fx_train(r, 6, 0);
    rec_scored want[40][5];
    size_t nw[40];
    for (size_t u = 0; u < 40; u++)
        ck_assert_ok(rec_top_n(want[u], 5, &nw[u], m, r->user_ids[u], NULL),
                     (rec_error *)NULL);
    int bad = 0;
#pragma omp parallel for num_threads(4) reduction(+ : bad)
    for (int i = 0; i < 400; i++) {
        size_t u = (size_t)i % 40, n;
        rec_scored got[5];
        if (rec_top_n(got, 5, &n, m, r->user_ids[u], NULL) != REC_OK ||
            n != nw[u] || memcmp(got, want[u], n * sizeof *got) != 0)
            bad++;
    }
    ck_assert_int_eq(bad, 0);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_scores_match_predict)
{
    /* rank 13: the vector kernels' tail is exercised too */
    rec_ratings *r = fx_ratings(30, 70, 0.3);
    rec_model *m = fx_train(r, 13, 0);
    for (size_t u = 0; u < 30; u++) {
        rec_scored out[70];
        size_t n;
        ck_assert_ok(rec_top_n(out, 70, &n, m, r->user_ids[u], NULL),
                     (rec_error *)NULL);
        ck_assert_uint_eq(n, 70 - (r->user_off[u + 1] - r->user_off[u]));
        for (size_t i = 0; i < n; i++) {
            float p;
            ck_assert_ok(rec_predict(&p, m, r->user_ids[u], out[i].movie_id,
                                     NULL),
                         (rec_error *)NULL);
            ck_assert_float_eq(p, out[i].rating); /* the shown rating */
        }
    }
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_recommend_for_ratings)
{
    rec_model *m = scored_model();
    rec_scored out[10], ref[10];
    size_t n, nref;
    rec_error e;
    /* no ratings: the cold-start ranking, as for user 7 */
    ck_assert_ok(rec_recommend_for_ratings(out, 10, &n, m, NULL, 0, &e), &e);
    const int32_t cold[] = {4, 1, 2, 3, 6, 5};
    expect_ids(out, n, cold, 6);

    const rec_movie_rating clean[] = {{2, 5.0f}, {4, 1.0f}};
    ck_assert_ok(rec_recommend_for_ratings(ref, 10, &nref, m, clean, 2, &e),
                 &e);
    ck_assert_uint_eq(nref, 4); /* rated movies 2 and 4 are left out */
    for (size_t i = 0; i < nref; i++)
        ck_assert(ref[i].movie_id != 2 && ref[i].movie_id != 4);
    ck_assert_int_eq(ref[0].movie_id, 5); /* likes the (1,0) direction */
    /* unknown movies are ignored; a duplicate: the last one wins */
    const rec_movie_rating noisy[] = {
        {4, 3.0f}, {999, 5.0f}, {2, 5.0f}, {-4, 1.0f}, {4, 1.0f}};
    ck_assert_ok(rec_recommend_for_ratings(out, 10, &n, m, noisy, 5, &e), &e);
    ck_assert_uint_eq(n, nref);
    ck_assert_mem_eq(out, ref, n * sizeof *out);
    /* the model is untouched */
    ck_assert_uint_eq(rec_model_n_users(m), 2);
    rec_model_free(m);
}
END_TEST

START_TEST(test_add_user_ids)
{
    rec_model *m = scored_model();
    const rec_movie_rating r[] = {{1, 4.0f}, {5, 2.0f}};
    int32_t id = 0;
    rec_error e;
    ck_assert_ok(rec_add_user(&id, m, REC_NEW_USER, r, 2, &e), &e);
    ck_assert_int_eq(id, 8); /* largest known id (7) + 1 */
    ck_assert_ok(rec_add_user(&id, m, REC_NEW_USER, r, 2, &e), &e);
    ck_assert_int_eq(id, 9);
    ck_assert_ok(rec_add_user(&id, m, 100, r, 2, &e), &e);
    ck_assert_int_eq(id, 100);
    ck_assert_ok(rec_add_user(&id, m, 50, r, 2, &e), &e);
    ck_assert_int_eq(id, 50);
    ck_assert_ok(rec_add_user(&id, m, REC_NEW_USER, r, 2, &e), &e);
    ck_assert_int_eq(id, 101);
    ck_assert_uint_eq(rec_model_n_users(m), 7);
    ck_assert(rec_model_has_user(m, 100) && rec_model_has_user(m, 50));
    /* a new user is served at once, without the movies they rated */
    rec_scored out[10];
    size_t n;
    ck_assert_ok(rec_top_n(out, 10, &n, m, 100, &e), &e);
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++)
        ck_assert(out[i].movie_id != 1 && out[i].movie_id != 5);
    /* many users: capacity grows, everyone stays reachable */
    for (int i = 0; i < 200; i++)
        ck_assert_ok(rec_add_user(&id, m, REC_NEW_USER, r, 2, &e), &e);
    ck_assert_int_eq(id, 301);
    ck_assert_uint_eq(rec_model_n_users(m), 207);
    float p;
    ck_assert_ok(rec_predict(&p, m, 8, 2, &e), &e);
    ck_assert(isfinite(p));
    /* no id left after INT32_MAX */
    ck_assert_ok(rec_add_user(&id, m, INT32_MAX, r, 2, &e), &e);
    ck_assert_int_eq(rec_add_user(&id, m, REC_NEW_USER, r, 2, &e),
                     REC_EINVAL);
    rec_model_free(m);
}
END_TEST

START_TEST(test_add_user_rerating)
{
    rec_model *m = scored_model();
    /* user 5 rated movie 3 (4.0); re-rate it and add movie 4 */
    const rec_movie_rating more[] = {{3, 1.0f}, {4, 5.0f}, {12345, 2.0f}};
    int32_t id = 0;
    rec_error e;
    ck_assert_ok(rec_add_user(&id, m, 5, more, 3, &e), &e);
    ck_assert_int_eq(id, 5);
    ck_assert_uint_eq(rec_model_n_users(m), 2);
    const int32_t *items;
    const float *vals;
    size_t n;
    rec__model_user_rated(m, 0, &items, &vals, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(items[0], 2);
    ck_assert_float_eq(vals[0], 1.0f); /* replaced */
    ck_assert_int_eq(items[1], 3);
    ck_assert_float_eq(vals[1], 5.0f);
    /* the factors are those of the merged ratings */
    const rec_movie_rating merged[] = {{3, 1.0f}, {4, 5.0f}};
    int32_t other;
    ck_assert_ok(rec_add_user(&other, m, REC_NEW_USER, merged, 2, &e), &e);
    float a[2], b[2], ba, bb;
    ck_assert_ok(rec_model_user_factors(a, 2, &ba, m, 5, &e), &e);
    ck_assert_ok(rec_model_user_factors(b, 2, &bb, m, other, &e), &e);
    ck_assert_float_eq(a[0], b[0]);
    ck_assert_float_eq(a[1], b[1]);
    ck_assert_float_eq(ba, bb);
    ck_assert(a[0] < 0.0f); /* likes movie 4, dislikes 3: the -x side */
    /* rated movies 3 and 4 are left out of the top-n */
    rec_scored out[10];
    ck_assert_ok(rec_top_n(out, 10, &n, m, 5, &e), &e);
    ck_assert_uint_eq(n, 4);
    for (size_t i = 0; i < n; i++)
        ck_assert(out[i].movie_id != 3 && out[i].movie_id != 4);
    /* again on an added user: merging works on overrides too */
    const rec_movie_rating again[] = {{4, 2.0f}};
    ck_assert_ok(rec_add_user(&id, m, other, again, 1, &e), &e);
    rec__model_user_rated(m, 2, &items, &vals, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_float_eq(vals[1], 2.0f);
    rec_model_free(m);
}
END_TEST

START_TEST(test_add_user_without_ratings)
{
    rec_model *m = scored_model();
    rec_error e;
    int32_t id;
    /* a new user with nothing known: zero factors, ranked by movie bias */
    const rec_movie_rating unknown[] = {{424242, 5.0f}};
    ck_assert_ok(rec_add_user(&id, m, REC_NEW_USER, unknown, 1, &e), &e);
    float f[2] = {1.0f, 1.0f}, b = 1.0f;
    ck_assert_ok(rec_model_user_factors(f, 2, &b, m, id, &e), &e);
    ck_assert_float_eq(f[0], 0.0f);
    ck_assert_float_eq(f[1], 0.0f);
    ck_assert_float_eq(b, 0.0f);
    rec_scored out[10];
    size_t n;
    ck_assert_ok(rec_top_n(out, 10, &n, m, id, &e), &e);
    const int32_t cold[] = {4, 1, 2, 3, 6, 5}; /* cold start */
    expect_ids(out, n, cold, 6);
    ck_assert_ok(rec_add_user(&id, m, 77, NULL, 0, &e), &e);
    ck_assert_int_eq(id, 77);
    ck_assert(rec_model_has_user(m, 77));
    rec_model_free(m);
}
END_TEST

START_TEST(test_add_known_user_nothing_new)
{
    /* folding a trained user in again with no new ratings re-solves the
       same system: the trained factors come back */
    rec_ratings *r = fx_ratings(30, 20, 0.5);
    rec_model *m = fx_train(r, 4, 0);
    float before[4], after[4], b0, b1;
    int32_t id;
    ck_assert_ok(rec_model_user_factors(before, 4, &b0, m, 30, NULL),
                 (rec_error *)NULL);
    ck_assert_ok(rec_add_user(&id, m, 30, NULL, 0, NULL), (rec_error *)NULL);
    ck_assert_int_eq(id, 30);
    ck_assert_ok(rec_model_user_factors(after, 4, &b1, m, 30, NULL),
                 (rec_error *)NULL);
    for (int i = 0; i < 4; i++)
        ck_assert_float_eq_tol(before[i], after[i], 1e-4f);
    ck_assert_float_eq_tol(b0, b1, 1e-4f);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_similar)
{
    static const int32_t uids[] = {1}, mids[] = {1, 2, 3, 4, 5, 6};
    rec_model *m = fx_model(uids, 1, mids, 6);
    fx_movie(m, 0, 1.0f, 0.0f, 0.0f);
    fx_movie(m, 1, 2.0f, 0.0f, 3.0f); /* cos 1: biases play no part */
    fx_movie(m, 2, 0.0f, 1.0f, 0.0f); /* cos 0 */
    fx_movie(m, 3, -1.0f, 0.0f, 0.0f); /* cos -1 */
    fx_movie(m, 4, 1.0f, 1.0f, 0.0f); /* cos 0.707 */
    fx_movie(m, 5, 0.0f, 0.0f, 0.0f); /* zero vector: 0 */
    fx_ready(m);
    rec_scored out[10];
    size_t n;
    rec_error e;
    ck_assert_ok(rec_similar_movies(out, 10, &n, m, 1, &e), &e);
    const int32_t want[] = {2, 5, 3, 6, 4};
    expect_ids(out, n, want, 5);
    ck_assert_float_eq_tol(out[0].score, 1.0f, 1e-6f);
    ck_assert_float_eq_tol(out[1].score, 0.70710678f, 1e-6f);
    ck_assert_float_eq(out[3].score, 0.0f);
    ck_assert_float_eq_tol(out[4].score, -1.0f, 1e-6f);
    ck_assert_ok(rec_similar_movies(out, 2, &n, m, 1, &e), &e);
    expect_ids(out, n, want, 2);
    /* the zero vector is similar to nothing, and no NaN */
    ck_assert_ok(rec_similar_movies(out, 10, &n, m, 6, &e), &e);
    ck_assert_uint_eq(n, 5);
    for (size_t i = 0; i < n; i++)
        ck_assert_float_eq(out[i].score, 0.0f);
    rec_model_free(m);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_errors)
{
    rec_model *m = scored_model();
    rec_scored out[4];
    size_t n;
    float p;
    int32_t id;
    rec_error e = {0};
    const rec_movie_rating bad[] = {{1, 4.0f}, {2, NAN}};
    ck_assert_int_eq(rec_predict(NULL, m, 5, 1, &e), REC_EINVAL);
    ck_assert_int_eq(rec_predict(&p, NULL, 5, 1, &e), REC_EINVAL);
    ck_assert_int_eq(rec_top_n(out, 4, &n, m, 6, &e), REC_ENOTFOUND);
    ck_assert_int_eq(e.code, REC_ENOTFOUND);
    ck_assert(strlen(e.msg) > 0);
    ck_assert_int_eq(rec_top_n(NULL, 4, &n, m, 5, &e), REC_EINVAL);
    ck_assert_int_eq(rec_top_n(out, 4, NULL, m, 5, &e), REC_EINVAL);
    ck_assert_int_eq(rec_top_n(out, 4, &n, NULL, 5, &e), REC_EINVAL);
    ck_assert_int_eq(rec_recommend_for_ratings(out, 4, &n, m, bad, 2, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_recommend_for_ratings(out, 4, &n, m, NULL, 2, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_recommend_for_ratings(out, 4, &n, NULL, bad, 1, &e),
                     REC_EINVAL);
    /* rec_add_user: errors leave the model as it was */
    ck_assert_int_eq(rec_add_user(&id, m, REC_NEW_USER, bad, 2, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_add_user(&id, m, 5, bad, 2, &e), REC_EINVAL);
    ck_assert_int_eq(rec_add_user(&id, m, -2, bad, 1, &e), REC_EINVAL);
    ck_assert_int_eq(rec_add_user(&id, m, 9, NULL, 3, &e), REC_EINVAL);
    ck_assert_int_eq(rec_add_user(&id, NULL, 9, bad, 1, &e), REC_EINVAL);
    ck_assert_uint_eq(rec_model_n_users(m), 2);
    ck_assert(!rec_model_has_user(m, 9));
    const int32_t *items;
    const float *vals;
    rec__model_user_rated(m, 0, &items, &vals, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_float_eq(vals[0], 4.0f);
    ck_assert_int_eq(rec_similar_movies(out, 4, &n, m, 42, &e),
                     REC_ENOTFOUND);
    ck_assert_int_eq(rec_similar_movies(NULL, 4, &n, m, 1, &e), REC_EINVAL);
    ck_assert_int_eq(rec_similar_movies(out, 4, &n, NULL, 1, &e), REC_EINVAL);
    rec_model_free(m);
}
END_TEST

static Suite *recommend_suite(void)
{
    Suite *s = suite_create("recommend");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_predict);
    tcase_add_test(core, test_top_n_order_ties_exclusion);
    tcase_add_test(core, test_rank_exclude);
    tcase_add_test(core, test_top_n_concurrent);
    tcase_add_test(core, test_scores_match_predict);
    tcase_add_test(core, test_recommend_for_ratings);
    tcase_add_test(core, test_add_user_ids);
    tcase_add_test(core, test_add_user_rerating);
    tcase_add_test(core, test_add_user_without_ratings);
    tcase_add_test(core, test_add_known_user_nothing_new);
    tcase_add_test(core, test_similar);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return run_suite(recommend_suite());
}
