/*
 * fuzz_common.h - helpers shared by the libFuzzer targets (see
 * docs/robustness.md). Each target writes the fuzzer's bytes to files in a
 * private temporary directory (tmpfs when available) and calls the public
 * loader on them, the way an application meets outside bytes.
 */
#ifndef REC_FUZZ_COMMON_H
#define REC_FUZZ_COMMON_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "movieme.h"

/* The per-target entry points (also replayed by the Check suite
   tests/check_fuzz_regressions.c). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fz_movielens_one(int layout, const uint8_t *data, size_t size);
int fz_model_one(const uint8_t *data, size_t size);

static char fz_dir[512];

static void fz_cleanup(void);

/* Create the per-process temporary directory once. */
static const char *fz_tmpdir(void)
{
    if (!fz_dir[0]) {
        const char *base = getenv("REC_FUZZ_TMP");
        if (!base)
            base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fz_dir, sizeof fz_dir, "%s/movieme-fuzz-XXXXXX", base);
        if (!mkdtemp(fz_dir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(fz_cleanup);
    }
    return fz_dir;
}

static const char *fz_path(const char *name)
{
    static char buf[8][1024];
    static int slot;
    slot = (slot + 1) % 8;
    snprintf(buf[slot], sizeof buf[0], "%s/%s", fz_tmpdir(), name);
    return buf[slot];
}

/* Write bytes to <tmpdir>/name (replacing it). */
static void fz_write(const char *name, const uint8_t *data, size_t size)
{
    const char *p = fz_path(name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        perror(p);
        abort();
    }
    if (size && fwrite(data, 1, size, f) != size) {
        perror(p);
        abort();
    }
    if (fclose(f) != 0) {
        perror(p);
        abort();
    }
}

static void fz_remove(const char *name) { (void)unlink(fz_path(name)); }

static void fz_cleanup(void)
{
    static const char *names[] = {"ratings.csv", "movies.csv", "u.data",
                                  "u.item",      "u.genre",    "ratings.dat",
                                  "movies.dat",  "model.bin",  "model2.bin",
                                  "model2.bin.tmp", "links.csv", "tags.csv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        fz_remove(names[i]);
    if (fz_dir[0])
        (void)rmdir(fz_dir);
}

/* Non-zero if s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
static int fz_utf8_ok(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t len;
        unsigned min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, min = 0x80, c &= 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, min = 0x800, c &= 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, min = 0x10000, c &= 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            c = (c << 6) | (p[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

/* The invariants of a returned error: a known code, a NUL-terminated
   non-empty message. */
static void fz_check_error(rec_status st, const rec_error *err)
{
    if (st > 0 || st < REC_ECANCELED) {
        fprintf(stderr, "unknown status %d\n", st);
        abort();
    }
    if (st != REC_OK) {
        if (err->code != st) {
            fprintf(stderr, "err.code %d != status %d\n", err->code, st);
            abort();
        }
        if (memchr(err->msg, '\0', sizeof err->msg) == NULL ||
            err->msg[0] == '\0') {
            fprintf(stderr, "status %d without a message\n", st);
            abort();
        }
    }
}

#define FZ_CHECK(cond)                                                      \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,     \
                    __LINE__, #cond);                                       \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* Check the metadata strings of one movie: UTF-8, NUL-terminated. */
static void fz_check_info(const rec_movie_info *mi)
{
    FZ_CHECK(mi->title != NULL && mi->genres != NULL);
    FZ_CHECK(fz_utf8_ok(mi->title, strlen(mi->title)));
    FZ_CHECK(fz_utf8_ok(mi->genres, strlen(mi->genres)));
    FZ_CHECK(mi->movie_id >= 0);
    FZ_CHECK(mi->mean_rating == mi->mean_rating); /* not NaN */
}

#endif
