/* metadata.c - movie titles, genres and years, stored as offsets into one
   string pool so that a catalogue of 100k movies is three arrays and one
   allocation, cheap to copy and to write to a model file. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void rec__meta_init(rec_movie_meta *mm)
{
    memset(mm, 0, sizeof *mm);
}

void rec__meta_free(rec_movie_meta *mm)
{
    if (!mm)
        return;
    free(mm->pool);
    free(mm->title_off);
    free(mm->genres_off);
    free(mm->year);
    rec__meta_init(mm);
}

static rec_status pool_reserve(rec_movie_meta *mm, size_t extra)
{
    if (mm->pool && mm->pool_len + extra <= mm->pool_cap)
        return REC_OK;
    size_t cap = mm->pool_cap ? mm->pool_cap : 64;
    while (cap < mm->pool_len + extra + 1) {
        if (cap > SIZE_MAX / 2)
            return REC_ENOMEM;
        cap *= 2;
    }
    char *p = realloc(mm->pool, cap);
    if (!p)
        return REC_ENOMEM;
    if (!mm->pool) {
        p[0] = '\0';
        mm->pool_len = 1;
    }
    mm->pool = p;
    mm->pool_cap = cap;
    return REC_OK;
}

static rec_status arrays_reserve(rec_movie_meta *mm, size_t n)
{
    if (n <= mm->cap)
        return REC_OK;
    size_t cap = mm->cap ? mm->cap : 16;
    while (cap < n)
        cap *= 2;
    uint64_t *t = realloc(mm->title_off, cap * sizeof *t);
    if (!t)
        return REC_ENOMEM;
    mm->title_off = t;
    uint64_t *g = realloc(mm->genres_off, cap * sizeof *g);
    if (!g)
        return REC_ENOMEM;
    mm->genres_off = g;
    int32_t *y = realloc(mm->year, cap * sizeof *y);
    if (!y)
        return REC_ENOMEM;
    mm->year = y;
    mm->cap = cap;
    return REC_OK;
}

rec_status rec__meta_resize(rec_movie_meta *mm, size_t n)
{
    rec_status st = pool_reserve(mm, 0);
    if (st == REC_OK)
        st = arrays_reserve(mm, n);
    if (st != REC_OK)
        return st;
    for (size_t i = mm->n; i < n; i++) {
        mm->title_off[i] = 0;
        mm->genres_off[i] = 0;
        mm->year[i] = 0;
    }
    mm->n = n;
    return REC_OK;
}

rec_status rec__meta_insert(rec_movie_meta *mm, size_t idx)
{
    if (idx > mm->n)
        return REC_EINVAL;
    rec_status st = rec__meta_resize(mm, mm->n + 1);
    if (st != REC_OK)
        return st;
    size_t tail = mm->n - 1 - idx;
    memmove(mm->title_off + idx + 1, mm->title_off + idx, tail * sizeof(uint64_t));
    memmove(mm->genres_off + idx + 1, mm->genres_off + idx, tail * sizeof(uint64_t));
    memmove(mm->year + idx + 1, mm->year + idx, tail * sizeof(int32_t));
    mm->title_off[idx] = 0;
    mm->genres_off[idx] = 0;
    mm->year[idx] = 0;
    return REC_OK;
}

/* Append a string to the pool; returns its offset (0 for ""). */
static rec_status pool_add(rec_movie_meta *mm, const char *s, size_t len,
                           uint64_t *off)
{
    if (!s || len == 0) {
        *off = 0;
        return REC_OK;
    }
    rec_status st = pool_reserve(mm, len + 1);
    if (st != REC_OK)
        return st;
    *off = mm->pool_len;
    memcpy(mm->pool + mm->pool_len, s, len);
    mm->pool[mm->pool_len + len] = '\0';
    mm->pool_len += len + 1;
    return REC_OK;
}

rec_status rec__meta_set(rec_movie_meta *mm, size_t idx, const char *title,
                         size_t title_len, const char *genres,
                         size_t genres_len)
{
    if (idx >= mm->n)
        return REC_EINVAL;
    uint64_t t, g;
    rec_status st = pool_add(mm, title, title_len, &t);
    if (st == REC_OK)
        st = pool_add(mm, genres, genres_len, &g);
    if (st != REC_OK)
        return st;
    mm->title_off[idx] = t;
    mm->genres_off[idx] = g;
    mm->year[idx] = title ? rec__parse_year(title, title_len) : 0;
    return REC_OK;
}

const char *rec__meta_title(const rec_movie_meta *mm, size_t idx)
{
    return (mm->pool && idx < mm->n) ? mm->pool + mm->title_off[idx] : "";
}

const char *rec__meta_genres(const rec_movie_meta *mm, size_t idx)
{
    return (mm->pool && idx < mm->n) ? mm->pool + mm->genres_off[idx] : "";
}

rec_status rec__meta_copy(rec_movie_meta *dst, const rec_movie_meta *src)
{
    rec__meta_init(dst);
    if (!src->pool && src->n == 0)
        return REC_OK;
    if (pool_reserve(dst, src->pool_len) != REC_OK ||
        arrays_reserve(dst, src->n) != REC_OK) {
        rec__meta_free(dst);
        return REC_ENOMEM;
    }
    if (src->pool)
        memcpy(dst->pool, src->pool, src->pool_len);
    dst->pool_len = src->pool ? src->pool_len : 1;
    if (src->n) {
        memcpy(dst->title_off, src->title_off, src->n * sizeof(uint64_t));
        memcpy(dst->genres_off, src->genres_off, src->n * sizeof(uint64_t));
        memcpy(dst->year, src->year, src->n * sizeof(int32_t));
    }
    dst->n = src->n;
    return REC_OK;
}

int32_t rec__parse_year(const char *title, size_t len)
{
    while (len > 0 && (title[len - 1] == ' ' || title[len - 1] == '\t' ||
                       title[len - 1] == '\r' || title[len - 1] == '\n'))
        len--;
    if (len < 6 || title[len - 1] != ')' || title[len - 6] != '(')
        return 0;
    int32_t y = 0;
    for (size_t i = len - 5; i < len - 1; i++) {
        if (title[i] < '0' || title[i] > '9')
            return 0;
        y = y * 10 + (title[i] - '0');
    }
    return y;
}

/* Shared by the loader (is a text field UTF-8 or latin-1?) and the model
   file reader (a string pool cut inside a sequence must fail). */
bool rec__utf8_valid(const void *s, size_t n)
{
    const unsigned char *p = s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i], cp, min;
        size_t k;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            k = 1, min = 0x80, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2, min = 0x800, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3, min = 0x10000, cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

/* Exact, ASCII-case-insensitive match of one '|'-separated genre. */
int rec__has_genre(const char *genres, const char *want, size_t wlen)
{
    const char *p = genres;
    while (*p) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == wlen) {
            size_t i = 0;
            while (i < len) {
                unsigned char a = (unsigned char)p[i], b = (unsigned char)want[i];
                if (a >= 'A' && a <= 'Z')
                    a = (unsigned char)(a - 'A' + 'a');
                if (b >= 'A' && b <= 'Z')
                    b = (unsigned char)(b - 'A' + 'a');
                if (a != b)
                    break;
                i++;
            }
            if (i == len)
                return 1;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}
