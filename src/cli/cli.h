/*
 * cli.h - pieces of the `movieme` command: option parsing with strict
 * numbers (args.c), a small streaming JSON writer (json.c), what the
 * commands share (common.c) and the commands themselves (cmd_NAME.c).
 */
#ifndef MOVIEME_CLI_H
#define MOVIEME_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes. */
#define EXIT_OK 0
#define EXIT_FAIL 1  /* the job failed: missing file, bad data, ... */
#define EXIT_USAGE 2 /* bad command line */

/* ---- options (args.c) ---- */

typedef struct cli_opt {
    const char *name;    /* "--rank" */
    const char *alias;   /* "-n", or NULL */
    const char *metavar; /* "K" for an option with a value, NULL for a flag */
    const char *help;
    bool repeat;         /* may be given more than once */
} cli_opt;

typedef struct cli_cmd {
    const char *name;    /* "train" */
    const char *synopsis;
    const char *summary;
    const cli_opt *opts; /* terminated by a zeroed entry */
} cli_cmd;

/* One option occurrence, in command-line order. */
typedef struct cli_item {
    int opt;             /* index into cmd->opts */
    const char *value;   /* NULL for a flag */
} cli_item;

typedef struct cli_args {
    const cli_cmd *cmd;
    cli_item *items;
    int n_items;
    bool help;
} cli_args;

/* Parse argv (after the command name). Prints the error to stderr and
   returns false on a usage error. items are allocated: cli_args_free. */
bool cli_parse(cli_args *a, const cli_cmd *cmd, int argc, char **argv);
void cli_args_free(cli_args *a);
/* Last value of option `name` (a flag gives ""), or NULL if absent. */
const char *cli_get(const cli_args *a, const char *name);
/* Number of times option `name` was given. */
int cli_count(const cli_args *a, const char *name);
/* The values of option `name`, in order (first n of them). */
int cli_values(const cli_args *a, const char *name, const char **out, int cap);

/* Print the command's help to `f`. */
void cli_help(FILE *f, const cli_cmd *cmd);
/* Report a usage error: "movieme CMD: message" and a pointer to --help. */
void cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Strict numbers: the whole string, no blanks, in range; on failure a
   usage error naming the option is printed and false returned. */
bool cli_long(long *out, const cli_cmd *cmd, const char *opt, const char *s,
              long min, long max);
bool cli_u64(uint64_t *out, const cli_cmd *cmd, const char *opt,
             const char *s);
bool cli_double(double *out, const cli_cmd *cmd, const char *opt,
                const char *s, double min, double max);

/* ---- JSON (json.c) ---- */

typedef struct json {
    FILE *f;
    int depth;
    bool first[64]; /* nothing written yet at this depth */
    char close[64]; /* the closing bracket of each open container */
} json;

void json_init(json *j, FILE *f);
/* `key` is the member name inside an object, NULL inside an array or at
   the top level. */
void json_object(json *j, const char *key);
void json_end_object(json *j);
void json_array(json *j, const char *key);
void json_end_array(json *j);
void json_str(json *j, const char *key, const char *v); /* NULL -> null */
void json_int(json *j, const char *key, long long v);
void json_num(json *j, const char *key, double v);      /* NaN/inf -> null */
void json_bool(json *j, const char *key, bool v);
void json_null(json *j, const char *key);
/* Close what is still open, end with a newline; false if writing failed. */
bool json_finish(json *j);
/* Write `s` as a JSON string literal (escaped; bad UTF-8 -> U+FFFD). */
void json_write_string(FILE *f, const char *s);

/* ---- what the commands share (common.c) ---- */

#include "movieme.h"

#define OPT_JSON {"--json", NULL, NULL, "print one JSON object on stdout", false}
#define OPT_QUIET {"--quiet", "-q", NULL, "no progress on stderr", false}
#define OPT_N(what) {"-n", "--count", "N", "how many " what " (default 10)", false}
#define OPT_END {NULL, NULL, NULL, NULL, false}

/* One run of a command. */
typedef struct ctx {
    const cli_cmd *cmd;
    cli_args args;
    bool json;
    bool quiet;
    json j;
} ctx;

/* Seconds on the monotonic clock. */
double now(void);
/* Progress on stderr unless --quiet. */
void progress(const ctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* A library failure: message on stderr, and an error object with --json.
   Returns EXIT_FAIL. */
int fail(ctx *c, const rec_error *e);
int fail_msg(ctx *c, rec_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Finish the output: stdout must really have been written. */
int done(ctx *c);
/* Value of a required option, or NULL after a usage error. */
const char *need(const ctx *c, const char *name, const char *metavar);
/* Optional numeric options with a default (false after a usage error). */
bool opt_long(long *out, const ctx *c, const char *name, long def, long min,
              long max);
bool opt_double(double *out, const ctx *c, const char *name, double def,
                double min, double max);
bool parse_id(int32_t *out, const ctx *c, const char *name, const char *s);
/* Load with a progress line. */
rec_status load_data(rec_ratings **out, ctx *c, const char *path,
                     rec_error *e);
rec_status load_model(rec_model **out, ctx *c, const char *path,
                      rec_error *e);
/* One movie of a result list, as a JSON object or a line of text. */
void emit_movie(ctx *c, const char *key, size_t rank, const rec_movie_info *mi,
                double score, bool has_score);
/* A result list of a model: titles from the model itself. */
void emit_scored(ctx *c, const char *key, const rec_model *m,
                 const rec_scored *list, size_t n);
/* With --json: open the top-level object and write "command". */
void begin_json(ctx *c);
/* Evaluation results as a JSON object / indented text. */
void json_eval(json *j, const char *key, const rec_eval_result *ev);
void text_eval(const rec_eval_result *ev, const char *indent);

/* ---- tuning (cmd_tune.c), for tune and train --tune ---- */

#define TUNE_OPTS                                                            \
    {"--metric", NULL, "rmse|ndcg",                                          \
     "tune: metric to optimise (default rmse; ndcg for --implicit)", false}, \
    {"--k", NULL, "K", "tune: cut-off of nDCG (default 10)", false},         \
    {"--validation", NULL, "F",                                              \
     "tune: hold out a random fraction F of ratings (default 0.1)", false},  \
    {"--folds", NULL, "K", "tune: K-fold cross-validation instead", false},  \
    {"--tune-leave-out", NULL, "K",                                          \
     "tune: hold out K ratings per user instead", false},                   \
    {"--split-seed", NULL, "S", "tune: seed of the validation split "        \
     "(default 1)", false},                                                 \
    {"--grid", NULL, "NAME=V1,V2,...",                                       \
     "tune: values to search, NAME reg, rank, alpha (--implicit), "         \
     "bias_reg, bias_prior, blend, blend_shrink, preference_reg or "         \
     "preference_alpha (the last two with --metric ndcg) (default "          \
     "reg=0.3,0.2,0.16,0.14,0.12,0.1,0.08,0.05,0.03,0.02,0.012); "           \
     "repeatable", true},                                                    \
    {"--no-warm", NULL, NULL, "tune: every point starts cold", false},       \
    {"--warm-iters", NULL, "N",                                              \
     "tune: iterations of a warm point (default iters/3, at least 2)",       \
     false},                                                                \
    {"--early-stop", NULL, "M",                                              \
     "tune: abandon a warm point worse than the best by this share after "   \
     "its first iteration (default 0.02; 0 = never)", false},               \
    {"--patience", NULL, "N",                                                \
     "tune: end a reg path after N worse points in a row (default 1; 0 = "   \
     "never)", false},                                                       \
    {"--no-rating-pref", NULL, NULL,                                         \
     "tune: do not fit the preference term of predicted ratings", false},    \
    {"--no-auto-blend", NULL, NULL,                                          \
     "tune: rank the best point at the base blend only (default: also at "   \
     "blend/2, blend/4 and 0, kept when > 2% better)", false}

/* A finished search: the options it ran with (grid lists cleared), the
   result and the points (n of them). */
typedef struct tune_outcome {
    rec_tune_options opts;
    rec_tune_result result;
    rec_tune_point *points;
    size_t n;
} tune_outcome;

/* Tune on `data` from `base` with the command's TUNE_OPTS, progress on
   stderr. Returns EXIT_OK, EXIT_USAGE or EXIT_FAIL (reported); on EXIT_OK
   free with tune_free. */
int tune_run(tune_outcome *t, ctx *c, const rec_ratings *data,
             const rec_als_params *base, rec_error *e);
/* The table (text) or a "tune" member (--json, inside the open object). */
void tune_emit(ctx *c, const tune_outcome *t);
void tune_free(tune_outcome *t);

/* ---- the commands (cmd_NAME.c): options and runner ---- */

extern const cli_opt stats_opts[], train_opts[], eval_opts[],
    recommend_opts[], similar_opts[], tune_opts[];
int cmd_tune(ctx *c);
int cmd_stats(ctx *c);
int cmd_train(ctx *c);
int cmd_eval(ctx *c);
int cmd_recommend(ctx *c);
/* recommend --all (cmd_recommend_all.c), after --model and -n. */
int recommend_all(ctx *c, const char *model, long n,
                  const rec_top_n_options *opts);
int cmd_similar(ctx *c);
/* Fill the help texts of train's options from the library's defaults. */
void train_help_init(void);

#endif
