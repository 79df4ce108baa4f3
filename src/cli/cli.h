/*
 * cli.h - pieces of the `movieme` command: option parsing with strict
 * numbers (args.c) and a small streaming JSON writer (json.c).
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

#endif
