/*
 * check_fuzz_regressions.c - every input in fuzz/regressions/ (a crash or
 * invariant failure the fuzzers found, since fixed) replayed through the
 * same code as the fuzz targets, as a plain Check test: so they also run in
 * the normal and sanitizer builds, without clang or libFuzzer.
 * The CLI target needs src/cli/ and is replayed by scripts/fuzz.sh only.
 */
#define REC_FUZZ_NO_MAIN 1
#include "../fuzz/fuzz_movielens.c"
#include "../fuzz/fuzz_model_load.c"

#include <check.h>
#include <dirent.h>

#include "test_util.h"

#define REGRESSIONS REC_TEST_DATA "/../../fuzz/regressions"

/* Run `one` on every file of fuzz/regressions/<target>; returns the count. */
static size_t replay(const char *target, int layout)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", REGRESSIONS, target);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        ck_assert_msg(f != NULL, "cannot open %s", path);
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        fprintf(stderr, "replay %s/%s (%zu bytes)\n", target, e->d_name, len);
        if (layout >= 0)
            fz_movielens_one(layout, buf, len);
        else
            fz_model_one(buf, len);
        n++;
    }
    closedir(d);
    return n;
}

START_TEST(test_movielens_regressions)
{
    static const char *targets[3] = {"fuzz_movielens_csv", "fuzz_movielens_100k",
                                     "fuzz_movielens_dat"};
    size_t n = 0;
    for (int layout = 0; layout < 3; layout++)
        n += replay(targets[layout], layout);
    ck_assert_uint_gt(n, 0);
}
END_TEST

START_TEST(test_model_regressions)
{
    ck_assert_uint_gt(replay("fuzz_model_load", -1), 0);
}
END_TEST

/* The two first findings, also as plain API assertions. */
START_TEST(test_latin1_genre_names_become_utf8)
{
    const char *dir = tmp_path("");
    (void)dir;
    write_tmp("u.data", "1\t1\t5\t881250949\n");
    write_tmp("u.item", "1|Toy Story (1995)|01-Jan-1995||http://x|1|1\n");
    write_tmp("u.genre", "Com\xe9" "die|0\nAction|1\n");
    rec_ratings *r = NULL;
    rec_error err;
    ck_assert_ok(rec_load_movielens(&r, tmp_path(""), &err), &err);
    rec_movie_info mi;
    ck_assert_ok(rec_ratings_movie(&mi, r, 1, &err), &err);
    ck_assert_str_eq(mi.genres, "Com\xc3\xa9" "die|Action");
    rec_ratings_free(r);
}
END_TEST

/* Finding 6: a short u.item with long u.genre names overflowed the genre
   buffer (sized from u.item's length). */
START_TEST(test_short_item_long_genre_names)
{
    char genre[4096] = "";
    size_t o = 0;
    for (int i = 0; i < 19; i++)
        o += (size_t)snprintf(genre + o, sizeof genre - o,
                              "AVeryLongGenreNameNumber%02dXXXXXXXXXXX|%d\n", i, i);
    write_tmp("u.data", "1\t1\t5\t881250949\n");
    write_tmp("u.item", "1|T|||u|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1|1\n");
    write_tmp("u.genre", genre);
    rec_ratings *r = NULL;
    rec_error err;
    ck_assert_ok(rec_load_movielens(&r, tmp_path(""), &err), &err);
    rec_movie_info mi;
    ck_assert_ok(rec_ratings_movie(&mi, r, 1, &err), &err);
    ck_assert_uint_gt(strlen(mi.genres), 19 * 30);
    rec_ratings_free(r);
}
END_TEST

Suite *fuzz_regressions_suite(void)
{
    Suite *s = suite_create("fuzz_regressions");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_movielens_regressions);
    tcase_add_test(tc, test_model_regressions);
    tcase_add_test(tc, test_latin1_genre_names_become_utf8);
    tcase_add_test(tc, test_short_item_long_genre_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* the targets' scratch files go under the suite's temporary root, which
       run_suite removes whatever happens */
    setenv("REC_FUZZ_TMP", test_tmp_root(), 1);
    return run_suite(fuzz_regressions_suite());
}
