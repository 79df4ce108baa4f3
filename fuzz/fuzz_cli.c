/*
 * fuzz_cli.c - libFuzzer target for the hand-written parts of the movieme
 * command that read outside bytes: the option parser (src/cli/args.c: long
 * options with "--opt V" and "--opt=V", aliases, repeated options with
 * trailing bare values, strict numbers) and the JSON string writer
 * (src/cli/json.c), whose output must be valid JSON for any input bytes.
 *
 * The input is split at NUL bytes into argv strings. The command table
 * mirrors the shape of movieme's (flags, aliases, values, a repeatable
 * option such as --rate MOVIE=RATING ...).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_opt opts[] = {
    {"--data", NULL, "PATH", "dataset", false},
    {"--rank", "-k", "K", "factors", false},
    {"--lambda", NULL, "L", "regularisation", false},
    {"--seed", NULL, "S", "seed", false},
    {"--top", "-n", "N", "results", false},
    {"--rate", "-r", "MOVIE=RATING", "a rating", true},
    {"--json", NULL, NULL, "JSON output", false},
    {"--verbose", "-v", NULL, "more", true},
    {NULL, NULL, NULL, NULL, false},
};
static const cli_cmd cmd = {"train", "[options]", "fuzzing", opts};

#define CHECK(c)                                                             \
    do {                                                                     \
        if (!(c)) {                                                          \
            fprintf(real_stderr, "%s:%d: invariant failed: %s\n", __FILE__,  \
                    __LINE__, #c);                                           \
            abort();                                                         \
        }                                                                    \
    } while (0)

static FILE *real_stderr;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Usage errors go to stderr; keep the fuzzer's output readable. The
       sanitizers write to fd 2 directly, so their reports still show. */
    real_stderr = stderr;
    FILE *null = fopen("/dev/null", "w");
    if (null)
        stderr = null;
    return 0;
}

/* Check that `s` (len bytes) is one JSON string literal: quotes at both
   ends, no raw control characters, escapes well formed, valid UTF-8. */
static void check_json_string(const char *s, size_t len)
{
    CHECK(len >= 2 && s[0] == '"' && s[len - 1] == '"');
    for (size_t i = 1; i + 1 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        CHECK(c >= 0x20);
        CHECK(c != '"');
        if (c == '\\') {
            i++;
            CHECK(i + 1 < len);
            char e = s[i];
            if (e == 'u') {
                CHECK(i + 4 < len);
                for (int k = 1; k <= 4; k++)
                    CHECK(strchr("0123456789abcdefABCDEF", s[i + k]) != NULL);
                i += 4;
            } else {
                CHECK(strchr("\"\\/bfnrt", e) != NULL);
            }
        } else if (c >= 0x80) {
            size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4 : 0;
            CHECK(n != 0 && i + n < len);
            unsigned cp = c & (0x7Fu >> n);
            for (size_t k = 1; k < n; k++) {
                CHECK(((unsigned char)s[i + k] & 0xC0) == 0x80);
                cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
            }
            CHECK(cp >= (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u));
            CHECK(cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF));
            i += n - 1;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* NUL-separated argv, NUL-terminated copies */
    char *copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *argv[65];
    int argc = 0;
    for (size_t i = 0; i <= size && argc < 64;) {
        argv[argc++] = copy + i;
        i += strlen(copy + i) + 1;
    }
    argv[argc] = NULL;

    cli_args a;
    memset(&a, 0, sizeof a);
    if (cli_parse(&a, &cmd, argc, argv)) {
        CHECK(a.n_items <= argc);
        long k;
        uint64_t seed;
        double lambda;
        const char *v;
        if ((v = cli_get(&a, "--rank")) != NULL)
            (void)cli_long(&k, &cmd, "--rank", v, 1, 4096);
        if ((v = cli_get(&a, "--top")) != NULL)
            (void)cli_long(&k, &cmd, "--top", v, 0, 1000000);
        if ((v = cli_get(&a, "--seed")) != NULL)
            (void)cli_u64(&seed, &cmd, "--seed", v);
        if ((v = cli_get(&a, "--lambda")) != NULL)
            if (cli_double(&lambda, &cmd, "--lambda", v, 0, 1e6))
                CHECK(lambda >= 0 && lambda <= 1e6);
        const char *rates[64];
        int n = cli_values(&a, "--rate", rates, 64);
        CHECK(n == cli_count(&a, "--rate") || n == 64);
        for (int i = 0; i < n; i++)
            CHECK(rates[i] != NULL);
        CHECK(cli_count(&a, "--json") <= 1);
    }
    cli_args_free(&a);

    /* every argument, as a JSON string */
    for (int i = 0; i < argc; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        CHECK(f != NULL);
        json_write_string(f, argv[i]);
        CHECK(fclose(f) == 0);
        check_json_string(buf, len);
        free(buf);
    }
    /* and a whole document */
    char *doc = NULL;
    size_t dlen = 0;
    FILE *f = open_memstream(&doc, &dlen);
    CHECK(f != NULL);
    json j;
    json_init(&j, f);
    json_object(&j, NULL);
    json_array(&j, argc > 0 ? argv[0] : "args");
    for (int i = 1; i < argc; i++)
        json_str(&j, NULL, argv[i]);
    json_end_array(&j);
    json_num(&j, "n", (double)size / 3.0);
    json_end_object(&j);
    (void)json_finish(&j);
    CHECK(fclose(f) == 0);
    CHECK(dlen >= 2 && doc[0] == '{');
    free(doc);
    free(copy);
    return 0;
}
