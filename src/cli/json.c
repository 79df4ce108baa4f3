/*
 * json.c - a small streaming JSON writer for `movieme --json`: one object
 * on stdout, strings escaped per RFC 8259, invalid UTF-8 replaced with
 * U+FFFD so the output always parses, non-finite numbers written as null.
 */
#include "cli.h"

#include <math.h>
#include <string.h>

void json_init(json *j, FILE *f)
{
    j->f = f;
    j->depth = 0;
    j->first[0] = true;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not valid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    unsigned cp = c & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void json_write_string(FILE *f, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', f);
    while (*s) {
        unsigned c = *s;
        switch (c) {
        case '"': fputs("\\\"", f); s++; continue;
        case '\\': fputs("\\\\", f); s++; continue;
        case '\n': fputs("\\n", f); s++; continue;
        case '\r': fputs("\\r", f); s++; continue;
        case '\t': fputs("\\t", f); s++; continue;
        case '\b': fputs("\\b", f); s++; continue;
        case '\f': fputs("\\f", f); s++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7F) {
            fprintf(f, "\\u%04x", c);
            s++;
            continue;
        }
        size_t n = utf8_len(s);
        if (n == 0) {
            fputs("\\ufffd", f);
            s++;
        } else {
            fwrite(s, 1, n, f);
            s += n;
        }
    }
    fputc('"', f);
}

/* Comma and key before a value. */
static void member(json *j, const char *key)
{
    if (!j->first[j->depth])
        fputc(',', j->f);
    j->first[j->depth] = false;
    if (key) {
        json_write_string(j->f, key);
        fputc(':', j->f);
    }
}

static void open_nested(json *j, const char *key, char open, char close)
{
    member(j, key);
    fputc(open, j->f);
    if (j->depth + 1 < (int)(sizeof j->first / sizeof j->first[0]))
        j->depth++;
    j->first[j->depth] = true;
    j->close[j->depth] = close;
}

static void close_nested(json *j)
{
    if (j->depth > 0)
        fputc(j->close[j->depth--], j->f);
}

void json_object(json *j, const char *key) { open_nested(j, key, '{', '}'); }
void json_end_object(json *j) { close_nested(j); }
void json_array(json *j, const char *key) { open_nested(j, key, '[', ']'); }
void json_end_array(json *j) { close_nested(j); }

void json_str(json *j, const char *key, const char *v)
{
    member(j, key);
    if (v)
        json_write_string(j->f, v);
    else
        fputs("null", j->f);
}

void json_int(json *j, const char *key, long long v)
{
    member(j, key);
    fprintf(j->f, "%lld", v);
}

void json_num(json *j, const char *key, double v)
{
    member(j, key);
    if (isfinite(v))
        fprintf(j->f, "%.10g", v);
    else
        fputs("null", j->f);
}

void json_bool(json *j, const char *key, bool v)
{
    member(j, key);
    fputs(v ? "true" : "false", j->f);
}

void json_null(json *j, const char *key)
{
    member(j, key);
    fputs("null", j->f);
}

bool json_finish(json *j)
{
    while (j->depth > 0)
        close_nested(j);
    fputc('\n', j->f);
    return fflush(j->f) == 0 && !ferror(j->f);
}
