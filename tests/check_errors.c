/* check_errors.c - status codes, their text, rec_error, version. */
#include "internal.h"
#include "test_util.h"

#include <stdio.h>
#include <string.h>

START_TEST(test_strerror)
{
    const rec_status codes[] = {REC_OK, REC_EINVAL, REC_ENOMEM, REC_EIO,
                                REC_EFORMAT, REC_ENOTFOUND, REC_ELAPACK,
                                REC_ECANCELED};
    const size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = rec_strerror(codes[i]);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_gt(strlen(s), 0);
        for (size_t j = 0; j < i; j++) /* each code has its own text */
            ck_assert_str_ne(s, rec_strerror(codes[j]));
    }
    ck_assert_str_eq(rec_strerror(REC_EINVAL), "invalid argument");
    ck_assert_str_eq(rec_strerror(-1000), "unknown error");
    ck_assert_str_eq(rec_strerror(42), "unknown error");
}
END_TEST

START_TEST(test_frozen_values)
{
    ck_assert_int_eq(REC_OK, 0);
    ck_assert_int_eq(REC_EINVAL, -1);
    ck_assert_int_eq(REC_ENOMEM, -2);
    ck_assert_int_eq(REC_EIO, -3);
    ck_assert_int_eq(REC_EFORMAT, -4);
    ck_assert_int_eq(REC_ENOTFOUND, -5);
    ck_assert_int_eq(REC_ELAPACK, -6);
    ck_assert_int_eq(REC_ECANCELED, -7);
}
END_TEST

START_TEST(test_version)
{
    ck_assert_uint_eq(rec_version_number(), REC_VERSION_NUMBER);
    ck_assert_str_eq(rec_version_string(), REC_VERSION_STRING);
    char buf[32];
    snprintf(buf, sizeof buf, "%d.%d.%d", REC_VERSION_MAJOR, REC_VERSION_MINOR,
             REC_VERSION_PATCH);
    ck_assert_str_eq(rec_version_string(), buf);
    ck_assert_uint_eq(rec_version_number(),
                      REC_VERSION_MAJOR * 10000 + REC_VERSION_MINOR * 100 +
                          REC_VERSION_PATCH);
}
END_TEST

START_TEST(test_fail_fills_error)
{
    rec_error e = {0};
    ck_assert_int_eq(rec__fail(&e, REC_EFORMAT, "%s:%d: %s", "ratings.csv", 17,
                               "rating 'abc' is not a number"),
                     REC_EFORMAT);
    ck_assert_int_eq(e.code, REC_EFORMAT);
    ck_assert_str_eq(e.msg, "ratings.csv:17: rating 'abc' is not a number");
    /* NULL err is allowed */
    ck_assert_int_eq(rec__fail(NULL, REC_EIO, "x"), REC_EIO);
}
END_TEST

START_TEST(test_fail_truncates)
{
    rec_error e;
    memset(&e, 'z', sizeof e);
    char big[1000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rec__fail(&e, REC_EINVAL, "%s", big);
    ck_assert_uint_eq(strlen(e.msg), REC_ERROR_MSG_SIZE - 1);
    ck_assert_int_eq(e.code, REC_EINVAL);
}
END_TEST

START_TEST(test_error_untouched_on_success)
{
    rec_error e;
    e.code = 12345;
    strcpy(e.msg, "keep");
    rec_ratings *r = NULL;
    ck_assert_int_eq(rec_ratings_new(&r, &e), REC_OK);
    ck_assert_int_eq(e.code, 12345);
    ck_assert_str_eq(e.msg, "keep");
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_error_codes_from_calls)
{
    /* one call per code the data layer produces */
    rec_error e = {0};
    rec_ratings *r = NULL;
    ck_assert_int_eq(rec_load_movielens(NULL, "x", &e), REC_EINVAL);
    ck_assert_str_ne(e.msg, "");
    ck_assert_int_eq(rec_load_movielens(&r, fixture("bad/no_ratings"), &e), REC_ENOTFOUND);
    ck_assert_int_eq(e.code, REC_ENOTFOUND);
    ck_assert_int_eq(rec_load_movielens(&r, fixture("bad/rating_nan.csv"), &e), REC_EFORMAT);
    ck_assert_int_eq(e.code, REC_EFORMAT);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_strerror);
    tcase_add_test(core, test_frozen_values);
    tcase_add_test(core, test_version);
    tcase_add_test(core, test_fail_fills_error);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_fail_truncates);
    tcase_add_test(errors, test_error_untouched_on_success);
    tcase_add_test(errors, test_error_codes_from_calls);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return run_suite(errors_suite());
}
