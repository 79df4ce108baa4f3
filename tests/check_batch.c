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

/* Scores in a few tiers (no factors, biases on a grid): ties at the top
   of every row. 3 tiers: thousands tie with the n-th, more than a row's
   candidate list holds (the row is ranked exactly); 40 tiers: a few
   hundred, kept after the list drops the lower tiers. */
START_TEST(top_n_many_tiers_of_ties)
{
    static const int tiers[] = {3, 40};
    for (int t = 0; t < 2; t++) {
        rec_als_params p;
        rec_als_params_init(&p);
        p.rank = 8;
        p.iterations = 2;
        p.preference = 0; /* explicit: score = x.y + biases */
        rec_model *m = NULL;
        rec_error e = {0};
        ck_assert_ok(rec_train_als(&m, ml_small(), &p, &e), &e);
        memset(m->movie_factors, 0,
               m->n_movies * (size_t)m->rank * sizeof *m->movie_factors);
        for (size_t j = 0; j < m->n_movies; j++)
            m->movie_bias[j] = 0.5f * (float)(j * 7919 % (size_t)tiers[t]);
        ck_assert_ok(rec__model_finish(m, &e), &e);
        expect_batch_equals_single(m, 10);
        expect_batch_equals_single(m, 600);
        rec_model_free(m);
    }
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
    omp_set_num_threads(2);
    expect_batch_equals_single(m, 10);
    ck_assert_int_eq(openblas_get_num_threads(), 1);
    /* the application's own OpenMP setting is left alone */
    ck_assert_int_eq(omp_get_max_threads(), 2);
    rec_model_free(m);
}
END_TEST

/* ---- evaluation on the batch path equals the user-at-a-time reference ---- */

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int cmp_id(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* rec_evaluate's ranking metrics as computed before the batch path:
   rec_top_n per user, every (relevant, other) pair of the AUC scored
   exactly by the user's ranking vector, "other" the movies with a
   training rating the user did not rate and that are not relevant. */
static void ref_evaluate(rec_eval_result *r, const rec_model *m,
                         const rec_ratings *test, int k, float rel_min)
{
    memset(r, 0, sizeof *r);
    rec_scored *top = malloc((size_t)k * sizeof *top);
    int32_t *rel = malloc(test->nnz * sizeof *rel);
    float *pos = malloc(test->nnz * sizeof *pos);
    float *v = malloc((size_t)m->rank_dim * sizeof *v);
    for (size_t tu = 0; tu < test->n_users; tu++) {
        int32_t u = rec__idmap_get(&m->user_map, test->user_ids[tu]);
        if (u < 0)
            continue;
        size_t nr = 0, got = 0;
        for (uint64_t t = test->user_off[tu]; t < test->user_off[tu + 1]; t++)
            if (test->user_vals[t] >= rel_min &&
                rec__idmap_get(&m->movie_map,
                               test->movie_ids[test->user_items[t]]) >= 0)
                rel[nr++] = test->movie_ids[test->user_items[t]];
        if (!nr)
            continue;
        qsort(rel, nr, sizeof *rel, cmp_id);
        ck_assert_int_eq(rec_top_n(top, (size_t)k, &got, m,
                                   test->user_ids[tu], NULL), REC_OK);
        double hits = 0, dcg = 0, idcg = 0, ap = 0;
        for (size_t i = 0; i < got; i++)
            if (bsearch(&top[i].movie_id, rel, nr, sizeof *rel, cmp_id)) {
                hits += 1;
                dcg += 1.0 / log2((double)i + 2.0);
                ap += hits / (double)(i + 1);
            }
        size_t ideal = nr < (size_t)k ? nr : (size_t)k;
        for (size_t i = 0; i < ideal; i++)
            idcg += 1.0 / log2((double)i + 2.0);
        r->precision_at_k += hits / k;
        r->recall_at_k += hits / (double)nr;
        r->ndcg_at_k += dcg / idcg;
        r->map_at_k += ap / (double)ideal;
        rec_user_view view;
        rec__user_view(&view, m, (size_t)u);
        float c;
        rec__user_rank_vec(v, &c, m, view.x, view.bias, view.p);
        for (size_t i = 0; i < nr; i++) {
            float s = rec__score_one(
                m, v, c, (size_t)rec__idmap_get(&m->movie_map, rel[i]));
            pos[i] = s == s ? s : -INFINITY;
        }
        qsort(pos, nr, sizeof *pos, cmp_f);
        double right = 0;
        size_t nneg = 0, e = 0, q = 0;
        for (size_t j = 0; j < m->n_movies; j++) {
            while (e < view.n_rated && (size_t)view.rated[e] < j)
                e++;
            if (e < view.n_rated && (size_t)view.rated[e] == j)
                continue;
            while (q < nr && rel[q] < m->movie_ids[j])
                q++;
            if ((q < nr && rel[q] == m->movie_ids[j]) || !m->movie_count[j])
                continue;
            float s = rec__score_one(m, v, c, j);
            s = s == s ? s : -INFINITY;
            for (size_t i = 0; i < nr; i++)
                right += pos[i] > s ? 1.0 : pos[i] == s ? 0.5 : 0.0;
            nneg++;
        }
        r->auc += nneg ? right / ((double)nr * (double)nneg) : 1.0;
        r->n_users_ranked++;
    }
    double n = (double)r->n_users_ranked;
    r->precision_at_k /= n;
    r->recall_at_k /= n;
    r->ndcg_at_k /= n;
    r->map_at_k /= n;
    r->auc /= n;
    free(top);
    free(rel);
    free(pos);
    free(v);
}

static void expect_eval_equals_reference(const rec_ratings *train_set,
                                         const rec_ratings *test,
                                         int preference, int implicit)
{
    rec_error e = {0};
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 10;
    p.iterations = 5;
    p.preference = preference;
    p.implicit = implicit;
    rec_model *m = NULL;
    ck_assert_ok(rec_train_als(&m, train_set, &p, &e), &e);
    rec_eval_result got, want, one;
    ck_assert_ok(rec_evaluate(&got, m, test, 10, 4.0f, &e), &e);
    ref_evaluate(&want, m, test, 10, 4.0f);
    ck_assert_uint_eq(got.n_users_ranked, want.n_users_ranked);
    ck_assert_uint_gt(got.n_users_ranked, 100);
    /* The same per-user values summed in the same order: equal exactly
       (the AUC's pair counts are sums of halves, exact in a double). */
    ck_assert_msg(got.precision_at_k == want.precision_at_k, "p %.17g %.17g",
                  got.precision_at_k, want.precision_at_k);
    ck_assert(got.recall_at_k == want.recall_at_k);
    ck_assert(got.ndcg_at_k == want.ndcg_at_k);
    ck_assert(got.map_at_k == want.map_at_k);
    ck_assert_msg(got.auc == want.auc, "auc %.17g vs %.17g", got.auc,
                  want.auc);
    ck_assert(got.coverage > 0 && got.coverage <= 1);
    ck_assert(got.median_train_count >= 1);
    /* One thread: the same bytes. */
    int nt = omp_get_max_threads();
    omp_set_num_threads(1);
    ck_assert_ok(rec_evaluate(&one, m, test, 10, 4.0f, &e), &e);
    omp_set_num_threads(nt);
    ck_assert(memcmp(&one, &got, sizeof one) == 0);
    printf("eval batch (preference %d implicit %d): ndcg %.6f auc %.6f "
           "coverage %.4f median count %.1f\n", preference, implicit,
           got.ndcg_at_k, got.auc, got.coverage, got.median_train_count);
    rec_model_free(m);
}

START_TEST(evaluate_equals_reference)
{
    rec_error e = {0};
    rec_ratings *tr = NULL, *test = NULL;
    ck_assert_ok(rec_ratings_split_per_user(&tr, &test, ml_small(), 5, 3,
                                            &e), &e);
    expect_eval_equals_reference(tr, test, 1, 0); /* hybrid (default) */
    expect_eval_equals_reference(tr, test, 0, 0); /* explicit-only */
    expect_eval_equals_reference(tr, test, 0, 1); /* implicit */
    /* Popularity: the most rated movies, so a higher median count and a
       lower coverage than a model. */
    rec_eval_result pop, ev;
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 10;
    p.iterations = 5;
    rec_model *m = NULL;
    ck_assert_ok(rec_train_als(&m, tr, &p, &e), &e);
    ck_assert_ok(rec_evaluate(&ev, m, test, 10, 4.0f, &e), &e);
    ck_assert_ok(rec_evaluate_popularity(&pop, tr, test, 10, 4.0f, &e), &e);
    ck_assert(pop.coverage > 0 && pop.coverage < ev.coverage);
    ck_assert(pop.median_train_count > ev.median_train_count);
    rec_model_free(m);
    rec_ratings_free(tr);
    rec_ratings_free(test);
}
END_TEST

/* Coverage and median on a hand-checkable case. */
START_TEST(coverage_and_median_by_hand)
{
    rec_error e = {0};
    rec_ratings *r = NULL, *test = NULL;
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    ck_assert_ok(rec_ratings_new(&test, &e), &e);
    /* Training: movie 10 rated by 3 users, 20 by 2, 30 by 1, 40 by 1. */
    rec_rating tr[] = {{1, 10, 5}, {2, 10, 4}, {3, 10, 3}, {1, 20, 4},
                       {2, 20, 2}, {3, 30, 4}, {3, 40, 1}};
    rec_rating te[] = {{1, 30, 5}, {2, 40, 5}};
    ck_assert_ok(rec_ratings_add(r, tr, 7, &e), &e);
    ck_assert_ok(rec_ratings_add(test, te, 2, &e), &e);
    rec_eval_result pop;
    ck_assert_ok(rec_evaluate_popularity(&pop, r, test, 1, 4.0f, &e), &e);
    /* Top 1 of user 1 (rated 10, 20): 30 (count 1, lower id than 40);
       of user 2 (rated 10, 20): 30. Coverage 1 of 4, median count 1. */
    ck_assert_uint_eq(pop.n_users_ranked, 2);
    ck_assert(fabs(pop.coverage - 0.25) < 1e-12);
    ck_assert(pop.median_train_count == 1.0);
    /* k = 2: both users get 30 and 40 (counts 1, 1): coverage 2 of 4. */
    ck_assert_ok(rec_evaluate_popularity(&pop, r, test, 2, 4.0f, &e), &e);
    ck_assert(fabs(pop.coverage - 0.5) < 1e-12);
    ck_assert(pop.median_train_count == 1.0);
    rec_ratings_free(r);
    rec_ratings_free(test);
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
    tcase_add_test(t, top_n_many_tiers_of_ties);
    tcase_add_test(t, top_n_each_all_users_and_stop);
    tcase_add_test(t, batch_errors);
    tcase_add_test(t, predict_and_similar_many_equal_single);
    tcase_add_test(t, blas_threads_do_not_multiply);
    tcase_add_test(t, evaluate_equals_reference);
    tcase_add_test(t, coverage_and_median_by_hand);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    int rc = run_suite(suite());
    rec_ratings_free(small);
    return rc;
}
