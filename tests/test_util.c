#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const char *tmp_path(const char *name)
{
    static char dir[256];
    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/movieme-test-XXXXXX", t ? t : "/tmp");
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
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
