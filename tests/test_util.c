/* nftw() is XSI */
#define _XOPEN_SOURCE 700
#include "test_util.h"

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char buf[8][4096];
static int slot;

static char *next_buf(void)
{
    slot = (slot + 1) % 8;
    return buf[slot];
}

const char *fixture(const char *name)
{
    char *b = next_buf();
    snprintf(b, sizeof buf[0], "%s/%s", REC_TEST_DATA, name);
    return b;
}

const char *repo_data(const char *name)
{
    char *b = next_buf();
    snprintf(b, sizeof buf[0], "%s/%s", REC_REPO_DATA, name);
    return b;
}

/* Temporary files: one root directory per test process, made before Check
   forks its tests (so every child sees the same root) and removed with
   everything in it when the suite ends, also when tests failed or crashed
   in their forked children. Each process (each forked test) gets a fresh
   directory inside the root on its first tmp_path(), as before. The root is
   also removed at exit and on SIGINT/SIGTERM/SIGABRT of the process that
   made it (CK_FORK=no runs, sanitizer aborts), never by a child. */
static char root[256];
static pid_t root_owner;

static int remove_entry(const char *path, const struct stat *sb, int flag,
                        struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

static void remove_root(void)
{
    if (root[0] && getpid() == root_owner) {
        nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        root[0] = '\0';
    }
}

static void remove_root_on_signal(int sig)
{
    remove_root(); /* best effort: the process is going away */
    signal(sig, SIG_DFL);
    raise(sig);
}

const char *test_tmp_root(void)
{
    if (!root[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(root, sizeof root, "%s/movieme-test-XXXXXX",
                 t && *t ? t : "/tmp");
        if (!mkdtemp(root)) {
            perror("mkdtemp");
            abort();
        }
        root_owner = getpid();
        atexit(remove_root);
        signal(SIGINT, remove_root_on_signal);
        signal(SIGTERM, remove_root_on_signal);
        signal(SIGABRT, remove_root_on_signal);
    }
    return root;
}

const char *tmp_path(const char *name)
{
    static char dir[512];
    if (!dir[0]) { /* a forked test starts with the parent's empty dir */
        snprintf(dir, sizeof dir, "%s/t-XXXXXX", test_tmp_root());
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            abort();
        }
    }
    char *b = next_buf();
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

const char *write_tmp(const char *name, const char *text)
{
    const char *p = tmp_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(text, 1, strlen(text), f) != strlen(text)) {
        perror(p);
        abort();
    }
    fclose(f);
    return p;
}

int run_suite(Suite *s)
{
    test_tmp_root(); /* before the forks: one root for all the tests */
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    remove_root();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
