/*
 * cmd_recommend_all.c - `movieme recommend --all [--users FILE] -n N
 * --out FILE`: the top N of every user (or of the users listed in FILE,
 * one id per line) through the batch call (rec_top_n_each), written as CSV
 * (user_id,rank,movie_id,score,rating) or, with --json, one JSON object per user
 * and line. A progress line on stderr; results are streamed block by block.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The user ids of FILE (one per line; blank lines and '#' comments
   skipped). Prints the error (file and line) and returns false. */
static bool read_users(int32_t **out, size_t *n_out, const ctx *c,
                       const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "movieme %s: %s: %s\n", c->cmd->name, path,
                strerror(errno));
        return false;
    }
    size_t n = 0, cap = 1024, line = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    char buf[256];
    bool ok = ids != NULL;
    while (ok && fgets(buf, sizeof buf, f)) {
        line++;
        char *s = buf + strspn(buf, " \t");
        s[strcspn(s, "\r\n")] = '\0';
        char *end = s + strlen(s);
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (!*s || *s == '#')
            continue;
        char *e;
        errno = 0;
        long v = strtol(s, &e, 10);
        if (*e || errno || v < 0 || v > INT32_MAX) {
            fprintf(stderr, "movieme %s: %s:%zu: '%s' is not a user id\n",
                    c->cmd->name, path, line, s);
            ok = false;
            break;
        }
        if (n == cap) {
            int32_t *t = realloc(ids, 2 * cap * sizeof *ids);
            if (!t) {
                ok = false;
                break;
            }
            ids = t;
            cap *= 2;
        }
        ids[n++] = (int32_t)v;
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "movieme %s: %s: read error\n", c->cmd->name, path);
        ok = false;
    }
    fclose(f);
    if (!ok) {
        free(ids);
        return false;
    }
    *out = ids;
    *n_out = n;
    return true;
}

typedef struct all_state {
    ctx *c;
    FILE *f;
    size_t done, total;
    double t0;
} all_state;

static int on_block(void *ud, const int32_t *users, size_t nu,
                    const rec_scored *top, const size_t *n_out, size_t n)
{
    all_state *s = ud;
    for (size_t i = 0; i < nu; i++) {
        const rec_scored *row = top + i * n;
        if (s->c->json) {
            json j;
            json_init(&j, s->f);
            json_object(&j, NULL);
            json_int(&j, "user", users[i]);
            json_array(&j, "recommendations");
            for (size_t r = 0; r < n_out[i]; r++) {
                json_object(&j, NULL);
                json_int(&j, "rank", (long long)r + 1);
                json_int(&j, "movie_id", row[r].movie_id);
                json_num(&j, "score", row[r].score);
                json_num(&j, "rating", row[r].rating);
                json_end_object(&j);
            }
            json_end_array(&j);
            json_end_object(&j);
            json_finish(&j);
        } else {
            for (size_t r = 0; r < n_out[i]; r++)
                fprintf(s->f, "%d,%zu,%d,%.6g,%.3g\n", (int)users[i], r + 1,
                        (int)row[r].movie_id, (double)row[r].score,
                        (double)row[r].rating);
        }
    }
    s->done += nu;
    progress(s->c, "\rranked %zu/%zu users (%.1f s)", s->done, s->total,
             now() - s->t0);
    return ferror(s->f) ? 1 : 0;
}

int recommend_all(ctx *c, const char *model, long n,
                  const rec_top_n_options *opts)
{
    const char *out = need(c, "--out", "FILE");
    if (!out)
        return EXIT_USAGE;
    if (cli_get(&c->args, "--user") || cli_count(&c->args, "--rate")) {
        cli_usage_error(c->cmd, "give --all or --user/--rate, not both");
        return EXIT_USAGE;
    }
    const char *users_path = cli_get(&c->args, "--users");
    int32_t *ids = NULL;
    size_t n_ids = 0;
    if (users_path && !read_users(&ids, &n_ids, c, users_path))
        return EXIT_FAIL;
    rec_error e = {0};
    rec_model *m = NULL;
    int rc = EXIT_OK;
    FILE *f = NULL;
    if (load_model(&m, c, model, &e) != REC_OK) {
        rc = fail(c, &e);
        goto done;
    }
    f = strcmp(out, "-") == 0 ? stdout : fopen(out, "w");
    if (!f) {
        rc = fail_msg(c, REC_EIO, "cannot write %s: %s", out, strerror(errno));
        goto done;
    }
    if (!c->json)
        fprintf(f, "user_id,rank,movie_id,score,rating\n");
    all_state s = {.c = c, .f = f, .total = ids ? n_ids : rec_model_n_users(m),
                   .t0 = now()};
    rec_status st = rec_top_n_each(m, ids, n_ids, (size_t)n, opts, on_block,
                                   &s, &e);
    progress(c, "\n");
    bool write_ok = !ferror(f);
    if (f != stdout)
        write_ok = fclose(f) == 0 && write_ok;
    else
        write_ok = fflush(f) == 0 && write_ok;
    f = NULL;
    if (st == REC_ECANCELED || !write_ok)
        rc = fail_msg(c, REC_EIO, "cannot write %s", out);
    else if (st != REC_OK)
        rc = fail(c, &e);
    else
        progress(c, "wrote the top %ld of %zu users to %s\n", n, s.done, out);
done:
    if (f && f != stdout)
        fclose(f);
    free(ids);
    rec_model_free(m);
    return rc;
}
