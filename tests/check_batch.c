/* check_batch.c - batch serving (recommend_batch.c): rec_top_n_many and
   rec_top_n_each equal rec_top_n for every user of ml-latest-small (ties
   and order included), on trained models and on models full of exact
   ties; rec_predict_many / rec_similar_movies_many equal their single
   calls; errors; OpenBLAS stays single-threaded under OpenMP. */
#include <cblas.h>
#include <check.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "test_util.h"

static rec_ratings *small;

static rec_ratings *ml_small(void)
{
    rec_error e = {0};
    if (!small)
        ck_assert_ok(rec_load_movielens(&small, repo_data("ml-latest-small"),
                                        &e), &e);
    return small;
}

static rec_model *train(int rank, int iters, int implicit)
{
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = rank;
    p.iterations = iters;
    p.implicit = implicit;
    rec_model *m = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_train_als(&m, ml_small(), &p, &e), &e);
    return m;
}

/* Every user's rec_top_n_many row equals rec_top_n, bit for bit. */
static void expect_batch_equals_single(const rec_model *m, size_t n)
{
    rec_error e = {0};
    size_t nu = rec_model_n_users(m), got_ids = 0;
    int32_t *ids = malloc(nu * sizeof *ids);
    rec_scored *many = malloc(nu * n * sizeof *many), *one = malloc(n * sizeof *one);
    size_t *n_many = malloc(nu * sizeof *n_many);
    ck_assert_ok(rec_model_user_ids(ids, nu, &got_ids, m, &e), &e);
    ck_assert_uint_eq(got_ids, nu);
    ck_assert_ok(rec_top_n_many(many, n, n_many, m, ids, nu, NULL, &e), &e);
    size_t differ = 0;
    for (size_t i = 0; i < nu; i++) {
        size_t got = 0;
        ck_assert_ok(rec_top_n(one, n, &got, m, ids[i], &e), &e);
        if (got != n_many[i] || memcmp(one, many + i * n, got * sizeof *one))
            differ++;
    }
    ck_assert_msg(differ == 0, "%zu of %zu users differ (n %zu)", differ, nu, n);
    free(ids);
    free(many);
    free(one);
    free(n_many);
}

START_TEST(top_n_many_equals_top_n_rank10)
{
    rec_model *m = train(10, 5, 0);
    expect_batch_equals_single(m, 10);
    expect_batch_equals_single(m, 100);
    rec_model_free(m);
}
END_TEST

START_TEST(top_n_many_equals_top_n_rank50_and_implicit)
{
    rec_model *m = train(50, 3, 0);
    expect_batch_equals_single(m, 10);
    rec_model_free(m);
    m = train(16, 3, 1);
    expect_batch_equals_single(m, 10);
    rec_model_free(m);
}
END_TEST

/* Coarse factors make many exact ties (and SGEMM equal to the kernel):
   the tie order (lower movie id first) must hold; one user with a NaN
   factor takes the exact fallback; n larger than the candidates. */
START_TEST(top_n_many_ties_nan_and_large_n)
{
    rec_model *m = train(8, 2, 0);
    size_t k = (size_t)m->rank;
    for (size_t j = 0; j < m->n_movies * k; j++)
        m->movie_factors[j] = roundf(m->movie_factors[j] * 2.0f) / 2.0f;
    for (size_t j = 0; j < m->n_movies; j++)
        m->movie_bias[j] = roundf(m->movie_bias[j] * 4.0f) / 4.0f;
    for (size_t u = 0; u < m->n_users * k; u++)
        m->user_factors[u] = roundf(m->user_factors[u] * 2.0f) / 2.0f;
    m->user_factors[3 * k] = NAN;
    expect_batch_equals_single(m, 10);
    expect_batch_equals_single(m, m->n_movies + 5);
    rec_model_free(m);
}
END_TEST

typedef struct each_state {
    const rec_model *m;
    size_t users, calls, differ;
    int stop_after;
} each_state;

static int on_block(void *ud, const int32_t *users, size_t nu,
                    const rec_scored *top, const size_t *n_out, size_t n)
{
    each_state *s = ud;
    rec_scored one[10];
    for (size_t i = 0; i < nu; i++) {
        size_t got = 0;
        rec_top_n(one, n, &got, s->m, users[i], NULL);
        if (got != n_out[i] || memcmp(one, top + i * n, got * sizeof *one))
            s->differ++;
        ck_assert_int_eq(users[i],
                         s->m->user_ids[(s->users + i) % s->m->n_users]);
    }
    /* The rule: no OpenBLAS threads on top of the OpenMP ones. */
    ck_assert_int_eq(openblas_get_num_threads(), 1);
    s->users += nu;
    s->calls++;
    return s->stop_after && (int)s->calls >= s->stop_after;
}

START_TEST(top_n_each_all_users_and_stop)
{
    rec_model *m = train(10, 3, 0);
    rec_error e = {0};
    each_state s = {.m = m};
    ck_assert_ok(rec_top_n_each(m, NULL, 0, 10, NULL, on_block, &s, &e), &e);
    ck_assert_uint_eq(s.users, m->n_users);
    ck_assert_uint_eq(s.differ, 0);
    /* Duplicate the users so that there are several blocks, then stop. */
    size_t nu = m->n_users * 20;
    int32_t *ids = malloc(nu * sizeof *ids);
    for (size_t i = 0; i < nu; i++)
        ids[i] = m->user_ids[i % m->n_users];
    each_state t = {.m = m, .stop_after = 1};
    ck_assert_int_eq(rec_top_n_each(m, ids, nu, 10, NULL, on_block, &t, &e),
                     REC_ECANCELED);
    ck_assert_uint_eq(t.calls, 1);
    ck_assert_ptr_nonnull(strstr(e.msg, "stopped"));
    free(ids);
    rec_model_free(m);
}
END_TEST

START_TEST(batch_errors)
{
    rec_model *m = train(4, 1, 0);
    rec_error e = {0};
    rec_scored out[20];
    size_t n_out[2];
    int32_t ids[2] = {1, 999999};
    ck_assert_int_eq(rec_top_n_many(out, 10, n_out, m, ids, 2, NULL, &e),
                     REC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "999999"));
    ck_assert_ptr_nonnull(strstr(e.msg, "entry 1"));
    ck_assert_int_eq(rec_top_n_many(out, 10, n_out, m, NULL, 2, NULL, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_top_n_each(m, NULL, 0, 10, NULL, NULL, NULL, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_top_n_many(out, 10, n_out, m, ids, 0, NULL, &e),
                     REC_OK);
    int32_t movies[2] = {1, -5};
    ck_assert_int_eq(rec_similar_movies_many(out, 10, n_out, m, movies, 2,
                                             NULL, &e), REC_ENOTFOUND);
    ck_assert_int_eq(rec_predict_many(NULL, m, ids, movies, 2, &e),
                     REC_EINVAL);
    rec_model_free(m);
}
END_TEST

START_TEST(predict_and_similar_many_equal_single)
{
    rec_model *m = train(10, 3, 0);
    rec_error e = {0};
    size_t n = 5000;
    int32_t *u = malloc(n * sizeof *u), *mv = malloc(n * sizeof *mv);
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) { /* some unknown ids too */
        u[i] = i % 97 == 0 ? -3 : m->user_ids[(i * 7) % m->n_users];
        mv[i] = i % 89 == 0 ? 99999999 : m->movie_ids[(i * 13) % m->n_movies];
    }
    ck_assert_ok(rec_predict_many(p, m, u, mv, n, &e), &e);
    for (size_t i = 0; i < n; i++) {
        float one;
        rec_predict(&one, m, u[i], mv[i], NULL);
        ck_assert_msg(memcmp(&one, &p[i], sizeof one) == 0, "pair %zu", i);
    }
    size_t nm = 300;
    rec_scored *many = malloc(nm * 10 * sizeof *many), one[10];
    size_t *n_many = malloc(nm * sizeof *n_many), got;
    ck_assert_ok(rec_similar_movies_many(many, 10, n_many, m, m->movie_ids,
                                         nm, NULL, &e), &e);
    for (size_t i = 0; i < nm; i++) {
        ck_assert_ok(rec_similar_movies(one, 10, &got, m, m->movie_ids[i], &e),
                     &e);
        ck_assert_uint_eq(got, n_many[i]);
        ck_assert(memcmp(one, many + i * 10, got * sizeof *one) == 0);
    }
    free(u);
    free(mv);
    free(p);
    free(many);
    free(n_many);
    rec_model_free(m);
}
END_TEST

/* The BLAS rule under OpenMP: even when the application asked OpenBLAS
   for 2 threads, a batch run with 2 OpenMP threads calls SGEMM with one
   OpenBLAS thread (checked inside the run by on_block above, and after). */
START_TEST(blas_threads_do_not_multiply)
{
    rec_model *m = train(32, 2, 0);
    omp_set_num_threads(2);
    openblas_set_num_threads(2); /* what an application might have set */
    expect_batch_equals_single(m, 10);
    ck_assert_int_eq(openblas_get_num_threads(), 1);
    rec_model_free(m);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("batch");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, top_n_many_equals_top_n_rank10);
    tcase_add_test(t, top_n_many_equals_top_n_rank50_and_implicit);
    tcase_add_test(t, top_n_many_ties_nan_and_large_n);
    tcase_add_test(t, top_n_each_all_users_and_stop);
    tcase_add_test(t, batch_errors);
    tcase_add_test(t, predict_and_similar_many_equal_single);
    tcase_add_test(t, blas_threads_do_not_multiply);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    int rc = run_suite(suite());
    rec_ratings_free(small);
    return rc;
}
