/*
 * check_door_limits.c - one set of limits at every door (movieme.h,
 * "Limits"; issue 13): whatever rec_ratings_add, training, fold-in and
 * rec_add_user accept, rec_model_save writes and rec_model_load reads back
 * the same. Random and extreme valid inputs always round-trip; values
 * beyond the limits are refused at the door with REC_EINVAL and a message
 * that names the value and the limit, and leave the object unchanged.
 */
#include "internal.h"
#include "test_util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x5EED13;

static double unit(void)
{
    return (double)(rec__splitmix64(&rng) >> 11) / 9007199254740992.0;
}

static size_t below(size_t n) { return (size_t)(unit() * (double)n); }

/* A valid rating, often at the edges: the limits themselves, just inside
   them, zero, tiny and subnormal values, counts, halves. */
static float edge_rating(void)
{
    const float max = (float)REC_MAX_RATING;
    switch (below(10)) {
    case 0: return max;
    case 1: return -max;
    case 2: return nextafterf(max, 0.0f);
    case 3: return 0.0f;
    case 4: return FLT_MIN / 4.0f; /* subnormal */
    case 5: return (float)(1e-30 * unit());
    case 6: return (float)floor(unit() * REC_MAX_RATING); /* a count */
    case 7: return (float)((unit() * 2.0 - 1.0) * REC_MAX_RATING);
    default: return (float)(0.5 * (double)(1 + below(10))); /* 0.5 .. 5 */
    }
}

static int32_t edge_id(size_t i)
{
    static const int32_t ids[] = {0, 1, INT32_MAX, INT32_MAX - 1, 77, 1000000};
    return i < 6 ? ids[i] : (int32_t)(1000 + i * 37);
}

static rec_ratings *random_ratings(size_t n_users, size_t n_movies)
{
    rec_ratings *r = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    rec_rating rows[256];
    size_t n = 0;
    for (size_t u = 0; u < n_users; u++)
        for (size_t j = 0; j < n_movies && n < 256; j++)
            if (j == u % n_movies || unit() < 0.5)
                rows[n++] = (rec_rating){edge_id(u), edge_id(j), edge_rating()};
    ck_assert_ok(rec_ratings_add(r, rows, n, &e), &e);
    return r;
}

static void random_params(rec_als_params *p)
{
    static const int ranks[] = {1, 2, 3, 5, 8, 16};
    static const double regs[] = {0.0, 1e-3, 0.1, 10.0};
    rec_als_params_init(p);
    p->rank = ranks[below(6)];
    p->iterations = 1 + (int)below(4);
    p->reg = regs[below(4)];
    p->bias_reg = regs[below(4)];
    p->seed = rec__splitmix64(&rng);
    p->n_threads = 1 + (int)below(2);
    p->implicit = below(3) == 0;
    if (p->implicit) {
        static const double alphas[] = {1e-3, 1.0, 40.0};
        p->alpha = alphas[below(3)];
        p->implicit_weight_by_value = (int)below(2);
        p->solver = below(2) ? REC_SOLVER_CHOLESKY : REC_SOLVER_CG;
    } else {
        p->biases = (int)below(2);
        p->nonnegative = below(3) == 0;
    }
}

/* Bit-identical factors, biases and predictions for every user. */
static void assert_same_model(const rec_model *a, const rec_model *b)
{
    ck_assert_int_eq(rec_model_rank(a), rec_model_rank(b));
    ck_assert_uint_eq(rec_model_n_users(a), rec_model_n_users(b));
    ck_assert_uint_eq(rec_model_n_movies(a), rec_model_n_movies(b));
    int k = rec_model_rank(a);
    float fa[16], fb[16], ba, bb;
    rec_error e = {0};
    for (size_t i = 0; i < a->n_users; i++) {
        int32_t id = a->user_ids[i];
        if (!rec_model_has_user(a, id))
            continue;
        ck_assert_ok(rec_model_user_factors(fa, 16, &ba, a, id, &e), &e);
        ck_assert_ok(rec_model_user_factors(fb, 16, &bb, b, id, &e), &e);
        ck_assert_int_eq(memcmp(fa, fb, (size_t)k * sizeof *fa), 0);
        ck_assert(memcmp(&ba, &bb, sizeof ba) == 0);
        for (size_t j = 0; j < a->n_movies; j++) {
            float pa, pb;
            ck_assert_ok(rec_predict(&pa, a, id, a->movie_ids[j], &e), &e);
            ck_assert_ok(rec_predict(&pb, b, id, a->movie_ids[j], &e), &e);
            ck_assert(memcmp(&pa, &pb, sizeof pa) == 0);
            ck_assert(isfinite(pa));
        }
    }
}

static rec_model *save_load(const rec_model *m, const char *name)
{
    rec_error e = {0};
    const char *path = tmp_path(name);
    ck_assert_ok(rec_model_save(m, path, &e), &e);
    rec_model *back = NULL;
    ck_assert_ok(rec_model_load(&back, path, &e), &e);
    assert_same_model(m, back);
    return back;
}

static void random_movie_ratings(rec_movie_rating *out, size_t n,
                                 size_t n_movies)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (rec_movie_rating){edge_id(below(n_movies + 2)), edge_rating()};
}

/* The property: add -> train -> fold-in -> save -> load -> fold-in ->
   save -> load, on random and extreme valid inputs, always succeeds and
   gives back the same model. */
START_TEST(test_valid_inputs_round_trip)
{
    int n_implicit = 0, n_nonneg = 0;
    const char *env = getenv("REC_DOOR_TRIALS"); /* longer runs by hand */
    int trials = env ? atoi(env) : 60;
    if (getenv("REC_DOOR_SEED"))
        rng = strtoull(getenv("REC_DOOR_SEED"), NULL, 10);
    for (int trial = 0; trial < trials; trial++) {
        size_t nu = 1 + below(12), nm = 1 + below(10);
        rec_ratings *r = random_ratings(nu, nm);
        rec_als_params p;
        random_params(&p);
        n_implicit += p.implicit != 0;
        n_nonneg += p.nonnegative != 0;
        rec_error e = {0};
        rec_model *m = NULL;
        rec_status st = rec_train_als(&m, r, &p, &e);
        ck_assert_msg(st == REC_OK, "trial %d (rank %d, reg %g, implicit %d "
                      "alpha %g by value %d solver %d, nonneg %d): %d %s",
                      trial, p.rank, p.reg, p.implicit, p.alpha,
                      p.implicit_weight_by_value, p.solver, p.nonnegative, st,
                      e.msg);
        rec_model *back = save_load(m, "trained.bin");

        rec_movie_rating mine[8];
        size_t n_mine = 1 + below(8);
        random_movie_ratings(mine, n_mine, nm);
        rec_scored top[4];
        size_t n_top = 0;
        ck_assert_ok(rec_recommend_for_ratings(top, 4, &n_top, back, mine,
                                               n_mine, &e), &e);
        int32_t uid = -2;
        st = rec_add_user(&uid, back, REC_NEW_USER, mine, n_mine, &e);
        ck_assert_msg(st == REC_OK || (st == REC_EINVAL &&
                                       rec_model_has_user(back, INT32_MAX) &&
                                       strstr(e.msg, "no user id left")),
                      "%d %s", st, e.msg);
        ck_assert_ok(rec_add_user(&uid, back, edge_id(below(nu)), mine, n_mine,
                                  &e), &e); /* a known user, merged */
        rec_model *again = save_load(back, "folded.bin");
        ck_assert_ok(rec_add_user(&uid, again, INT32_MAX - 2, mine, n_mine, &e),
                     &e);
        rec_model_free(save_load(again, "again.bin"));
        rec_model_free(again);
        rec_model_free(back);
        rec_model_free(m);
        rec_ratings_free(r);
    }
    ck_assert_int_gt(n_implicit, 0);
    ck_assert_int_gt(n_nonneg, 0);
}
END_TEST

/* The rank limit is a limit of every model: REC_MAX_RANK trains, saves,
   loads and serves; one more is refused. */
START_TEST(test_rank_limit)
{
    rec_ratings *r = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    const rec_rating rows[] = {{1, 1, 4.0f}, {1, 2, 3.0f}, {2, 1, 5.0f}};
    ck_assert_ok(rec_ratings_add(r, rows, 3, &e), &e);
    rec_als_params p;
    rec_als_params_init(&p);
    p.iterations = 1;
    p.n_threads = 2;
    p.rank = REC_MAX_RANK + 1;
    rec_model *m = NULL;
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
    ck_assert_msg(strstr(e.msg, "1024"), "%s", e.msg);
    ck_assert_ptr_null(m);
    p.rank = REC_MAX_RANK;
    ck_assert_ok(rec_train_als(&m, r, &p, &e), &e);
    const char *path = tmp_path("maxrank.bin");
    ck_assert_ok(rec_model_save(m, path, &e), &e);
    rec_model *back = NULL;
    ck_assert_ok(rec_model_load(&back, path, &e), &e);
    ck_assert_int_eq(rec_model_rank(back), REC_MAX_RANK);
    const rec_movie_rating mine[] = {{1, 2.0f}};
    rec_scored top[2];
    size_t n_top;
    ck_assert_ok(rec_recommend_for_ratings(top, 2, &n_top, back, mine, 1, &e), &e);
    rec_model_free(back);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

/* Beyond the limits: REC_EINVAL at the door, a message with the value and
   the limit, nothing changed. */
START_TEST(test_out_of_limits_refused_at_the_door)
{
    const float bad[] = {nextafterf((float)REC_MAX_RATING, INFINITY),
                         (float)-2e6, 2e6f, FLT_MAX, NAN, INFINITY, -INFINITY};
    rec_ratings *r = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    const rec_rating good[] = {{1, 1, 4.0f}, {1, 2, 3.0f}, {2, 1, 5.0f},
                               {2, 2, (float)REC_MAX_RATING}};
    ck_assert_ok(rec_ratings_add(r, good, 4, &e), &e);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 2;
    p.n_threads = 1;
    rec_model *m = NULL;
    ck_assert_ok(rec_train_als(&m, r, &p, &e), &e);
    size_t users = rec_model_n_users(m);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const rec_rating rows[] = {{3, 1, 1.0f}, {3, 2, bad[i]}};
        memset(&e, 0, sizeof e);
        ck_assert_int_eq(rec_ratings_add(r, rows, 2, &e), REC_EINVAL);
        ck_assert_int_eq(e.code, REC_EINVAL);
        ck_assert_msg(strstr(e.msg, "rows[1]") && strstr(e.msg, "REC_MAX_RATING"),
                      "%s", e.msg);
        ck_assert_uint_eq(rec_ratings_n_ratings(r), 4); /* unchanged */

        const rec_movie_rating mine[] = {{1, 3.0f}, {99, bad[i]}}; /* 99: unknown */
        rec_scored top[2];
        size_t n_top = 7;
        ck_assert_int_eq(rec_recommend_for_ratings(top, 2, &n_top, m, mine, 2, &e),
                         REC_EINVAL);
        ck_assert_msg(strstr(e.msg, "movie 99") && strstr(e.msg, "REC_MAX_RATING"),
                      "%s", e.msg);
        int32_t uid = -5;
        ck_assert_int_eq(rec_add_user(&uid, m, REC_NEW_USER, mine, 2, &e),
                         REC_EINVAL);
        ck_assert_int_eq(rec_add_user(&uid, m, 1, mine, 2, &e), REC_EINVAL);
        ck_assert_uint_eq(rec_model_n_users(m), users);
    }
    /* the model still saves and loads as it was */
    rec_model_free(save_load(m, "door.bin"));
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

static Suite *door_limits_suite(void)
{
    Suite *s = suite_create("door_limits");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 300);
    tcase_add_test(core, test_valid_inputs_round_trip);
    tcase_add_test(core, test_rank_limit);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_out_of_limits_refused_at_the_door);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return run_suite(door_limits_suite());
}
