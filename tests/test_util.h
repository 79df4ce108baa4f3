/* Shared helpers for the Check suites. */
#ifndef REC_TEST_UTIL_H
#define REC_TEST_UTIL_H

#include <check.h>
#include <stddef.h>

#include "movieme.h"

/* Path of a fixture under tests/data (static buffer per call site is not
   thread-safe: tests are single-threaded where they use it). */
const char *fixture(const char *name);
/* Path under the repository's data/ (the bundled ml-latest-small). */
const char *repo_data(const char *name);
/* A path inside a fresh temporary directory of this process (each forked
   test gets its own). Everything is removed when run_suite() returns, at
   exit and on SIGINT/SIGTERM/SIGABRT, also after failures. */
const char *tmp_path(const char *name);
/* The root all temporary directories of this run live in ($TMPDIR or /tmp,
   movieme-test-XXXXXX); made on first use, removed as above. */
const char *test_tmp_root(void);
/* Write `text` to a fresh temporary file named `name`; returns its path. */
const char *write_tmp(const char *name, const char *text);
/* Run a suite with CK_NORMAL output; returns the process exit code. */
int run_suite(Suite *s);

#define ck_assert_ok(expr, errp)                                             \
    do {                                                                     \
        const rec_error *ep_ = (errp); /* no -Waddress on &e */             \
        rec_status st_ = (expr);                                             \
        ck_assert_msg(st_ == REC_OK, "%s -> %d: %s", #expr, st_,             \
                      ep_ ? ep_->msg : "");                                  \
    } while (0)

#endif
