/* check_remove_user.c - rec_remove_user: a removed user is unknown to every
   call, every other user is served exactly as before (trained users, users
   added by rec_add_user, in any order of removals), a re-added id starts
   afresh, and copies and model files after removals hold the right users.
   Plus the id map's deletion, which removal relies on. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "als_fixture.h"

#define NU 40 /* fx_ratings users: ids 10, 20, ..., 400 */
#define NM 30 /* movies: ids 1, 3, ..., 59 */

static rec_model *trained(void)
{
    rec_ratings *r = fx_ratings(NU, NM, 0.4);
    rec_model *m = fx_train(r, 4, 1);
    rec_ratings_free(r);
    return m;
}

/* `m` serves `id` exactly as `ref` does: same factors, bias, top-n (which
   also shows the same rated movies, left out) and predictions. */
static void same_user(const rec_model *m, const rec_model *ref, int32_t id)
{
    float a[8], b[8], ba, bb;
    rec_error e;
    ck_assert_msg(rec_model_has_user(m, id), "user %d lost", id);
    ck_assert_ok(rec_model_user_factors(a, 8, &ba, m, id, &e), &e);
    ck_assert_ok(rec_model_user_factors(b, 8, &bb, ref, id, &e), &e);
    ck_assert_int_eq(memcmp(a, b, (size_t)rec_model_rank(m) * sizeof *a), 0);
    ck_assert_float_eq(ba, bb);
    rec_scored x[NM + 8], y[NM + 8];
    size_t nx = 0, ny = 0;
    ck_assert_ok(rec_top_n(x, NM + 8, &nx, m, id, &e), &e);
    ck_assert_ok(rec_top_n(y, NM + 8, &ny, ref, id, &e), &e);
    ck_assert_uint_eq(nx, ny);
    for (size_t i = 0; i < nx; i++) {
        ck_assert_int_eq(x[i].movie_id, y[i].movie_id);
        ck_assert_float_eq(x[i].score, y[i].score);
    }
}

/* `id` is unknown to every call of `m`. */
static void gone(const rec_model *m, int32_t id)
{
    rec_scored out[4];
    size_t n = 0;
    float p, q, f[8];
    rec_error e;
    ck_assert(!rec_model_has_user(m, id));
    ck_assert_int_eq(rec_top_n(out, 4, &n, m, id, &e), REC_ENOTFOUND);
    ck_assert_int_eq(rec_model_user_factors(f, 8, NULL, m, id, &e),
                     REC_ENOTFOUND);
    /* predict falls back to the biases, as for an id never seen */
    ck_assert_ok(rec_predict(&p, m, id, 1, &e), &e);
    ck_assert_ok(rec_predict(&q, m, 99999, 1, &e), &e);
    ck_assert_float_eq(p, q);
}

START_TEST(test_remove_trained_user)
{
    rec_model *m = trained(), *ref = NULL;
    rec_error e;
    ck_assert_ok(rec_model_copy(&ref, m, &e), &e);
    ck_assert_ok(rec_remove_user(m, 200, &e), &e);
    gone(m, 200);
    ck_assert_uint_eq(rec_model_n_users(m), NU - 1);
    for (int32_t id = 10; id <= 10 * NU; id += 10)
        if (id != 200)
            same_user(m, ref, id);
    /* the movie side does not move */
    rec_scored a[5], b[5];
    size_t na, nb;
    ck_assert_ok(rec_similar_movies(a, 5, &na, m, 7, &e), &e);
    ck_assert_ok(rec_similar_movies(b, 5, &nb, ref, 7, &e), &e);
    ck_assert_uint_eq(na, nb);
    for (size_t i = 0; i < na; i++)
        ck_assert_int_eq(a[i].movie_id, b[i].movie_id);
    rec_model_free(ref);
    rec_model_free(m);
}
END_TEST

START_TEST(test_remove_everyone_in_any_order)
{
    /* stride 7 over 40 users visits every slot: first, middle, last */
    rec_model *m = trained(), *ref = NULL;
    rec_error e;
    ck_assert_ok(rec_model_copy(&ref, m, &e), &e);
    int removed[NU + 1] = {0};
    for (int i = 0; i < NU; i++) {
        int32_t id = (int32_t)(10 * ((i * 7) % NU + 1));
        ck_assert_ok(rec_remove_user(m, id, &e), &e);
        removed[id / 10] = 1;
        ck_assert_uint_eq(rec_model_n_users(m), (size_t)(NU - 1 - i));
        for (int32_t other = 10; other <= 10 * NU; other += 10) {
            if (removed[other / 10])
                gone(m, other);
            else
                same_user(m, ref, other);
        }
    }
    ck_assert_uint_eq(rec_model_n_users(m), 0);
    /* an empty model takes new users */
    const rec_movie_rating r[] = {{1, 5.0f}, {3, 1.0f}};
    int32_t id = -5;
    ck_assert_ok(rec_add_user(&id, m, REC_NEW_USER, r, 2, &e), &e);
    ck_assert_int_eq(id, 0);
    rec_scored out[NM];
    size_t n;
    ck_assert_ok(rec_top_n(out, NM, &n, m, 0, &e), &e);
    ck_assert_uint_eq(n, NM - 2);
    rec_model_free(ref);
    rec_model_free(m);
}
END_TEST

START_TEST(test_remove_added_users)
{
    rec_model *m = trained(), *ref = NULL;
    rec_error e;
    const rec_movie_rating r1[] = {{1, 5.0f}, {5, 4.0f}, {9, 1.0f}};
    const rec_movie_rating r2[] = {{3, 2.0f}, {7, 5.0f}};
    const rec_movie_rating r3[] = {{11, 4.5f}};
    int32_t id;
    ck_assert_ok(rec_add_user(&id, m, 1000, r1, 3, &e), &e);
    ck_assert_ok(rec_add_user(&id, m, 1001, r2, 2, &e), &e);
    ck_assert_ok(rec_add_user(&id, m, 1002, r3, 1, &e), &e);
    /* a trained user changed by rec_add_user (an override) */
    ck_assert_ok(rec_add_user(&id, m, 50, r3, 1, &e), &e);
    ck_assert_ok(rec_model_copy(&ref, m, &e), &e);
    ck_assert_ok(rec_remove_user(m, 1000, &e), &e); /* 1002 takes its slot */
    gone(m, 1000);
    ck_assert_ok(rec_remove_user(m, 50, &e), &e); /* overridden; 1001 moves
                                                     into the trained block */
    gone(m, 50);
    ck_assert_ok(rec_remove_user(m, 1001, &e), &e);
    gone(m, 1001);
    ck_assert_uint_eq(rec_model_n_users(m), NU + 3 - 3);
    same_user(m, ref, 1002);
    for (int32_t other = 10; other <= 10 * NU; other += 10)
        if (other != 50)
            same_user(m, ref, other);
    /* a trained user removed when the last slot is trained: its CSR row
       becomes an override of the slot it moves to */
    ck_assert_ok(rec_remove_user(m, 10, &e), &e);
    gone(m, 10);
    same_user(m, ref, 1002);
    same_user(m, ref, 400);
    rec_model_free(ref);
    rec_model_free(m);
}
END_TEST

START_TEST(test_readd_starts_afresh)
{
    /* user 200's trained ratings, minus one: remove then add gives exactly
       the fold-in of the remaining ratings (the dropped movie no longer
       counts nor is left out), where rec_add_user alone would merge. */
    rec_ratings *r = fx_ratings(NU, NM, 0.4);
    rec_model *m = fx_train(r, 4, 1), *merged = NULL;
    rec_error e;
    rec_rating rows[NM];
    size_t n;
    ck_assert_ok(rec_ratings_user(rows, NM, &n, r, 200, &e), &e);
    ck_assert_uint_ge(n, 3);
    rec_movie_rating keep[NM];
    for (size_t i = 1; i < n; i++) {
        keep[i - 1].movie_id = rows[i].movie_id;
        keep[i - 1].rating = rows[i].rating;
    }
    int32_t dropped = rows[0].movie_id;
    ck_assert_ok(rec_model_copy(&merged, m, &e), &e);
    int32_t id;
    ck_assert_ok(rec_add_user(&id, merged, 200, keep, n - 1, &e), &e);

    ck_assert_ok(rec_remove_user(m, 200, &e), &e);
    ck_assert_ok(rec_add_user(&id, m, 200, keep, n - 1, &e), &e);
    ck_assert_int_eq(id, 200);
    ck_assert_uint_eq(rec_model_n_users(m), NU);
    rec_scored got[NM], want[NM], mer[NM];
    size_t ngot, nwant, nmer;
    ck_assert_ok(rec_top_n(got, NM, &ngot, m, 200, &e), &e);
    ck_assert_ok(rec_recommend_for_ratings(want, NM, &nwant, m, keep, n - 1,
                                           &e), &e);
    ck_assert_ok(rec_top_n(mer, NM, &nmer, merged, 200, &e), &e);
    ck_assert_uint_eq(ngot, nwant);
    ck_assert_uint_eq(ngot, NM - (n - 1));
    ck_assert_uint_eq(nmer, NM - n); /* merging kept the dropped movie */
    int seen = 0;
    for (size_t i = 0; i < ngot; i++) {
        ck_assert_int_eq(got[i].movie_id, want[i].movie_id);
        ck_assert_float_eq_tol(got[i].score, want[i].score, 1e-5f);
        seen |= got[i].movie_id == dropped;
    }
    ck_assert_msg(seen, "the dropped movie %d is still left out", dropped);
    rec_model_free(merged);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_copy_and_file_after_removals)
{
    rec_model *m = trained(), *c = NULL, *l = NULL;
    rec_error e;
    const rec_movie_rating r1[] = {{1, 5.0f}, {5, 4.0f}};
    const rec_movie_rating r2[] = {{3, 2.0f}, {7, 5.0f}, {9, 3.0f}};
    int32_t id;
    ck_assert_ok(rec_add_user(&id, m, 5000, r1, 2, &e), &e);
    ck_assert_ok(rec_add_user(&id, m, 700, r2, 3, &e), &e);
    ck_assert_ok(rec_add_user(&id, m, 900, r1, 2, &e), &e);
    ck_assert_ok(rec_remove_user(m, 10, &e), &e);
    ck_assert_ok(rec_remove_user(m, 5000, &e), &e);
    ck_assert_ok(rec_remove_user(m, 250, &e), &e);
    ck_assert_ok(rec_remove_user(m, 400, &e), &e);
    ck_assert_ok(rec_model_copy(&c, m, &e), &e);
    const char *path = tmp_path("removed.model");
    ck_assert_ok(rec_model_save(m, path, &e), &e);
    ck_assert_ok(rec_model_load(&l, path, &e), &e);
    const rec_model *both[] = {c, l};
    for (int k = 0; k < 2; k++) {
        const rec_model *x = both[k];
        ck_assert_uint_eq(rec_model_n_users(x), rec_model_n_users(m));
        gone(x, 10);
        gone(x, 5000);
        gone(x, 250);
        gone(x, 400);
        same_user(x, m, 700);
        same_user(x, m, 900);
        for (int32_t other = 20; other < 10 * NU; other += 10)
            if (other != 250)
                same_user(x, m, other);
    }
    /* a fresh id is above every id left, whatever their order in the file
       (900, then 700, were added after the trained users) */
    ck_assert_ok(rec_add_user(&id, l, REC_NEW_USER, r1, 2, &e), &e);
    ck_assert_int_eq(id, 901);
    ck_assert_ok(rec_remove_user(l, 901, &e), &e);
    ck_assert_ok(rec_remove_user(l, 900, &e), &e);
    ck_assert_ok(rec_add_user(&id, l, REC_NEW_USER, r1, 2, &e), &e);
    ck_assert_int_eq(id, 701);
    /* and a removed trained user comes back through the file afresh */
    ck_assert_ok(rec_add_user(&id, c, 10, r2, 3, &e), &e);
    ck_assert_ok(rec_model_save(c, path, &e), &e);
    rec_model_free(l);
    ck_assert_ok(rec_model_load(&l, path, &e), &e);
    same_user(l, c, 10);
    rec_model_free(l);
    rec_model_free(c);
    rec_model_free(m);
}
END_TEST

START_TEST(test_remove_implicit)
{
    rec_ratings *r = fx_ratings(NU, NM, 0.4);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 4;
    p.n_threads = 1;
    p.implicit = 1;
    rec_model *m = NULL, *ref = NULL;
    rec_error e;
    ck_assert_ok(rec_train_als(&m, r, &p, &e), &e);
    ck_assert_ok(rec_model_copy(&ref, m, &e), &e);
    ck_assert_ok(rec_remove_user(m, 30, &e), &e);
    gone(m, 30);
    same_user(m, ref, 400);
    const rec_movie_rating again[] = {{1, 5.0f}, {3, 4.0f}};
    int32_t id;
    ck_assert_ok(rec_add_user(&id, m, 30, again, 2, &e), &e);
    rec_scored got[NM], want[NM];
    size_t ng, nw;
    ck_assert_ok(rec_top_n(got, NM, &ng, m, 30, &e), &e);
    ck_assert_ok(rec_recommend_for_ratings(want, NM, &nw, m, again, 2, &e),
                 &e);
    ck_assert_uint_eq(ng, NM - 2);
    ck_assert_uint_eq(ng, nw);
    for (size_t i = 0; i < ng; i++)
        ck_assert_int_eq(got[i].movie_id, want[i].movie_id);
    rec_model_free(ref);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_idmap_remove)
{
    /* random puts and removes against a plain table; small capacity so
       clusters wrap around the end */
    enum { KEYS = 200 };
    int32_t want[KEYS];
    for (int i = 0; i < KEYS; i++)
        want[i] = -1;
    rec_idmap map;
    rec__idmap_init(&map);
    rec__idmap_remove(&map, 3); /* empty map: nothing happens */
    uint64_t s = 99;
    size_t size = 0;
    for (int step = 0; step < 20000; step++) {
        int32_t key = (int32_t)(rec__splitmix64(&s) % KEYS);
        if (rec__splitmix64(&s) % 3) {
            if (want[key] < 0)
                size++;
            want[key] = step;
            ck_assert_int_eq(rec__idmap_put(&map, key, step), REC_OK);
        } else {
            if (want[key] >= 0)
                size--;
            want[key] = -1;
            rec__idmap_remove(&map, key);
        }
        ck_assert_uint_eq(map.size, size);
        if (step % 97 == 0)
            for (int k = 0; k < KEYS; k++)
                ck_assert_int_eq(rec__idmap_get(&map, k), want[k]);
    }
    for (int k = 0; k < KEYS; k++)
        ck_assert_int_eq(rec__idmap_get(&map, k), want[k]);
    rec__idmap_free(&map);
}
END_TEST

START_TEST(test_errors)
{
    rec_model *m = trained();
    rec_error e;
    ck_assert_int_eq(rec_remove_user(m, 15, &e), REC_ENOTFOUND);
    ck_assert_int_eq(e.code, REC_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(e.msg, "15"));
    ck_assert_int_eq(rec_remove_user(m, -1, &e), REC_ENOTFOUND);
    ck_assert_int_eq(rec_remove_user(m, INT32_MAX, NULL), REC_ENOTFOUND);
    ck_assert_uint_eq(rec_model_n_users(m), NU);
    ck_assert_ok(rec_remove_user(m, 20, &e), &e);
    ck_assert_int_eq(rec_remove_user(m, 20, &e), REC_ENOTFOUND); /* twice */
    ck_assert_uint_eq(rec_model_n_users(m), NU - 1);
    ck_assert_int_eq(rec_remove_user(NULL, 20, &e), REC_EINVAL);
    ck_assert_int_eq(e.code, REC_EINVAL);
    ck_assert_int_eq(rec_remove_user(NULL, 20, NULL), REC_EINVAL);
    rec_model_free(m);
}
END_TEST

static Suite *remove_user_suite(void)
{
    Suite *s = suite_create("remove_user");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_remove_trained_user);
    tcase_add_test(core, test_remove_everyone_in_any_order);
    tcase_add_test(core, test_remove_added_users);
    tcase_add_test(core, test_readd_starts_afresh);
    tcase_add_test(core, test_copy_and_file_after_removals);
    tcase_add_test(core, test_remove_implicit);
    tcase_add_test(core, test_idmap_remove);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_errors);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return run_suite(remove_user_suite());
}
