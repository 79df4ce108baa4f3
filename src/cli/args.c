/*
 * args.c - option parsing for `movieme`: long options with a value given
 * as "--opt V" or "--opt=V", short aliases, repeated options, strict
 * numbers. Every error names the option and the value at fault.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "movieme%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'movieme %s%s--help'.\n", cmd ? cmd->name : "",
            cmd ? " " : "");
}

static int find_opt(const cli_cmd *cmd, const char *arg, size_t len)
{
    for (int i = 0; cmd->opts[i].name; i++) {
        const cli_opt *o = &cmd->opts[i];
        if ((strlen(o->name) == len && strncmp(o->name, arg, len) == 0) ||
            (o->alias && strlen(o->alias) == len &&
             strncmp(o->alias, arg, len) == 0))
            return i;
    }
    return -1;
}

/* "--data --json": the value is missing, not "--json". */
static bool looks_like_opt(const cli_cmd *cmd, const char *arg)
{
    if (arg[0] != '-')
        return false;
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    return find_opt(cmd, arg, len) >= 0 || strcmp(arg, "--help") == 0 ||
           strcmp(arg, "-h") == 0;
}

bool cli_parse(cli_args *a, const cli_cmd *cmd, int argc, char **argv)
{
    a->cmd = cmd;
    a->n_items = 0;
    a->help = false;
    a->items = calloc((size_t)argc + 1, sizeof *a->items);
    if (!a->items) {
        fprintf(stderr, "movieme: out of memory\n");
        return false;
    }
    int cont = -1; /* repeatable option that takes bare values that follow */
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = true;
            cont = -1;
            continue;
        }
        if (arg[0] != '-' || arg[1] == '\0') {
            /* "--rate 1=5 2=4": more values for the option just given. */
            if (cont >= 0) {
                a->items[a->n_items++] = (cli_item){cont, arg};
                continue;
            }
            cli_usage_error(cmd, "unexpected argument '%s'", arg);
            return false;
        }
        cont = -1;
        const char *eq = strchr(arg, '=');
        size_t len = eq && arg[1] == '-' ? (size_t)(eq - arg) : strlen(arg);
        int k = find_opt(cmd, arg, len);
        if (k < 0) {
            cli_usage_error(cmd, "unknown option '%.*s'", (int)len, arg);
            return false;
        }
        const cli_opt *o = &cmd->opts[k];
        const char *value = NULL;
        if (o->metavar) {
            if (eq && arg[1] == '-') {
                value = eq + 1;
            } else if (i + 1 < argc && !looks_like_opt(cmd, argv[i + 1])) {
                value = argv[++i];
            } else {
                cli_usage_error(cmd, "option %s needs a value %s", o->name,
                                o->metavar);
                return false;
            }
        } else if (eq && arg[1] == '-') {
            cli_usage_error(cmd, "option %s takes no value", o->name);
            return false;
        }
        if (!o->repeat && cli_count(a, o->name) > 0) {
            cli_usage_error(cmd, "option %s given more than once", o->name);
            return false;
        }
        a->items[a->n_items++] = (cli_item){k, value};
        if (o->repeat && o->metavar)
            cont = k;
    }
    return true;
}

void cli_args_free(cli_args *a)
{
    free(a->items);
    a->items = NULL;
    a->n_items = 0;
}

static bool is_opt(const cli_args *a, const cli_item *it, const char *name)
{
    return strcmp(a->cmd->opts[it->opt].name, name) == 0;
}

const char *cli_get(const cli_args *a, const char *name)
{
    for (int i = a->n_items - 1; i >= 0; i--)
        if (is_opt(a, &a->items[i], name))
            return a->items[i].value ? a->items[i].value : "";
    return NULL;
}

int cli_count(const cli_args *a, const char *name)
{
    int n = 0;
    for (int i = 0; i < a->n_items; i++)
        n += is_opt(a, &a->items[i], name);
    return n;
}

int cli_values(const cli_args *a, const char *name, const char **out, int cap)
{
    int n = 0;
    for (int i = 0; i < a->n_items; i++)
        if (is_opt(a, &a->items[i], name) && n < cap)
            out[n++] = a->items[i].value;
    return n;
}

void cli_help(FILE *f, const cli_cmd *cmd)
{
    fprintf(f, "Usage: movieme %s %s\n\n%s\n\nOptions:\n", cmd->name,
            cmd->synopsis, cmd->summary);
    for (int i = 0; cmd->opts[i].name; i++) {
        const cli_opt *o = &cmd->opts[i];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s%s%s", o->alias ? o->alias : "",
                 o->alias ? ", " : "", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        fprintf(f, "  %-26s %s\n", left, o->help);
    }
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}

/* Numbers: no leading blanks (strto* would skip them), nothing after. */
static bool plain(const char *s)
{
    return s && *s && !(*s == ' ' || *s == '\t' || *s == '\n' ||
                         *s == '\r' || *s == '\v' || *s == '\f');
}

bool cli_long(long *out, const cli_cmd *cmd, const char *opt, const char *s,
              long min, long max)
{
    char *end;
    errno = 0;
    long v = plain(s) ? strtol(s, &end, 10) : 0;
    if (!plain(s) || *end != '\0') {
        cli_usage_error(cmd, "%s: '%s' is not an integer", opt, s ? s : "");
        return false;
    }
    if (errno == ERANGE || v < min || v > max) {
        cli_usage_error(cmd, "%s: %s is out of range (%ld to %ld)", opt, s,
                        min, max);
        return false;
    }
    *out = v;
    return true;
}

bool cli_u64(uint64_t *out, const cli_cmd *cmd, const char *opt,
             const char *s)
{
    char *end;
    errno = 0;
    /* strtoull would accept "-1" and wrap it: refuse any sign. */
    bool ok = plain(s) && *s != '-' && *s != '+';
    unsigned long long v = ok ? strtoull(s, &end, 10) : 0;
    if (!ok || *end != '\0') {
        cli_usage_error(cmd, "%s: '%s' is not a non-negative integer", opt,
                        s ? s : "");
        return false;
    }
    if (errno == ERANGE || v > UINT64_MAX) {
        cli_usage_error(cmd, "%s: %s is out of range", opt, s);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

bool cli_double(double *out, const cli_cmd *cmd, const char *opt,
                const char *s, double min, double max)
{
    char *end;
    errno = 0;
    double v = plain(s) ? strtod(s, &end) : 0;
    if (!plain(s) || *end != '\0' || !isfinite(v)) {
        cli_usage_error(cmd, "%s: '%s' is not a number", opt, s ? s : "");
        return false;
    }
    if (v < min || v > max) {
        cli_usage_error(cmd, "%s: %s is out of range (%g to %g)", opt, s, min,
                        max);
        return false;
    }
    *out = v;
    return true;
}
