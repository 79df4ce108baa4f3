/* movielens.c - rec_load_movielens: every public MovieLens layout.
 *
 *   ml-100k        u.data  (user \t movie \t rating \t time), u.item (|, latin-1),
 *                  u.genre (names of u.item's 0/1 genre flag columns)
 *   ml-1m, ml-10m  ratings.dat / movies.dat, "::"-separated; titles latin-1
 *                  (ml-1m) or UTF-8 (ml-10m): valid UTF-8 is kept, the rest
 *                  is read as latin-1
 *   CSV layouts    ratings.csv / movies.csv with a header (ml-20m, ml-25m,
 *                  ml-32m, ml-latest, ml-latest-small), UTF-8, RFC 4180 quotes
 *
 * The ratings file is read with pread() into one 1 MiB buffer per thread
 * and parsed in parallel chunks split at newlines (a first pass counts each
 * chunk's lines, so allocations are exact and error messages carry the
 * right line number); numbers are parsed by hand. The file is never mapped:
 * a file that another process truncates while we read it ends in REC_EIO
 * (a mapping would raise SIGBUS), and the file never enters our resident
 * set.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum layout { LAYOUT_CSV, LAYOUT_DAT, LAYOUT_TAB };

#define READ_BYTES ((size_t)1 << 20) /* per-thread read buffer: the longest
                                        ratings line */
#define HEAD_BYTES ((size_t)64 << 10) /* read to detect layout and header */
#define MSG_LEN 200

/* ---- small helpers ---------------------------------------------------- */

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

/* The name used in messages: the path, or its base name when long. */
static const char *shown(const char *path)
{
    if (strlen(path) < 120)
        return path;
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static rec_status open_error(const char *path, int e, rec_error *err)
{
    if (e == ENOENT || e == ENOTDIR)
        return rec__fail(err, REC_ENOTFOUND, "%s: no such file", shown(path));
    return rec__fail(err, REC_EIO, "%s: cannot read: %s", shown(path), strerror(e));
}

/* Whole small file into memory (NUL-terminated). */
static rec_status slurp(const char *path, char **buf_out, size_t *len_out,
                        rec_error *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return open_error(path, errno, err);
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int e = errno;
        close(fd);
        return rec__fail(err, REC_EIO, "%s: not a readable file: %s", shown(path),
                         strerror(e ? e : EISDIR));
    }
    size_t cap = (size_t)sb.st_size + 1, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return rec__fail(err, REC_ENOMEM, "%s: out of memory", shown(path));
    }
    for (;;) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                return rec__fail(err, REC_ENOMEM, "%s: out of memory", shown(path));
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t k = read(fd, buf + len, cap - 1 - len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            return rec__fail(err, REC_EIO, "%s: read failed: %s", shown(path), strerror(e));
        }
        if (k == 0)
            break;
        len += (size_t)k;
    }
    close(fd);
    buf[len] = '\0';
    *buf_out = buf;
    *len_out = len;
    return REC_OK;
}

/* Text in an 8-bit file: kept if valid UTF-8, else latin-1 -> UTF-8.
   Writes into `dst` (capacity >= 2 * n + 1). Returns the length. */
static size_t to_utf8(char *dst, const char *src, size_t n)
{
    if (rec__utf8_valid(src, n)) {
        memcpy(dst, src, n);
        dst[n] = '\0';
        return n;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c < 0x80) {
            dst[w++] = (char)c;
        } else {
            dst[w++] = (char)(0xC0 | (c >> 6));
            dst[w++] = (char)(0x80 | (c & 0x3F));
        }
    }
    dst[w] = '\0';
    return w;
}

static size_t skip_bom(const char *p, size_t n)
{
    return (n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
            (unsigned char)p[2] == 0xBF) ? 3 : 0;
}

static int is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ---- ratings rows (the hot path) -------------------------------------- */

typedef struct row_fmt {
    char sep;      /* ',', '\t' or ':' */
    int sep_len;   /* 1, or 2 for "::" */
    int cols;      /* 4, or 3 for a CSV without timestamps */
} row_fmt;

static inline int at_eol(const char *p, const char *end)
{
    return p >= end || *p == '\n' || (*p == '\r' && (p + 1 >= end || p[1] == '\n'));
}

static inline int at_sep(const char *p, const char *end, row_fmt f)
{
    if (p >= end || *p != f.sep)
        return 0;
    return f.sep_len == 1 || (p + 1 < end && p[1] == f.sep);
}

/* End of the current field (next separator or end of line). */
static const char *field_end(const char *p, const char *end, row_fmt f)
{
    while (!at_eol(p, end) && !at_sep(p, end, f))
        p++;
    return p;
}

static const char *const field_names[4] = {"user id", "movie id", "rating",
                                           "timestamp"};

/* Describe what is wrong with field `k` that starts at `p`. */
static void field_error(char *msg, int k, const char *p, const char *end,
                        row_fmt f, const char *why)
{
    const char *e = field_end(p, end, f);
    int len = (int)(e - p > 40 ? 40 : e - p);
    snprintf(msg, MSG_LEN, "%s '%.*s' %s", field_names[k], len, p, why);
}

/* Parse a non-negative id; on failure writes msg and returns NULL. */
static inline const char *parse_id(const char *p, const char *end, row_fmt f,
                                   int k, int32_t *out, char *msg)
{
    const char *s = p;
    uint64_t v = 0;
    while (p < end && (unsigned)(*p - '0') < 10) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > INT32_MAX) {
            while (p < end && (unsigned)(*p - '0') < 10)
                p++;
            if (at_sep(p, end, f) || at_eol(p, end)) {
                field_error(msg, k, s, end, f, "is out of range (above 2147483647)");
                return NULL;
            }
            break;
        }
        p++;
    }
    if (p == s || !(at_sep(p, end, f) || at_eol(p, end))) {
        if (p == s && at_eol(p, end) && k > 0)
            snprintf(msg, MSG_LEN, "missing column (%s)", field_names[k]);
        else if (s < end && *s == '-' && s + 1 < end &&
                 (unsigned)(s[1] - '0') < 10)
            field_error(msg, k, s, end, f, "is negative");
        else
            field_error(msg, k, s, end, f, "is not a number");
        return NULL;
    }
    *out = (int32_t)v;
    return p;
}

static const double pow10_neg[10] = {1, 1e-1, 1e-2, 1e-3, 1e-4,
                                     1e-5, 1e-6, 1e-7, 1e-8, 1e-9};

static inline const char *parse_rating(const char *p, const char *end, row_fmt f,
                                       float *out, char *msg)
{
    const char *s = p;
    uint64_t ip = 0, fp = 0;
    int nd = 0, fd = 0;
    while (p < end && (unsigned)(*p - '0') < 10) {
        if (nd < 12)
            ip = ip * 10 + (uint64_t)(*p - '0');
        nd++;
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (fd < 9) {
                fp = fp * 10 + (uint64_t)(*p - '0');
                fd++;
            }
            nd++;
            p++;
        }
    }
    if (nd == 0 || !(at_sep(p, end, f) || at_eol(p, end))) {
        if (p == s && at_eol(p, end))
            snprintf(msg, MSG_LEN, "missing column (rating)");
        else if (s < end && *s == '-')
            field_error(msg, 2, s, end, f, "is negative");
        else
            field_error(msg, 2, s, end, f, "is not a number");
        return NULL;
    }
    double v = (double)ip + (double)fp * pow10_neg[fd];
    if (v > 10.0 || nd > 12) {
        field_error(msg, 2, s, end, f, "is out of range (0 to 10)");
        return NULL;
    }
    *out = (float)v;
    return p;
}

/* One row "user SEP movie SEP rating [SEP timestamp]" (f.cols columns; the
   timestamp is checked, not kept). Returns the start of the next line, or
   NULL with msg set. */
static inline const char *parse_row(const char *p, const char *end, row_fmt f,
                                    int32_t *u, int32_t *m, float *r, char *msg)
{
    p = parse_id(p, end, f, 0, u, msg);
    if (!p)
        return NULL;
    for (int k = 1; k < f.cols; k++) {
        if (!at_sep(p, end, f)) {
            snprintf(msg, MSG_LEN, "missing column (%s): expected %d columns, found %d",
                     field_names[k], f.cols, k);
            return NULL;
        }
        p += f.sep_len;
        if (k == 1) {
            p = parse_id(p, end, f, 1, m, msg);
        } else if (k == 2) {
            p = parse_rating(p, end, f, r, msg);
        } else {
            const char *s = p;
            while (p < end && (unsigned)(*p - '0') < 10)
                p++;
            if (p == s || !(at_sep(p, end, f) || at_eol(p, end))) {
                if (p == s && at_eol(p, end))
                    snprintf(msg, MSG_LEN, "missing column (timestamp)");
                else
                    field_error(msg, 3, s, end, f, "is not a number");
                return NULL;
            }
        }
        if (!p)
            return NULL;
    }
    if (at_sep(p, end, f)) {
        snprintf(msg, MSG_LEN, "extra columns: expected %d", f.cols);
        return NULL;
    }
    if (p < end && *p == '\r')
        p++;
    if (p < end) /* '\n' */
        p++;
    return p;
}

/* The common row, without parse_row's bounds checks: used only with 64
   bytes or more left in the buffer, and only for rows that are exactly
   "id SEP id SEP rating [SEP timestamp] EOL" with ids of 1-9 digits, a
   rating of 1-2 digits and up to 9 decimals that is at most 10, and a
   timestamp of 1-20 digits, so that no read passes those 64 bytes. Then
   the values are parse_row's (the same arithmetic). Anything else
   returns NULL, and parse_row parses the row (and words its error). */
static inline const char *parse_id_fast(const char *p, char sep,
                                        int32_t *out)
{
    int64_t v = 0; /* a tenth digit is read (to refuse it): no overflow */
    int n = 0;
    for (; n < 10 && (unsigned)(p[n] - '0') < 10; n++)
        v = v * 10 + (p[n] - '0');
    if (n == 0 || n > 9 || p[n] != sep)
        return NULL;
    *out = (int32_t)v;
    return p + n + 1;
}

static inline const char *parse_row_fast(const char *p, const char *end,
                                         row_fmt f, int32_t *u, int32_t *m,
                                         float *r)
{
    if (f.sep_len != 1 || end - p < 64)
        return NULL;
    int32_t uu, mm;
    if (!(p = parse_id_fast(p, f.sep, &uu)) ||
        !(p = parse_id_fast(p, f.sep, &mm)))
        return NULL;
    uint64_t ip = 0, fp = 0;
    int nd = 0, fd = 0;
    for (; nd < 3 && (unsigned)(*p - '0') < 10; nd++, p++)
        ip = ip * 10 + (uint64_t)(*p - '0');
    if (nd == 0 || nd > 2)
        return NULL;
    if (*p == '.') {
        p++;
        for (; fd < 10 && (unsigned)(*p - '0') < 10; fd++, p++)
            fp = fp * 10 + (uint64_t)(*p - '0');
        if (fd > 9)
            return NULL;
    }
    double v = (double)ip + (double)fp * pow10_neg[fd];
    if (v > 10.0)
        return NULL;
    if (f.cols == 4) {
        if (*p++ != f.sep)
            return NULL;
        int nt = 0;
        for (; nt < 21 && (unsigned)(*p - '0') < 10; nt++)
            p++;
        if (nt == 0 || nt > 20)
            return NULL;
    }
    if (*p == '\r')
        p++;
    if (*p != '\n')
        return NULL;
    *u = uu;
    *m = mm;
    *r = (float)v;
    return p + 1;
}

/* ---- reading the ratings file --------------------------------------- */

/* The ratings file as opened: its size at fstat() time is the contract; a
   file that is shorter when read has changed under us. */
typedef struct src_file {
    int fd;
    size_t size;
    const char *path;
} src_file;

/* Read exactly n bytes at offset off. Returns REC_OK, or REC_EIO with msg
   set (the file shrank, or the read failed). */
static rec_status read_at(const src_file *sf, char *buf, size_t n, size_t off,
                          char *msg)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(sf->fd, buf + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            snprintf(msg, MSG_LEN, "read failed at byte %zu: %s", off + got,
                     strerror(errno));
            return REC_EIO;
        }
        if (k == 0) {
            snprintf(msg, MSG_LEN, "the file changed while it was read: it "
                     "ends at byte %zu, it had %zu bytes when opened",
                     off + got, sf->size);
            return REC_EIO;
        }
        got += (size_t)k;
    }
    return REC_OK;
}

/* Offset just past the first newline at or after `from` (or sf->size). */
static rec_status next_line_start(size_t *out, const src_file *sf, size_t from,
                                  char *buf, char *msg)
{
    while (from < sf->size) {
        size_t n = sf->size - from < HEAD_BYTES ? sf->size - from : HEAD_BYTES;
        rec_status st = read_at(sf, buf, n, from, msg);
        if (st != REC_OK)
            return st;
        const char *nl = memchr(buf, '\n', n);
        if (nl) {
            *out = from + (size_t)(nl - buf) + 1;
            return REC_OK;
        }
        from += n;
    }
    *out = sf->size;
    return REC_OK;
}

/* ---- parallel chunked parse ------------------------------------------ */

typedef struct chunk {
    size_t b, e;    /* byte range of the file, split after a newline */
    size_t lines;   /* lines starting in [b, e) */
    size_t line0;   /* number of the first of them (1-based) */
    size_t row0;    /* first output row */
    size_t rows;    /* rows written */
    rec_status status;
    size_t err_line; /* 0: the error has no line (an I/O error) */
    char msg[MSG_LEN];
} chunk;

/* Newlines in [p, p + n), eight bytes at a time (exact zero-byte count). */
static size_t count_newlines(const char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, low7 = 0x7F7F7F7F7F7F7F7FULL;
    size_t count = 0, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        x ^= ones * '\n';                            /* newline bytes -> 0 */
        uint64_t t = ((x & low7) + low7) | x;        /* high bit set: non-zero */
        count += (size_t)((((~t & ~low7) >> 7) * ones) >> 56); /* sum of 0/1 bytes */
    }
    for (; i < n; i++)
        count += p[i] == '\n';
    return count;
}

static void count_lines(chunk *c, const src_file *sf, char *buf)
{
    size_t n = 0;
    char last = '\n';
    for (size_t off = c->b; off < c->e; off += READ_BYTES) {
        size_t k = c->e - off < READ_BYTES ? c->e - off : READ_BYTES;
        if ((c->status = read_at(sf, buf, k, off, c->msg)) != REC_OK)
            return;
        n += count_newlines(buf, k);
        last = buf[k - 1];
    }
    if (last != '\n')
        n++; /* last line without a newline */
    c->lines = n;
}

/* Parse the complete lines of buf[0, len) as rows; returns where it stopped
   (len, or the failing line, with c->status set). */
static size_t parse_lines(chunk *c, const char *buf, size_t len, row_fmt f,
                          size_t *line, size_t *w, int32_t *users,
                          int32_t *movies, float *vals)
{
    const char *p = buf, *end = buf + len;
    size_t w_end = c->row0 + c->lines;
    while (p < end) {
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
            p += (*p == '\r') ? 2 : 1; /* blank line */
            (*line)++;
            continue;
        }
        if (*w == w_end) { /* more lines than the first pass counted */
            c->status = REC_EIO;
            snprintf(c->msg, MSG_LEN, "the file changed while it was read");
            break;
        }
        const char *q = parse_row_fast(p, end, f, &users[*w], &movies[*w],
                                       &vals[*w]);
        if (!q)
            q = parse_row(p, end, f, &users[*w], &movies[*w], &vals[*w],
                          c->msg);
        if (!q) {
            c->status = REC_EFORMAT;
            c->err_line = *line;
            break;
        }
        (*w)++;
        (*line)++;
        p = q;
    }
    return (size_t)(p - buf);
}

static const char *last_newline(const char *p, size_t n)
{
    while (n > 0)
        if (p[--n] == '\n')
            return p + n;
    return NULL;
}

/* Read chunk c piece by piece into buf (READ_BYTES) and parse its rows;
   a piece ends at its last newline, the rest is carried to the next. */
static void parse_chunk(chunk *c, const src_file *sf, char *buf, row_fmt f,
                        int32_t *users, int32_t *movies, float *vals)
{
    size_t pos = c->b, carry = 0, line = c->line0, w = c->row0;
    while (pos < c->e) {
        size_t want = c->e - pos < READ_BYTES - carry ? c->e - pos
                                                      : READ_BYTES - carry;
        if ((c->status = read_at(sf, buf + carry, want, pos, c->msg)) != REC_OK)
            break;
        pos += want;
        size_t len = carry + want, stop = len;
        if (pos < c->e) {
            const char *nl = last_newline(buf, len);
            if (!nl) {
                c->status = REC_EFORMAT;
                c->err_line = line;
                snprintf(c->msg, MSG_LEN, "line longer than %zu bytes",
                         READ_BYTES);
                break;
            }
            stop = (size_t)(nl - buf) + 1;
        }
        if (parse_lines(c, buf, stop, f, &line, &w, users, movies, vals) != stop)
            break;
        carry = len - stop;
        memmove(buf, buf + stop, carry);
    }
    c->rows = w - c->row0;
}

static int n_threads(size_t bytes)
{
#ifdef _OPENMP
    if (bytes < ((size_t)4 << 20))
        return 1;
    int t = omp_get_max_threads();
    return t < 1 ? 1 : (t > 64 ? 64 : t);
#else
    (void)bytes;
    return 1;
#endif
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

typedef struct coo {
    int32_t *users, *movies;
    float *vals;
    size_t n;
} coo;

/* Columns of a CSV line (commas outside quotes + 1). */
static int csv_columns(const char *p, const char *end)
{
    int n = 1, quoted = 0;
    for (; p < end && *p != '\n'; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == ',' && !quoted)
            n++;
    }
    return n;
}

/* Layout details from the head of the file: where the rows start, the line
   number of the first row, and the column count (a CSV whose header, or
   first row without a header, has three columns has no timestamps). */
static rec_status read_head(size_t *start, size_t *first_line, row_fmt *f,
                            const src_file *sf, enum layout lay,
                            const char *head, size_t head_len, char *buf,
                            char *msg)
{
    *start = skip_bom(head, head_len);
    *first_line = 1;
    if (lay != LAYOUT_CSV)
        return REC_OK;
    const char *line = head + *start, *end = head + head_len;
    if (*start < head_len && (is_alpha(head[*start]) || head[*start] == '"')) {
        rec_status st = next_line_start(start, sf, *start, buf, msg);
        if (st != REC_OK)
            return st;
        *first_line = 2;
    } else {
        while (line < end && (*line == '\n' || *line == '\r'))
            line++; /* the first row that is not blank */
    }
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    if ((nl || head_len == sf->size) && csv_columns(line, nl ? nl : end) == 3)
        f->cols = 3;
    return REC_OK;
}

static rec_status parse_ratings(coo *out, const src_file *sf, enum layout lay,
                                const char *head, size_t head_len,
                                rec_error *err)
{
    row_fmt f = {lay == LAYOUT_CSV ? ',' : lay == LAYOUT_TAB ? '\t' : ':',
                 lay == LAYOUT_DAT ? 2 : 1, 4};
    const char *path = sf->path;
    size_t size = sf->size, start, first_line;
    int nt = n_threads(size);
    /* a small file needs no more than its size: no piece, line or window
       read is ever longer than the file */
    size_t stride = size < READ_BYTES ? size : READ_BYTES;
    char *bufs = malloc((size_t)nt * stride);
    if (!bufs)
        return rec__fail(err, REC_ENOMEM, "%s: out of memory", shown(path));
    char msg[MSG_LEN];
    rec_status st = read_head(&start, &first_line, &f, sf, lay, head, head_len,
                              bufs, msg);
    if (st != REC_OK) {
        free(bufs);
        return rec__fail(err, st, "%s: %s", shown(path), msg);
    }
    size_t nc = (size_t)nt * 4;
    if (nc > (size - start) / 4096 + 1)
        nc = (size - start) / 4096 + 1;
    chunk *cs = calloc(nc, sizeof *cs);
    if (!cs) {
        free(bufs);
        return rec__fail(err, REC_ENOMEM, "%s: out of memory", shown(path));
    }
    size_t b = start;
    for (size_t i = 0; i < nc && st == REC_OK; i++) {
        cs[i].b = b;
        size_t e = (i + 1 == nc) ? size : start + (size - start) * (i + 1) / nc;
        if (e < b)
            e = b;
        if (e < size && e > 0)
            st = next_line_start(&e, sf, e - 1, bufs, msg);
        cs[i].e = e;
        b = e;
    }
    if (st != REC_OK) {
        free(cs);
        free(bufs);
        return rec__fail(err, st, "%s: %s", shown(path), msg);
    }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (size_t i = 0; i < nc; i++)
        count_lines(&cs[i], sf, bufs + (size_t)thread_id() * stride);
    size_t lines = 0;
    for (size_t i = 0; i < nc; i++) {
        if (cs[i].status != REC_OK && st == REC_OK)
            st = rec__fail(err, cs[i].status, "%s: %s", shown(path), cs[i].msg);
        cs[i].line0 = first_line + lines;
        cs[i].row0 = lines;
        lines += cs[i].lines;
    }
    size_t cap = lines ? lines : 1;
    if (st == REC_OK) {
        out->users = malloc(cap * sizeof *out->users);
        out->movies = malloc(cap * sizeof *out->movies);
        out->vals = malloc(cap * sizeof *out->vals);
        if (!out->users || !out->movies || !out->vals)
            st = rec__fail(err, REC_ENOMEM, "%s: out of memory for %zu rows",
                           shown(path), lines);
    }
    if (st != REC_OK) {
        free(cs);
        free(bufs);
        return st;
    }
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (size_t i = 0; i < nc; i++)
        parse_chunk(&cs[i], sf, bufs + (size_t)thread_id() * stride, f,
                    out->users, out->movies, out->vals);
    free(bufs);
    size_t w = 0;
    for (size_t i = 0; i < nc; i++) {
        if (cs[i].status != REC_OK) {
            if (cs[i].err_line)
                st = rec__fail(err, cs[i].status, "%s:%zu: %s", shown(path),
                               cs[i].err_line, cs[i].msg);
            else
                st = rec__fail(err, cs[i].status, "%s: %s", shown(path),
                               cs[i].msg);
            break;
        }
        if (w != cs[i].row0) { /* blank lines left holes: close them */
            memmove(out->users + w, out->users + cs[i].row0, cs[i].rows * sizeof(int32_t));
            memmove(out->movies + w, out->movies + cs[i].row0, cs[i].rows * sizeof(int32_t));
            memmove(out->vals + w, out->vals + cs[i].row0, cs[i].rows * sizeof(float));
        }
        w += cs[i].rows;
    }
    if (st == REC_OK && w == 0)
        st = rec__fail(err, REC_EFORMAT, "%s:%zu: no ratings in the file", shown(path),
                       first_line + lines - (lines > 0));
    free(cs);
    out->n = w;
    return st;
}

/* ---- movies files (small: parsed serially) ---------------------------- */

typedef struct movies {
    int32_t *ids;
    rec_movie_meta meta;
    size_t n;
} movies;

static rec_status movies_add(movies *mv, int32_t id, const char *title,
                             size_t tlen, const char *genres, size_t glen)
{
    if (mv->n == mv->meta.n) {
        size_t cap = mv->n ? mv->n * 2 : 256;
        int32_t *ids = realloc(mv->ids, cap * sizeof *ids);
        if (!ids)
            return REC_ENOMEM;
        mv->ids = ids;
        if (rec__meta_resize(&mv->meta, cap) != REC_OK)
            return REC_ENOMEM;
    }
    mv->ids[mv->n] = id;
    rec_status st = rec__meta_set(&mv->meta, mv->n, title, tlen, genres, glen);
    if (st == REC_OK)
        mv->n++;
    return st;
}

/* A movie id at p (up to the separator). */
static int movie_id_at(const char *p, const char *end, int32_t *out,
                       const char **next)
{
    uint64_t v = 0;
    const char *s = p;
    while (p < end && (unsigned)(*p - '0') < 10) {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > INT32_MAX)
            return 0;
        p++;
    }
    if (p == s)
        return 0;
    *out = (int32_t)v;
    *next = p;
    return 1;
}

static const char *line_end(const char *p, const char *end)
{
    if (p >= end)
        return end;
    const char *q = memchr(p, '\n', (size_t)(end - p));
    return q ? q : end;
}

static const char *trim_cr(const char *b, const char *e)
{
    return (e > b && e[-1] == '\r') ? e - 1 : e;
}

/* A CSV field at *pp: quoted (with "" escapes, may span lines) or not.
   Writes the unquoted text into dst and its length into *len. */
static int csv_field(const char **pp, const char *end, char *dst, size_t *len,
                     size_t *line)
{
    const char *p = *pp;
    size_t w = 0;
    if (p < end && *p == '"') {
        p++;
        for (;;) {
            if (p >= end)
                return -1; /* unterminated */
            if (*p == '"') {
                if (p + 1 < end && p[1] == '"') {
                    dst[w++] = '"';
                    p += 2;
                    continue;
                }
                p++;
                break;
            }
            if (*p == '\n')
                (*line)++;
            dst[w++] = *p++;
        }
        if (p < end && *p != ',' && *p != '\n' && *p != '\r')
            return -2; /* text after the closing quote */
    } else {
        /* a quote inside an unquoted field is taken literally */
        while (p < end && *p != ',' && *p != '\n' && !(*p == '\r' && (p + 1 >= end || p[1] == '\n')))
            dst[w++] = *p++;
    }
    *len = w;
    *pp = p;
    return 0;
}

static rec_status parse_movies_csv(movies *mv, const char *path, const char *buf,
                                   size_t n, rec_error *err)
{
    const char *p = buf + skip_bom(buf, n), *end = buf + n;
    size_t line = 1;
    char *tbuf = malloc(n + 1), *gbuf = malloc(n + 1);
    rec_status st = REC_OK;
    if (!tbuf || !gbuf) {
        free(tbuf);
        free(gbuf);
        return rec__fail(err, REC_ENOMEM, "%s: out of memory", shown(path));
    }
    if (p < end && (is_alpha(*p) || *p == '"')) { /* header */
        p = line_end(p, end);
        p += p < end;
        line++;
    }
    while (p < end && st == REC_OK) {
        size_t row_line = line;
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
            p += *p == '\r' ? 2 : 1;
            line++;
            continue;
        }
        int32_t id;
        const char *q;
        size_t tl = 0, gl = 0;
        if (!movie_id_at(p, end, &id, &q) || q >= end || *q != ',') {
            const char *e = trim_cr(p, line_end(p, end));
            int len = (int)(e - p > 40 ? 40 : e - p);
            st = rec__fail(err, REC_EFORMAT, "%s:%zu: movie id in '%.*s' is not a valid id",
                           shown(path), row_line, len, p);
            break;
        }
        p = q + 1;
        int rc = csv_field(&p, end, tbuf, &tl, &line);
        if (rc == 0 && (p >= end || *p != ',')) {
            st = rec__fail(err, REC_EFORMAT, "%s:%zu: missing column (genres)",
                           shown(path), row_line);
            break;
        }
        if (rc == 0) {
            p++;
            rc = csv_field(&p, end, gbuf, &gl, &line);
        }
        if (rc != 0) {
            st = rec__fail(err, REC_EFORMAT, "%s:%zu: %s", shown(path), row_line,
                           rc == -1 ? "unterminated quote" : "text after a closing quote");
            break;
        }
        if (p < end && *p == ',') {
            st = rec__fail(err, REC_EFORMAT, "%s:%zu: extra columns: expected 3",
                           shown(path), row_line);
            break;
        }
        if (!rec__utf8_valid(tbuf, tl) ||
            !rec__utf8_valid(gbuf, gl)) {
            st = rec__fail(err, REC_EFORMAT, "%s:%zu: invalid UTF-8", shown(path), row_line);
            break;
        }
        if (movies_add(mv, id, tbuf, tl, gbuf, gl) != REC_OK)
            st = rec__fail(err, REC_ENOMEM, "%s: out of memory", shown(path));
        if (p < end && *p == '\r')
            p++;
        if (p < end) {
            p++;
            line++;
        }
    }
    free(tbuf);
    free(gbuf);
    return st;
}

static const char *const ml100k_genres[19] = {
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy",
    "Crime", "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror",
    "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"};

#define MAX_GENRES 64

/* u.genre: "name|index" lines. Falls back to the fixed ml-100k list. */
static size_t read_genre_names(const char *dir, char names[MAX_GENRES][48])
{
    size_t count = 0;
    char *path = join_path(dir, "u.genre"), *buf = NULL;
    size_t n = 0;
    if (path && file_exists(path) && slurp(path, &buf, &n, NULL) == REC_OK) {
        const char *p = buf, *end = buf + n;
        while (p < end) {
            const char *le = line_end(p, end), *e = trim_cr(p, le);
            const char *bar = memchr(p, '|', (size_t)(e - p));
            if (bar) {
                long idx = strtol(bar + 1, NULL, 10);
                char u8[2 * 47 + 1]; /* latin-1 names become UTF-8 (fuzz) */
                size_t ul = bar > p && bar - p < 47
                                ? to_utf8(u8, p, (size_t)(bar - p)) : 0;
                if (idx >= 0 && idx < MAX_GENRES && ul > 0 && ul < 48) {
                    memcpy(names[idx], u8, ul + 1);
                    if ((size_t)idx + 1 > count)
                        count = (size_t)idx + 1;
                }
            }
            p = le + (le < end);
        }
    }
    free(buf);
    free(path);
    if (count == 0) {
        for (size_t i = 0; i < 19; i++)
            snprintf(names[i], 48, "%s", ml100k_genres[i]);
        count = 19;
    }
    return count;
}

/* State of a line-by-line movies parser (movies.dat, u.item). */
typedef struct line_ctx {
    movies *mv;
    const char *path;
    rec_error *err;
    char *tbuf, *gbuf;   /* converted title and genres */
    char (*names)[48];   /* u.item: genre of each flag column */
    size_t n_names;
} line_ctx;

typedef rec_status (*line_fn)(line_ctx *c, const char *b, const char *e,
                              size_t line);

/* Call `fn` on each non-blank line (without its CR/LF). */
static rec_status each_line(line_ctx *c, const char *buf, size_t n, line_fn fn)
{
    const char *p = buf + skip_bom(buf, n), *end = buf + n;
    c->tbuf = malloc(2 * n + 1);
    /* u.item genres are built from u.genre's names, not copied from the
       line: up to MAX_GENRES * 49 bytes whatever the file's size (a short
       u.item with long genre names overflowed gbuf; found by
       fuzz/fuzz_movielens_100k) */
    size_t gcap = n > MAX_GENRES * 49 ? n : MAX_GENRES * 49;
    c->gbuf = malloc(2 * gcap + 1);
    rec_status st = REC_OK;
    if (!c->tbuf || !c->gbuf)
        st = rec__fail(c->err, REC_ENOMEM, "%s: out of memory", shown(c->path));
    for (size_t line = 1; p < end && st == REC_OK; line++) {
        const char *le = line_end(p, end), *e = trim_cr(p, le);
        if (e > p)
            st = fn(c, p, e, line);
        p = le + (le < end);
    }
    free(c->tbuf);
    free(c->gbuf);
    return st;
}

static rec_status bad_line(line_ctx *c, const char *p, const char *e, size_t line,
                           const char *what)
{
    int len = (int)(e - p > 40 ? 40 : e - p);
    return rec__fail(c->err, REC_EFORMAT, "%s:%zu: %s, got '%.*s'", shown(c->path),
                     line, what, len, p);
}

static rec_status add_converted(line_ctx *c, int32_t id, const char *t, size_t tl,
                                const char *g, size_t gl)
{
    size_t a = to_utf8(c->tbuf, t, tl), b = to_utf8(c->gbuf, g, gl);
    if (movies_add(c->mv, id, c->tbuf, a, c->gbuf, b) != REC_OK)
        return rec__fail(c->err, REC_ENOMEM, "%s: out of memory", shown(c->path));
    return REC_OK;
}

/* movies.dat: "id::title::genres", titles latin-1 or UTF-8. */
static rec_status dat_line(line_ctx *c, const char *p, const char *e, size_t line)
{
    int32_t id;
    const char *q, *t = NULL, *g = NULL;
    if (movie_id_at(p, e, &id, &q) && q + 1 < e && q[0] == ':' && q[1] == ':') {
        t = q + 2;
        for (const char *s = e - 2; s >= t; s--) {
            if (s[0] == ':' && s[1] == ':') {
                g = s + 2;
                break;
            }
        }
    }
    if (!g)
        return bad_line(c, p, e, line, "expected 'id::title::genres'");
    return add_converted(c, id, t, (size_t)(g - 2 - t), g, (size_t)(e - g));
}

/* u.item: id|title|release|video release|url|flag0|...|flagN (latin-1). */
static rec_status item_line(line_ctx *c, const char *p, const char *e, size_t line)
{
    int32_t id;
    const char *q, *f[5 + MAX_GENRES + 1];
    size_t nf = 0;
    if (!movie_id_at(p, e, &id, &q) || q >= e || *q != '|')
        return bad_line(c, p, e, line, "expected 'movie id|title|...'");
    for (const char *s = p; s && nf < 5 + MAX_GENRES + 1;) {
        f[nf++] = s;
        const char *bar = memchr(s, '|', (size_t)(e - s));
        s = bar ? bar + 1 : NULL;
    }
    const char *t_end = nf > 2 ? f[2] - 1 : e;
    char genres[MAX_GENRES * 49 + 1];
    size_t gl = 0;
    for (size_t k = 5; k < nf && k - 5 < c->n_names; k++) {
        if (f[k][0] == '1' && c->names[k - 5][0]) {
            size_t nl = strlen(c->names[k - 5]);
            if (gl)
                genres[gl++] = '|';
            memcpy(genres + gl, c->names[k - 5], nl);
            gl += nl;
        }
    }
    return add_converted(c, id, f[1], (size_t)(t_end - f[1]), genres, gl);
}

static rec_status load_movies(movies *mv, const char *dir, enum layout lay,
                              rec_error *err)
{
    const char *name = lay == LAYOUT_CSV ? "movies.csv" : lay == LAYOUT_DAT ? "movies.dat"
                                                                          : "u.item";
    char *path = join_path(dir, name);
    if (!path)
        return rec__fail(err, REC_ENOMEM, "out of memory");
    struct stat sb;
    if (stat(path, &sb) != 0) { /* optional */
        free(path);
        return REC_OK;
    }
    char *buf = NULL;
    size_t n = 0;
    rec_status st = slurp(path, &buf, &n, err);
    if (st == REC_OK) {
        if (lay == LAYOUT_CSV)
            st = parse_movies_csv(mv, path, buf, n, err);
        else {
            char names[MAX_GENRES][48];
            line_ctx c = {mv, path, err, NULL, NULL, names, 0};
            if (lay == LAYOUT_TAB) {
                memset(names, 0, sizeof names);
                c.n_names = read_genre_names(dir, names);
            }
            st = each_line(&c, buf, n, lay == LAYOUT_DAT ? dat_line : item_line);
        }
    }
    free(buf);
    free(path);
    return st;
}

/* ---- the public call -------------------------------------------------- */

static enum layout detect_layout(const char *path, const char *map, size_t size)
{
    size_t len = strlen(path);
    if (len >= 4 && strcmp(path + len - 4, ".csv") == 0)
        return LAYOUT_CSV;
    if (len >= 4 && strcmp(path + len - 4, ".dat") == 0)
        return LAYOUT_DAT;
    const char *e = memchr(map, '\n', size);
    size_t n = e ? (size_t)(e - map) : size;
    for (size_t i = 0; i < n; i++) {
        if (map[i] == '\t')
            return LAYOUT_TAB;
        if (map[i] == ':' && i + 1 < n && map[i + 1] == ':')
            return LAYOUT_DAT;
    }
    return LAYOUT_CSV;
}

rec_status rec_load_movielens(rec_ratings **out, const char *path, rec_error *err)
{
    if (!out || !path)
        return rec__fail(err, REC_EINVAL, "out and path must not be NULL");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return open_error(path, errno, err);
    char *rpath = NULL, *dir = NULL;
    if (S_ISDIR(sb.st_mode)) {
        static const char *const names[] = {"ratings.csv", "ratings.dat", "u.data"};
        for (size_t i = 0; i < 3 && !rpath; i++) {
            char *c = join_path(path, names[i]);
            if (!c)
                return rec__fail(err, REC_ENOMEM, "out of memory");
            if (file_exists(c))
                rpath = c;
            else
                free(c);
        }
        if (!rpath)
            return rec__fail(err, REC_ENOTFOUND,
                             "%s: no ratings file (ratings.csv, ratings.dat or u.data)",
                             shown(path));
        dir = strdup(path);
    } else {
        rpath = strdup(path);
        const char *slash = strrchr(path, '/');
        dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    }
    if (!rpath || !dir) {
        free(rpath);
        free(dir);
        return rec__fail(err, REC_ENOMEM, "out of memory");
    }

    rec_status st = REC_OK;
    coo c = {0};
    movies mv = {0};
    rec__meta_init(&mv.meta);
    int fd = open(rpath, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        st = open_error(rpath, errno, err);
        goto done;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        st = rec__fail(err, REC_EIO, "%s: not a regular file", shown(rpath));
        goto done;
    }
    size_t size = (size_t)sb.st_size;
    if (size == 0) {
        close(fd);
        st = rec__fail(err, REC_EFORMAT, "%s:1: empty file, no ratings", shown(rpath));
        goto done;
    }
    src_file sf = {fd, size, rpath};
    size_t head_len = size < HEAD_BYTES ? size : HEAD_BYTES;
    char *head = malloc(head_len), msg[MSG_LEN];
    if (!head) {
        close(fd);
        st = rec__fail(err, REC_ENOMEM, "%s: out of memory", shown(rpath));
        goto done;
    }
    enum layout lay = LAYOUT_CSV;
    st = read_at(&sf, head, head_len, 0, msg);
    if (st != REC_OK) {
        st = rec__fail(err, st, "%s: %s", shown(rpath), msg);
    } else {
        lay = detect_layout(rpath, head, head_len);
        st = parse_ratings(&c, &sf, lay, head, head_len, err);
    }
    free(head);
    close(fd);
    if (st == REC_OK)
        st = load_movies(&mv, dir, lay, err);
    if (st == REC_OK) {
        mv.meta.n = mv.n;
        st = rec__ratings_build_owned(out, c.users, c.movies, c.vals, c.n, mv.ids,
                                      &mv.meta, err);
        c.users = c.movies = NULL;
        c.vals = NULL;
    }
done:
    free(c.users);
    free(c.movies);
    free(c.vals);
    free(mv.ids);
    rec__meta_free(&mv.meta);
    free(rpath);
    free(dir);
    return st;
}
