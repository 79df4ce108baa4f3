/* check_model_mem.c - models to and from memory (rec_model_save_mem /
   rec_model_load_mem): the same bytes as the file, round trips, errors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "als_fixture.h"

static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static unsigned char *save_mem(const rec_model *m, size_t *len)
{
    rec_error e;
    ck_assert_ok(rec_model_save_mem(NULL, 0, len, m, &e), &e);
    unsigned char *b = malloc(*len);
    size_t len2 = 0;
    ck_assert_ok(rec_model_save_mem(b, *len, &len2, m, &e), &e);
    ck_assert_uint_eq(len2, *len);
    return b;
}

/* The bytes in memory are the file's, for explicit and implicit models and
   for a model changed by add_user/remove_user (overrides flattened). */
START_TEST(test_same_bytes_as_file)
{
    rec_ratings *r = fx_ratings(20, 10, 0.6);
    rec_ratings_set_movie(r, 3, "Heat (1995)", "Action|Crime", NULL);
    rec_model *m = fx_train(r, 3, 1);
    rec_error e;
    rec_movie_rating mr[2] = {{1, 5.0f}, {3, 2.0f}};
    int32_t id;
    rec_model *changed = NULL;
    ck_assert_ok(rec_model_copy(&changed, m, &e), &e);
    ck_assert_ok(rec_add_user(&id, changed, REC_NEW_USER, mr, 2, &e), &e);
    ck_assert_ok(rec_remove_user(changed, 20, &e), &e);
    rec_als_params p;
    rec_als_params_init(&p);
    p.implicit = 1;
    p.rank = 4;
    p.n_threads = 1;
    rec_model *imp = NULL;
    ck_assert_ok(rec_train_als(&imp, r, &p, &e), &e);
    const rec_model *models[3] = {m, changed, imp};
    for (int i = 0; i < 3; i++) {
        const char *path = tmp_path("mem.bin");
        ck_assert_ok(rec_model_save(models[i], path, &e), &e);
        size_t lf, lm;
        unsigned char *f = read_whole(path, &lf);
        unsigned char *b = save_mem(models[i], &lm);
        ck_assert_uint_eq(lf, lm);
        ck_assert_mem_eq(f, b, lf);
        /* loaded back, it saves the same bytes again */
        rec_model *back = NULL;
        ck_assert_ok(rec_model_load_mem(&back, b, lm, &e), &e);
        free(b);
        size_t l2;
        unsigned char *b2 = save_mem(back, &l2);
        ck_assert_uint_eq(l2, lf);
        ck_assert_mem_eq(f, b2, lf);
        float p1, p2;
        ck_assert_ok(rec_predict(&p1, models[i], 10, 3, &e), &e);
        ck_assert_ok(rec_predict(&p2, back, 10, 3, &e), &e);
        ck_assert_float_eq(p1, p2);
        free(f);
        free(b2);
        rec_model_free(back);
    }
    rec_model_free(imp);
    rec_model_free(changed);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_errors)
{
    rec_ratings *r = fx_ratings(10, 6, 0.7);
    rec_model *m = fx_train(r, 2, 1), *back = NULL;
    rec_error e;
    size_t len = 0, len2 = 0;
    unsigned char *b = save_mem(m, &len);
    /* a short buffer: REC_EINVAL, the size still given, nothing written */
    unsigned char *small = calloc(1, len);
    ck_assert_int_eq(rec_model_save_mem(small, len - 1, &len2, m, &e),
                     REC_EINVAL);
    ck_assert_uint_eq(len2, len);
    ck_assert_ptr_nonnull(strstr(e.msg, "needs"));
    ck_assert_int_eq(small[0], 0);
    ck_assert_int_eq(rec_model_save_mem(NULL, 0, NULL, m, &e), REC_EINVAL);
    ck_assert_int_eq(rec_model_save_mem(NULL, 5, &len2, m, &e), REC_EINVAL);
    ck_assert_int_eq(rec_model_save_mem(NULL, 0, &len2, NULL, &e),
                     REC_EINVAL);
    /* truncated, corrupted, newer */
    ck_assert_int_eq(rec_model_load_mem(&back, b, len - 1, &e), REC_EFORMAT);
    ck_assert_ptr_null(back);
    ck_assert_ptr_nonnull(strstr(e.msg, "(memory)"));
    b[len / 2] ^= 0x40;
    ck_assert_int_eq(rec_model_load_mem(&back, b, len, &e), REC_EFORMAT);
    b[len / 2] ^= 0x40;
    b[8] = 99; /* format version */
    ck_assert_int_eq(rec_model_load_mem(&back, b, len, &e), REC_EFORMAT);
    ck_assert_int_eq(rec_model_load_mem(&back, "", 0, &e), REC_EFORMAT);
    ck_assert_int_eq(rec_model_load_mem(NULL, b, len, &e), REC_EINVAL);
    ck_assert_int_eq(rec_model_load_mem(&back, NULL, 4, &e), REC_EINVAL);
    free(small);
    free(b);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

static Suite *model_mem_suite(void)
{
    Suite *s = suite_create("model_mem");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_same_bytes_as_file);
    tcase_add_test(core, test_errors);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return run_suite(model_mem_suite());
}
