/*
 * tmp_cleanup_probe.c - a test program that writes temporary files through
 * tests/test_util.c and then passes, fails, crashes or aborts, so that
 * tests/tmp_cleanup.sh can check that nothing is left in $TMPDIR whatever
 * the way a test ends. Not a check_* suite (CTest runs it through the
 * script). Usage: tmp_cleanup_probe suite|abort|exit
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

START_TEST(writes_and_passes)
{
    write_tmp("pass.txt", "x");
}
END_TEST

START_TEST(writes_and_fails)
{
    write_tmp("fail.txt", "x");
    ck_abort_msg("failing on purpose after writing %s", tmp_path("fail.txt"));
}
END_TEST

START_TEST(writes_and_crashes)
{
    write_tmp("crash.txt", "x");
    raise(SIGSEGV);
}
END_TEST

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "suite";
    if (strcmp(mode, "abort") == 0) {
        write_tmp("abort.txt", "x");
        abort();
    }
    if (strcmp(mode, "exit") == 0) {
        write_tmp("exit.txt", "x");
        exit(3);
    }
    Suite *s = suite_create("tmp_cleanup_probe");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, writes_and_passes);
    tcase_add_test(tc, writes_and_fails);
    const char *fork_env = getenv("CK_FORK");
    if (!fork_env || strcmp(fork_env, "no") != 0) /* a crash needs a child */
        tcase_add_test(tc, writes_and_crashes);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
