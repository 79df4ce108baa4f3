/*
 * model_io.c - model files: rec_model_save() and rec_model_load().
 *
 * Format version 1. Every number is little-endian unless the byte-order
 * mark says the writer used big-endian (then the reader converts):
 *
 *   offset  size  field
 *   0       8     magic "MOVIEME\0"
 *   8       4     format version (1)
 *   12      4     byte-order mark 0x01020304
 *   16      8     file length in bytes, trailer included
 *   24      4     number of sections
 *   28      4     reserved, 0
 *   32            sections: 4-byte ASCII tag, u32 reserved (0), u64 length,
 *                 `length` bytes, zero padding to a multiple of 8 (so arrays
 *                 are aligned in a mapped file)
 *   len-4   4     CRC-32 (zlib) of every byte before it
 *
 * Sections, written in this order (SHAP must come first; the others may
 * come in any order, unknown tags are skipped so that a minor addition does
 * not need a new version):
 *   SHAP  rank u32, flags u32 (1 biases, 2 nonnegative), n_users u64,
 *         n_movies u64, nnz u64, pool_len u64, global_mean f32,
 *         rating_min f32, rating_max f32, reserved u32, reg f64, bias_reg f64
 *   MIDS  movie ids i32[n_movies], strictly ascending
 *   UIDS  user ids i32[n_users], distinct
 *   MFAC  movie factors f32[n_movies * rank];  UFAC  user factors
 *   MBIA  movie biases f32[n_movies];          UBIA  user biases
 *   MCNT  training count u32[n_movies];        MMEA  training mean f32
 *   ROFF  rated-movie offsets u64[n_users + 1] (rec_add_user's users and
 *         overrides flattened in); RITM dense movie i32[nnz]; RVAL f32[nnz]
 *   MYEA  year i32[n_movies]; MTIT, MGEN title/genres offsets u64[n_movies]
 *         into POOL, NUL-terminated UTF-8 strings (pool[0] == '\0')
 *
 * Format version 2 is version 1 plus one more section, written last, for
 * implicit-feedback models only (explicit models are still written as
 * version 1, byte for byte, so older readers keep reading them; they refuse
 * an implicit model rather than serve it as an explicit one):
 *   IMPL  flags u32 (1 implicit, 2 weight by value), reserved u32,
 *         alpha f64, min_rating f32, reserved u32
 * Y^T Y of the movie factors, which fold-in needs, is computed on load.
 *
 * Loading never trusts a size: every count is checked against the length
 * of the section that holds it, and every section against the file length,
 * before anything is allocated; the checksum is verified before parsing.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "MOVIEME\0"
#define FORMAT_VERSION 1u
#define FORMAT_VERSION_IMPLICIT 2u /* version 1 + section IMPL */
#define FORMAT_VERSION_RANKING 3u  /* + RANK, and PMFA/PUFA/ICNT, RPRF
                                      (docs/model-format.md) */
#define RANK_SIZE 88u
#define RPRF_SIZE 16u /* rating_pref_weight f64, rating_pref_shift f64 */
#define IMPL_SIZE 24u
#define IMPL_IMPLICIT 1u
#define IMPL_BY_VALUE 2u
#define BOM 0x01020304u
#define HEADER_SIZE 32u
#define SECTION_HEAD 16u
#define TRAILER_SIZE 4u
#define FLAG_BIASES 1u
#define FLAG_NONNEG 2u
#define SHAP_SIZE 72u
/* Values a file may hold are the library's limits (movieme.h), the same
   as at every other door: rank <= REC_MAX_RANK (what training allows, so a
   request on a loaded model costs no more than on a trained one; a 19 KB
   rank-1536 file used to load and cost 0.24 s per fold-in), factors and
   biases within REC_MAX_FACTOR (rank-long float products cannot overflow:
   1024 * 1e15^2 < FLT_MAX; a factor of 1e34 made rec_add_user solve NaN
   factors, found by fuzz/fuzz_model_load), ratings, means and the rating
   range within REC_MAX_RATING (a global mean of 6e19 did the same). */
static bool values_ok(const float *x, size_t n, bool (*ok)(float))
{
    for (size_t i = 0; i < n; i++)
        if (!ok(x[i]))
            return false;
    return true;
}

enum {
    S_SHAP, S_MIDS, S_UIDS, S_MFAC, S_UFAC, S_MBIA, S_UBIA, S_MCNT, S_MMEA,
    S_ROFF, S_RITM, S_RVAL, S_MYEA, S_MTIT, S_MGEN, S_POOL, S_COUNT
};

static const struct {
    char tag[5];
    const char *what;
} sections[S_COUNT] = {
    {"SHAP", "shapes and parameters"}, {"MIDS", "movie ids"},
    {"UIDS", "user ids"},              {"MFAC", "movie factors"},
    {"UFAC", "user factors"},          {"MBIA", "movie biases"},
    {"UBIA", "user biases"},           {"MCNT", "movie counts"},
    {"MMEA", "movie means"},           {"ROFF", "rated-movie offsets"},
    {"RITM", "rated movies"},          {"RVAL", "rated values"},
    {"MYEA", "movie years"},           {"MTIT", "title offsets"},
    {"MGEN", "genre offsets"},         {"POOL", "title and genre text"},
};

static bool host_is_le(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static void swap_bytes(void *p, size_t n, size_t es)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++, b += es)
        for (size_t j = 0; j < es / 2; j++) {
            unsigned char t = b[j];
            b[j] = b[es - 1 - j];
            b[es - 1 - j] = t;
        }
}

/* Keep messages readable: a long path is shown by its last characters. */
static const char *short_name(const char *path)
{
    size_t n = strlen(path);
    return n > 120 ? path + n - 120 : path;
}

static size_t pad8(size_t n) { return (n + 7u) & ~(size_t)7u; }

/* a * b, or SIZE_MAX on overflow. */
static size_t mul_sz(size_t a, size_t b)
{
    return (b != 0 && a > SIZE_MAX / b) ? SIZE_MAX : a * b;
}

enum { X_RANK, X_PMFA, X_PUFA, X_ICNT, X_RPRF, X_COUNT };
static const char extra_tags[X_COUNT][5] = {"RANK", "PMFA", "PUFA", "ICNT",
                                            "RPRF"};

static int extra_index(const unsigned char *tag)
{
    for (int x = 0; x < X_COUNT; x++)
        if (memcmp(tag, extra_tags[x], 4) == 0)
            return x;
    return -1;
}

/* ---- writing ----------------------------------------------------------- */

/* One writer for files and memory: bytes are staged in buf (converted and
   checksummed there), then flushed to the file `fd`, or, when fd < 0,
   appended to the caller's buffer `mem` (mem_cap bytes). */
typedef struct writer {
    int fd;
    unsigned char *mem;
    size_t mem_len, mem_cap;
    bool swap;       /* file order differs from the host's */
    uLong crc;
    size_t len;      /* bytes in buf */
    int err;         /* errno of the first failure, 0 if none */
    unsigned char buf[1 << 16];
} writer;

static void w_flush(writer *w)
{
    size_t off = 0;
    if (w->fd < 0) {
        if (w->len > w->mem_cap - w->mem_len)
            w->err = EOVERFLOW; /* total_size() and write_model() disagree */
        else
            memcpy(w->mem + w->mem_len, w->buf, w->len);
        w->mem_len += w->err ? 0 : w->len;
        w->len = 0;
        return;
    }
    while (off < w->len && !w->err) {
        ssize_t k = write(w->fd, w->buf + off, w->len - off);
        if (k < 0) {
            if (errno != EINTR)
                w->err = errno;
        } else {
            off += (size_t)k;
        }
    }
    w->len = 0;
}

/* Write `bytes` of src to the file as they are, checksummed in place. */
static void w_direct(writer *w, const unsigned char *src, size_t bytes)
{
    w_flush(w); /* what is staged goes first */
    w->crc = crc32_z(w->crc, src, bytes);
    for (size_t off = 0; off < bytes && !w->err;) {
        ssize_t k = write(w->fd, src + off, bytes - off);
        if (k < 0) {
            if (errno != EINTR)
                w->err = errno;
        } else {
            off += (size_t)k;
        }
    }
}

/* Append n elements of es bytes, converted to the file's byte order. A
   large array bound for a file in the host's order is written from where
   it is (no copy through buf). */
static void w_array(writer *w, const void *p, size_t n, size_t es)
{
    const unsigned char *src = p;
    size_t bytes = n * es;
    if (w->fd >= 0 && (!w->swap || es == 1) && bytes >= sizeof w->buf) {
        w_direct(w, src, bytes);
        return;
    }
    while (bytes > 0) {
        if (w->len + es > sizeof w->buf)
            w_flush(w);
        size_t room = (sizeof w->buf - w->len) / es * es;
        size_t k = bytes < room ? bytes : room;
        unsigned char *dst = w->buf + w->len;
        memcpy(dst, src, k);
        if (w->swap && es > 1)
            swap_bytes(dst, k / es, es);
        w->crc = crc32_z(w->crc, dst, k);
        w->len += k;
        src += k;
        bytes -= k;
    }
}

static void w_u32(writer *w, uint32_t v) { w_array(w, &v, 1, 4); }
static void w_u64(writer *w, uint64_t v) { w_array(w, &v, 1, 8); }
static void w_f32(writer *w, float v) { w_array(w, &v, 1, 4); }
static void w_f64(writer *w, double v) { w_array(w, &v, 1, 8); }

static void w_zeros(writer *w, size_t n)
{
    static const unsigned char z[8];
    w_array(w, z, n, 1);
}

static void w_section_head(writer *w, int s, size_t len)
{
    w_array(w, sections[s].tag, 4, 1);
    w_u32(w, 0);
    w_u64(w, len);
}

static void w_section(writer *w, int s, const void *p, size_t n, size_t es)
{
    w_section_head(w, s, n * es);
    w_array(w, p, n, es);
    w_zeros(w, pad8(n * es) - n * es);
}

/* The rated movies of every user, overrides flattened in. */
typedef struct rated_view {
    uint64_t *off; /* n_users + 1 */
    size_t nnz;
} rated_view;

static rec_status rated_view_build(rated_view *v, const rec_model *m,
                                   rec_error *err)
{
    v->off = malloc((m->n_users + 1) * sizeof *v->off);
    if (!v->off)
        return rec__fail(err, REC_ENOMEM, "out of memory saving a model");
    v->off[0] = 0;
    for (size_t u = 0; u < m->n_users; u++) {
        const int32_t *items;
        const float *vals;
        size_t n;
        rec__model_user_rated(m, u, &items, &vals, &n);
        v->off[u + 1] = v->off[u] + n;
    }
    v->nnz = (size_t)v->off[m->n_users];
    return REC_OK;
}

/* Version 3 holds what 0.2 models add; other models keep the older
   versions byte for byte, so older readers still read them. */
static bool needs_ranking(const rec_model *m)
{
    return m->pref_rank > 0 || m->bias_prior != 0.0 ||
           m->weighting.kind != REC_WEIGHT_NONE;
}

static size_t n_extra(const rec_model *m)
{
    if (!needs_ranking(m))
        return 0;
    return 1 + (m->pref_rank ? 2 : 0) + (m->interactions ? 1 : 0) +
           (rec__model_has_rating_pref(m) ? 1 : 0);
}

static size_t total_size(const rec_model *m, const rated_view *v)
{
    size_t nm = m->n_movies, nu = m->n_users, k = (size_t)m->rank;
    size_t body[S_COUNT] = {
        [S_SHAP] = SHAP_SIZE,     [S_MIDS] = 4 * nm,     [S_UIDS] = 4 * nu,
        [S_MFAC] = 4 * nm * k,    [S_UFAC] = 4 * nu * k, [S_MBIA] = 4 * nm,
        [S_UBIA] = 4 * nu,        [S_MCNT] = 4 * nm,     [S_MMEA] = 4 * nm,
        [S_ROFF] = 8 * (nu + 1),  [S_RITM] = 4 * v->nnz, [S_RVAL] = 4 * v->nnz,
        [S_MYEA] = 4 * nm,        [S_MTIT] = 8 * nm,     [S_MGEN] = 8 * nm,
        [S_POOL] = m->meta.pool_len,
    };
    size_t t = HEADER_SIZE + TRAILER_SIZE;
    for (int s = 0; s < S_COUNT; s++)
        t += SECTION_HEAD + pad8(body[s]);
    if (m->implicit)
        t += SECTION_HEAD + IMPL_SIZE;
    if (needs_ranking(m)) {
        size_t kp = (size_t)m->pref_rank;
        t += SECTION_HEAD + RANK_SIZE;
        if (kp)
            t += 2 * SECTION_HEAD + pad8(4 * nm * kp) + pad8(4 * nu * kp);
        if (m->interactions)
            t += SECTION_HEAD + pad8(4 * nm);
        if (rec__model_has_rating_pref(m))
            t += SECTION_HEAD + RPRF_SIZE;
    }
    return t;
}

static void w_extra(writer *w, int x, const void *p, size_t n, size_t es)
{
    w_array(w, extra_tags[x], 4, 1);
    w_u32(w, 0);
    w_u64(w, n * es);
    w_array(w, p, n, es);
    w_zeros(w, pad8(n * es) - n * es);
}

static void write_ranking(writer *w, const rec_model *m)
{
    size_t kp = (size_t)m->pref_rank;
    const rec_weighting *g = &m->weighting;
    w_array(w, extra_tags[X_RANK], 4, 1);
    w_u32(w, 0);
    w_u64(w, RANK_SIZE);
    w_f64(w, m->bias_prior);
    w_f32(w, m->blend);
    w_u32(w, (uint32_t)kp);
    w_f64(w, m->pref_reg);
    w_f64(w, m->pref_alpha);
    w_u32(w, (uint32_t)g->kind);
    w_u32(w, g->by_value ? 1u : 0u);
    w_f32(w, g->min_rating);
    w_u32(w, m->pref_scaled ? 1u : 0u); /* 0 in files before the option */
    w_f64(w, g->k1);
    w_f64(w, g->b);
    w_f64(w, g->n_users);
    w_f64(w, g->avg_len);
    w_f64(w, m->blend_shrink);
    if (kp) {
        w_extra(w, X_PMFA, m->pref_movie, m->n_movies * kp, 4);
        w_extra(w, X_PUFA, m->pref_user, m->n_users * kp, 4);
    }
    if (m->interactions)
        w_extra(w, X_ICNT, m->interactions, m->n_movies, 4);
    if (rec__model_has_rating_pref(m)) { /* only then: other files keep
                                            their bytes */
        w_array(w, extra_tags[X_RPRF], 4, 1);
        w_u32(w, 0);
        w_u64(w, RPRF_SIZE);
        w_f64(w, m->rating_pref_weight);
        w_f64(w, m->rating_pref_shift);
    }
}

static void write_model(writer *w, const rec_model *m, const rated_view *v)
{
    size_t nm = m->n_movies, nu = m->n_users, k = (size_t)m->rank;

    w_array(w, MAGIC, 8, 1);
    w_u32(w, needs_ranking(m) ? FORMAT_VERSION_RANKING
             : m->implicit    ? FORMAT_VERSION_IMPLICIT
                              : FORMAT_VERSION);
    w_u32(w, BOM);
    w_u64(w, total_size(m, v));
    w_u32(w, (uint32_t)(S_COUNT + (m->implicit ? 1u : 0u) + n_extra(m)));
    w_u32(w, 0);

    w_section_head(w, S_SHAP, SHAP_SIZE);
    w_u32(w, (uint32_t)m->rank);
    w_u32(w, (m->has_biases ? FLAG_BIASES : 0u) |
                 (m->nonnegative ? FLAG_NONNEG : 0u));
    w_u64(w, nu);
    w_u64(w, nm);
    w_u64(w, v->nnz);
    w_u64(w, m->meta.pool_len);
    w_f32(w, m->global_mean);
    w_f32(w, m->rating_min);
    w_f32(w, m->rating_max);
    w_u32(w, 0);
    w_f64(w, m->reg);
    w_f64(w, m->bias_reg);

    w_section(w, S_MIDS, m->movie_ids, nm, 4);
    w_section(w, S_UIDS, m->user_ids, nu, 4);
    w_section(w, S_MFAC, m->movie_factors, nm * k, 4);
    w_section(w, S_UFAC, m->user_factors, nu * k, 4);
    w_section(w, S_MBIA, m->movie_bias, nm, 4);
    w_section(w, S_UBIA, m->user_bias, nu, 4);
    w_section(w, S_MCNT, m->movie_count, nm, 4);
    w_section(w, S_MMEA, m->movie_mean, nm, 4);
    w_section(w, S_ROFF, v->off, nu + 1, 8);

    /* Rated movies, then their values, user by user. */
    for (int pass = 0; pass < 2; pass++) {
        w_section_head(w, pass ? S_RVAL : S_RITM, 4 * v->nnz);
        for (size_t u = 0; u < nu; u++) {
            const int32_t *items;
            const float *vals;
            size_t n;
            rec__model_user_rated(m, u, &items, &vals, &n);
            if (pass)
                w_array(w, vals, n, 4);
            else
                w_array(w, items, n, 4);
        }
        w_zeros(w, pad8(4 * v->nnz) - 4 * v->nnz);
    }

    w_section(w, S_MYEA, m->meta.year, nm, 4);
    w_section(w, S_MTIT, m->meta.title_off, nm, 8);
    w_section(w, S_MGEN, m->meta.genres_off, nm, 8);
    w_section(w, S_POOL, m->meta.pool, m->meta.pool_len, 1);
    if (m->implicit) {
        w_array(w, "IMPL", 4, 1);
        w_u32(w, 0);
        w_u64(w, IMPL_SIZE);
        w_u32(w, IMPL_IMPLICIT |
                     (m->implicit_weight_by_value ? IMPL_BY_VALUE : 0u));
        w_u32(w, 0);
        w_f64(w, m->alpha);
        w_f32(w, m->implicit_min_rating);
        w_u32(w, 0);
    }
    if (needs_ranking(m))
        write_ranking(w, m);

    uint32_t crc = (uint32_t)w->crc;
    w_u32(w, crc);
    w_flush(w);
}

/* Create a fresh file beside `path` (honouring the umask). */
static int open_temp(char *tmp, size_t cap, const char *path)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t state = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                     ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)tmp;
    for (int tries = 0; tries < 100; tries++) {
        unsigned r = (unsigned)(rec__splitmix64(&state) & 0xffffffu);
        if ((size_t)snprintf(tmp, cap, "%s.tmp-%06x", path, r) >= cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1;
}

/* fsync the directory holding `path`, so the rename itself is durable. */
static void sync_parent_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* best effort: some file systems refuse it */
        close(fd);
    }
}

/* What both saves do first: check the model, flatten its rated lists. */
static rec_status save_begin(rated_view *v, const rec_model *m,
                             const char *call, rec_error *err)
{
    if (m->rank <= 0 || m->rank > REC_MAX_RANK)
        return rec__fail(err, REC_EINVAL, "%s: bad rank %d", call, m->rank);
    return rated_view_build(v, m, err);
}

static writer *writer_new(int fd, void *mem, size_t mem_cap, int big_endian)
{
    writer *w = malloc(sizeof *w);
    if (!w)
        return NULL;
    w->fd = fd;
    w->mem = mem;
    w->mem_len = 0;
    w->mem_cap = mem_cap;
    w->swap = (big_endian != 0) == host_is_le();
    w->crc = crc32_z(0L, Z_NULL, 0);
    w->len = 0;
    w->err = 0;
    return w;
}

rec_status rec__model_save_order(const rec_model *m, const char *path,
                                 int big_endian, rec_error *err)
{
    if (!m || !path || !*path)
        return rec__fail(err, REC_EINVAL, "rec_model_save: NULL model or path");
    rated_view v = {0};
    rec_status st = save_begin(&v, m, "rec_model_save", err);
    if (st != REC_OK)
        return st;

    char tmp[4200];
    int fd = open_temp(tmp, sizeof tmp, path);
    if (fd < 0) {
        int e = errno;
        free(v.off);
        return rec__fail(err, REC_EIO, "%s: cannot create a file: %s",
                         short_name(path), strerror(e));
    }
    writer *w = writer_new(fd, NULL, 0, big_endian);
    if (!w) {
        close(fd);
        unlink(tmp);
        free(v.off);
        return rec__fail(err, REC_ENOMEM, "out of memory saving a model");
    }
    write_model(w, m, &v);
    free(v.off);

    int e = w->err;
    free(w);
    if (!e && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (!e && rename(tmp, path) != 0)
        e = errno;
    if (e) {
        unlink(tmp);
        return rec__fail(err, REC_EIO, "%s: cannot write the model: %s",
                         short_name(path), strerror(e));
    }
    sync_parent_dir(path);
    return REC_OK;
}

rec_status rec_model_save(const rec_model *m, const char *path, rec_error *err)
{
    return rec__model_save_order(m, path, 0, err);
}

rec_status rec_model_save_mem(void *out, size_t cap, size_t *len_out,
                              const rec_model *m, rec_error *err)
{
    if (!m || !len_out || (cap && !out))
        return rec__fail(err, REC_EINVAL, "rec_model_save_mem: NULL argument");
    rated_view v = {0};
    rec_status st = save_begin(&v, m, "rec_model_save_mem", err);
    if (st != REC_OK)
        return st;
    size_t need = total_size(m, &v);
    *len_out = need;
    if (!out) {
        free(v.off);
        return REC_OK;
    }
    if (cap < need) {
        free(v.off);
        return rec__fail(err, REC_EINVAL,
                         "rec_model_save_mem: buffer of %zu bytes, the model "
                         "needs %zu",
                         cap, need);
    }
    writer *w = writer_new(-1, out, cap, 0);
    if (!w) {
        free(v.off);
        return rec__fail(err, REC_ENOMEM, "out of memory saving a model");
    }
    write_model(w, m, &v);
    free(v.off);
    int e = w->err;
    size_t wrote = w->mem_len;
    free(w);
    if (e || wrote != need)
        return rec__fail(err, REC_EIO, "rec_model_save_mem: wrote %zu bytes, "
                         "expected %zu", wrote, need);
    return REC_OK;
}

/* ---- reading ----------------------------------------------------------- */

typedef struct reader {
    const unsigned char *p;
    size_t len;
    bool swap;
    const char *name;
    const unsigned char *body[S_COUNT]; /* section contents, NULL if absent */
    size_t body_len[S_COUNT];
    uint32_t version;
    const unsigned char *impl; /* section IMPL (version 2), or NULL */
    size_t impl_len;
    /* version 3: ranking parameters, preference factors, interactions */
    const unsigned char *extra[X_COUNT];
    size_t extra_len[X_COUNT];
} reader;


/* One number of es bytes at `off`, in host order. */
static void r_get(const reader *r, size_t off, void *dst, size_t es)
{
    memcpy(dst, r->p + off, es);
    if (r->swap)
        swap_bytes(dst, 1, es);
}

static uint32_t r_u32(const reader *r, size_t off)
{
    uint32_t v;
    r_get(r, off, &v, 4);
    return v;
}

static uint64_t r_u64(const reader *r, size_t off)
{
    uint64_t v;
    r_get(r, off, &v, 8);
    return v;
}

/* Copy section s (already checked to hold n elements of es bytes). */
static void r_copy(const reader *r, int s, void *dst, size_t n, size_t es)
{
    if (n == 0)
        return;
    memcpy(dst, r->body[s], n * es);
    if (r->swap && es > 1)
        swap_bytes(dst, n, es);
}

static void r_get_array(const reader *r, const unsigned char *src, void *dst,
                        size_t n, size_t es)
{
    if (n == 0)
        return;
    memcpy(dst, src, n * es);
    if (r->swap && es > 1)
        swap_bytes(dst, n, es);
}

static rec_status bad(const reader *r, rec_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static rec_status bad(const reader *r, rec_error *err, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return rec__fail(err, REC_EFORMAT, "%s: %s", short_name(r->name), what);
}

static const char *tag_name(const unsigned char *t, char out[5])
{
    for (int i = 0; i < 4; i++)
        out[i] = (t[i] >= 0x20 && t[i] < 0x7f) ? (char)t[i] : '?';
    out[4] = '\0';
    return out;
}

static int section_index(const unsigned char *t)
{
    for (int s = 0; s < S_COUNT; s++)
        if (memcmp(t, sections[s].tag, 4) == 0)
            return s;
    return -1;
}

/* The file is shorter than its header says: name where it was cut. */
static rec_status report_truncation(const reader *r, uint64_t want,
                                    uint32_t n_sections, rec_error *err)
{
    size_t off = HEADER_SIZE;
    char t[5];
    for (uint32_t i = 0; i < n_sections; i++) {
        if (r->len < off + SECTION_HEAD)
            return bad(r, err,
                       "truncated: file ends at byte %zu, inside the head of "
                       "section %u of %u (file should be %llu bytes)",
                       r->len, i + 1, n_sections, (unsigned long long)want);
        uint64_t blen = r_u64(r, off + 8);
        int s = section_index(r->p + off);
        size_t room = r->len - off - SECTION_HEAD;
        if (blen > room || pad8((size_t)blen) > room)
            return bad(r, err,
                       "truncated in section %s (%s): file ends at byte %zu, "
                       "file should be %llu bytes",
                       tag_name(r->p + off, t), s >= 0 ? sections[s].what : "?",
                       r->len, (unsigned long long)want);
        off += SECTION_HEAD + pad8((size_t)blen);
    }
    return bad(r, err,
               "truncated: file ends at byte %zu in the checksum trailer, "
               "file should be %llu bytes",
               r->len, (unsigned long long)want);
}

/* Header, length, checksum and section table. */
static rec_status read_frame(reader *r, rec_error *err)
{
    if (r->len == 0)
        return bad(r, err, "empty file, not a model");
    size_t cmp = r->len < 8 ? r->len : 8;
    if (memcmp(r->p, MAGIC, cmp) != 0)
        return bad(r, err, "not a movieme model file (bad magic)");
    if (r->len < HEADER_SIZE)
        return bad(r, err, "truncated in the file header (%zu bytes)",
                   r->len);

    uint32_t bom;
    memcpy(&bom, r->p + 12, 4);
    r->swap = false;
    if (bom != BOM) {
        swap_bytes(&bom, 1, 4);
        if (bom != BOM)
            return bad(r, err, "bad byte-order mark 0x%08x",
                       (unsigned)r_u32(r, 12));
        r->swap = true; /* written on a host of the other byte order */
    }
    uint32_t version = r_u32(r, 8);
    r->version = version;
    if (version != FORMAT_VERSION && version != FORMAT_VERSION_IMPLICIT &&
        version != FORMAT_VERSION_RANKING)
        return bad(r, err,
                   version > FORMAT_VERSION_RANKING
                       ? "unsupported format version %u (newer than this "
                         "library's %u: upgrade libmovieme)"
                       : "unsupported format version %u (this library reads "
                         "%u)",
                   (unsigned)version, FORMAT_VERSION_RANKING);

    uint64_t want = r_u64(r, 16);
    uint32_t n_sections = r_u32(r, 24);
    if (r_u32(r, 28) != 0)
        return bad(r, err, "reserved header field is not zero");
    if (want > r->len)
        return report_truncation(r, want, n_sections, err);
    if (want < r->len)
        return bad(r, err, "file is %zu bytes but its header says %llu",
                   r->len, (unsigned long long)want);
    if (r->len < HEADER_SIZE + TRAILER_SIZE)
        return bad(r, err, "truncated: no checksum trailer");

    size_t end = r->len - TRAILER_SIZE;
    uint32_t crc = (uint32_t)crc32_z(crc32_z(0L, Z_NULL, 0), r->p, end);
    uint32_t stored = r_u32(r, end);
    if (crc != stored)
        return bad(r, err,
                   "checksum mismatch (stored 0x%08x, computed 0x%08x): the "
                   "file is corrupt",
                   (unsigned)stored, (unsigned)crc);

    size_t off = HEADER_SIZE;
    char t[5];
    for (uint32_t i = 0; i < n_sections; i++) {
        if (end - off < SECTION_HEAD)
            return bad(r, err, "section %u of %u runs past the end", i + 1,
                       n_sections);
        uint64_t blen = r_u64(r, off + 8);
        if (blen > end - off - SECTION_HEAD ||
            pad8((size_t)blen) > end - off - SECTION_HEAD)
            return bad(r, err, "section %s runs past the end of the file",
                       tag_name(r->p + off, t));
        int s = section_index(r->p + off);
        if (s == S_SHAP && i != 0)
            return bad(r, err, "section SHAP is not the first");
        if (s >= 0) {
            if (r->body[s])
                return bad(r, err, "section %s appears twice", sections[s].tag);
            if (r_u32(r, off + 4) != 0)
                return bad(r, err, "section %s: reserved field is not zero",
                           sections[s].tag);
            r->body[s] = r->p + off + SECTION_HEAD;
            r->body_len[s] = (size_t)blen;
        } else if (r->version >= FORMAT_VERSION_RANKING &&
                   extra_index(r->p + off) >= 0) {
            int x = extra_index(r->p + off);
            if (r->extra[x])
                return bad(r, err, "section %s appears twice", extra_tags[x]);
            if (r_u32(r, off + 4) != 0)
                return bad(r, err, "section %s: reserved field is not zero",
                           extra_tags[x]);
            r->extra[x] = r->p + off + SECTION_HEAD;
            r->extra_len[x] = (size_t)blen;
        } else if (r->version >= FORMAT_VERSION_IMPLICIT &&
                   memcmp(r->p + off, "IMPL", 4) == 0) {
            if (r->impl)
                return bad(r, err, "section IMPL appears twice");
            if (r_u32(r, off + 4) != 0 || blen != IMPL_SIZE)
                return bad(r, err, "section IMPL: bad reserved field or "
                                   "length");
            r->impl = r->p + off + SECTION_HEAD;
            r->impl_len = (size_t)blen;
        }
        off += SECTION_HEAD + pad8((size_t)blen);
    }
    if (off != end)
        return bad(r, err, "%zu stray bytes after the last section",
                   end - off);
    for (int s = 0; s < S_COUNT; s++)
        if (!r->body[s])
            return bad(r, err, "section %s (%s) is missing", sections[s].tag,
                       sections[s].what);
    if (r->version == FORMAT_VERSION_IMPLICIT && !r->impl)
        return bad(r, err, "section IMPL (implicit feedback) is missing");
    if (r->version >= FORMAT_VERSION_RANKING && !r->extra[X_RANK])
        return bad(r, err, "section RANK (ranking parameters) is missing");
    return REC_OK;
}

typedef struct shape {
    uint32_t rank, flags;
    size_t n_users, n_movies, nnz, pool_len;
    float global_mean, rating_min, rating_max;
    double reg, bias_reg;
} shape;

static rec_status read_shape(shape *sh, const reader *r, rec_error *err)
{
    if (r->body_len[S_SHAP] != SHAP_SIZE)
        return bad(r, err, "section SHAP has %zu bytes, expected %u",
                   r->body_len[S_SHAP], SHAP_SIZE);
    size_t o = (size_t)(r->body[S_SHAP] - r->p);
    sh->rank = r_u32(r, o);
    sh->flags = r_u32(r, o + 4);
    uint64_t nu = r_u64(r, o + 8), nm = r_u64(r, o + 16),
             nnz = r_u64(r, o + 24), pool = r_u64(r, o + 32);
    r_get(r, o + 40, &sh->global_mean, 4);
    r_get(r, o + 44, &sh->rating_min, 4);
    r_get(r, o + 48, &sh->rating_max, 4);
    uint32_t reserved = r_u32(r, o + 52);
    r_get(r, o + 56, &sh->reg, 8);
    r_get(r, o + 64, &sh->bias_reg, 8);

    if (sh->rank == 0 || sh->rank > REC_MAX_RANK)
        return bad(r, err, "section SHAP: bad rank %u (1 to %d, REC_MAX_RANK)",
                   (unsigned)sh->rank, REC_MAX_RANK);
    if (sh->flags & ~(FLAG_BIASES | FLAG_NONNEG) || reserved != 0)
        return bad(r, err, "section SHAP: unknown flags 0x%x",
                   (unsigned)sh->flags);
    /* Dense indices are int32; the per-section checks bound the rest. */
    if (nu > INT32_MAX || nm > INT32_MAX || nnz > r->len || pool > r->len ||
        pool == 0)
        return bad(r, err,
                   "section SHAP: impossible shape (%llu users, %llu movies, "
                   "%llu ratings, %llu text bytes)",
                   (unsigned long long)nu, (unsigned long long)nm,
                   (unsigned long long)nnz, (unsigned long long)pool);
    if (!rec__rating_ok(sh->global_mean) || !rec__rating_ok(sh->rating_min) ||
        !rec__rating_ok(sh->rating_max) ||
        sh->rating_min > sh->rating_max ||
        !isfinite(sh->reg) || !isfinite(sh->bias_reg) || sh->reg < 0 ||
        sh->bias_reg < 0)
        return bad(r, err, "section SHAP: bad mean, rating range or "
                           "regularisation");
    sh->n_users = (size_t)nu;
    sh->n_movies = (size_t)nm;
    sh->nnz = (size_t)nnz;
    sh->pool_len = (size_t)pool;

    size_t k = sh->rank;
    const size_t want[S_COUNT] = {
        [S_SHAP] = SHAP_SIZE,
        [S_MIDS] = mul_sz(4, nm),
        [S_UIDS] = mul_sz(4, nu),
        [S_MFAC] = mul_sz(4, mul_sz(nm, k)),
        [S_UFAC] = mul_sz(4, mul_sz(nu, k)),
        [S_MBIA] = mul_sz(4, nm),
        [S_UBIA] = mul_sz(4, nu),
        [S_MCNT] = mul_sz(4, nm),
        [S_MMEA] = mul_sz(4, nm),
        [S_ROFF] = mul_sz(8, nu + 1),
        [S_RITM] = mul_sz(4, nnz),
        [S_RVAL] = mul_sz(4, nnz),
        [S_MYEA] = mul_sz(4, nm),
        [S_MTIT] = mul_sz(8, nm),
        [S_MGEN] = mul_sz(8, nm),
        [S_POOL] = sh->pool_len,
    };
    for (int s = 0; s < S_COUNT; s++)
        if (r->body_len[s] != want[s])
            return bad(r, err,
                       "section %s (%s) has %zu bytes, the shape needs %zu",
                       sections[s].tag, sections[s].what, r->body_len[s],
                       want[s]);
    return REC_OK;
}


/* Content checks that the shape cannot express. Reads from the file. */
static rec_status check_content(const reader *r, const shape *sh,
                                rec_error *err)
{
    size_t mo = (size_t)(r->body[S_MIDS] - r->p);
    for (size_t i = 0; i < sh->n_movies; i++) {
        int32_t id = (int32_t)r_u32(r, mo + 4 * i);
        if (id < 0 || (i > 0 && id <= (int32_t)r_u32(r, mo + 4 * (i - 1))))
            return bad(r, err, "section MIDS: movie ids not ascending at %zu",
                       i);
    }
    size_t uo = (size_t)(r->body[S_UIDS] - r->p);
    for (size_t i = 0; i < sh->n_users; i++)
        if ((int32_t)r_u32(r, uo + 4 * i) < 0)
            return bad(r, err, "section UIDS: negative user id at %zu", i);

    size_t oo = (size_t)(r->body[S_ROFF] - r->p);
    size_t io = (size_t)(r->body[S_RITM] - r->p);
    uint64_t prev = r_u64(r, oo);
    if (prev != 0)
        return bad(r, err, "section ROFF: first offset is not 0");
    for (size_t u = 0; u < sh->n_users; u++) {
        uint64_t next = r_u64(r, oo + 8 * (u + 1));
        if (next < prev || next > sh->nnz)
            return bad(r, err, "section ROFF: bad offset for user %zu", u);
        for (uint64_t j = prev; j < next; j++) {
            int32_t it = (int32_t)r_u32(r, io + 4 * (size_t)j);
            if (it < 0 || (size_t)it >= sh->n_movies ||
                (j > prev && it <= (int32_t)r_u32(r, io + 4 * (size_t)j - 4)))
                return bad(r, err,
                           "section RITM: bad movie index for user %zu", u);
        }
        prev = next;
    }
    if (prev != sh->nnz)
        return bad(r, err, "section ROFF: last offset %llu, expected %zu",
                   (unsigned long long)prev, sh->nnz);

    const unsigned char *pool = r->body[S_POOL];
    if (pool[0] != '\0' || pool[sh->pool_len - 1] != '\0')
        return bad(r, err, "section POOL: text is not NUL-terminated");
    if (!rec__utf8_valid(pool, sh->pool_len))
        return bad(r, err, "section POOL: text is not valid UTF-8");
    for (int s = S_MTIT; s <= S_MGEN; s++) {
        size_t so = (size_t)(r->body[s] - r->p);
        for (size_t i = 0; i < sh->n_movies; i++) {
            uint64_t at = r_u64(r, so + 8 * i);
            if (at >= sh->pool_len)
                return bad(r, err, "section %s: offset past the text",
                           sections[s].tag);
            /* inside a valid pool, a string that starts on a character
               boundary is valid UTF-8 up to its NUL */
            if ((pool[at] & 0xC0) == 0x80)
                return bad(r, err, "section %s: offset inside a character",
                           sections[s].tag);
        }
    }
    return REC_OK;
}

/* Section RANK (and the preference factors and interaction counts it
   announces) into the model. */
static rec_status read_ranking(rec_model *m, const reader *r,
                               const shape *sh, rec_error *err)
{
    if (r->extra_len[X_RANK] != RANK_SIZE)
        return bad(r, err, "section RANK has %zu bytes, expected %u",
                   r->extra_len[X_RANK], RANK_SIZE);
    size_t o = (size_t)(r->extra[X_RANK] - r->p);
    uint32_t kp = r_u32(r, o + 12), kind = r_u32(r, o + 32),
             by_value = r_u32(r, o + 36), scaled = r_u32(r, o + 44);
    float blend, min_rating;
    r_get(r, o, &m->bias_prior, 8);
    r_get(r, o + 8, &blend, 4);
    r_get(r, o + 16, &m->pref_reg, 8);
    r_get(r, o + 24, &m->pref_alpha, 8);
    r_get(r, o + 40, &min_rating, 4);
    rec_weighting *w = &m->weighting;
    w->kind = (int)kind;
    w->by_value = by_value != 0;
    w->min_rating = min_rating;
    r_get(r, o + 48, &w->k1, 8);
    r_get(r, o + 56, &w->b, 8);
    r_get(r, o + 64, &w->n_users, 8);
    r_get(r, o + 72, &w->avg_len, 8);
    r_get(r, o + 80, &m->blend_shrink, 8);
    m->blend = blend;
    m->pref_scaled = scaled != 0;
    if (kp > REC_MAX_RANK || (kp && m->implicit) || kind > REC_WEIGHT_BM25 ||
        by_value > 1 || scaled > 1 ||
        !(m->bias_prior >= 0.0 && m->bias_prior <= 1e15) ||
        !(blend >= 0.0f && blend <= 1e6f) ||
        !(m->pref_reg >= 0.0 && m->pref_reg <= 1e15) ||
        !(m->pref_alpha >= 0.0 && m->pref_alpha <= 1e15) ||
        !rec__rating_ok(min_rating) ||
        !(w->k1 >= 0.0 && w->k1 <= 1e15) || !(w->b >= 0.0 && w->b <= 1.0) ||
        !(w->n_users >= 0.0 && w->n_users <= 1e15) ||
        !(w->avg_len >= 0.0 && w->avg_len <= 1e15) ||
        !(m->blend_shrink >= 0.0 && m->blend_shrink <= 1e15))
        return bad(r, err, "section RANK: bad preference rank, weighting or "
                           "parameter");
    size_t nm = sh->n_movies, nu = sh->n_users;
    if (kp) {
        if (!r->extra[X_PMFA] || !r->extra[X_PUFA] ||
            r->extra_len[X_PMFA] != mul_sz(4, mul_sz(nm, kp)) ||
            r->extra_len[X_PUFA] != mul_sz(4, mul_sz(nu, kp)))
            return bad(r, err, "sections PMFA/PUFA (preference factors) are "
                               "missing or do not match the shape");
        if (rec__model_alloc_pref(m, (int)kp, err) != REC_OK)
            return rec__fail(err, REC_ENOMEM, "%s: out of memory loading the "
                             "model", short_name(r->name));
        r_get_array(r, r->extra[X_PMFA], m->pref_movie, nm * kp, 4);
        r_get_array(r, r->extra[X_PUFA], m->pref_user, nu * kp, 4);
        if (!values_ok(m->pref_movie, nm * kp, rec__factor_ok) ||
            !values_ok(m->pref_user, nu * kp, rec__factor_ok))
            return bad(r, err, "a preference factor is not finite or out of "
                               "range");
    }
    if (kind == REC_WEIGHT_BM25) {
        if (!r->extra[X_ICNT] || r->extra_len[X_ICNT] != mul_sz(4, nm))
            return bad(r, err, "section ICNT (interaction counts) is missing "
                               "or does not match the shape");
        m->interactions = malloc((nm ? nm : 1) * sizeof *m->interactions);
        if (!m->interactions)
            return rec__fail(err, REC_ENOMEM, "%s: out of memory loading the "
                             "model", short_name(r->name));
        r_get_array(r, r->extra[X_ICNT], m->interactions, nm, 4);
    }
    if (r->extra[X_RPRF]) {
        if (r->extra_len[X_RPRF] != RPRF_SIZE || !kp)
            return bad(r, err, "section RPRF (preference term of predicted "
                               "ratings) has %zu bytes or no preference "
                               "model to go with",
                       r->extra_len[X_RPRF]);
        size_t o2 = (size_t)(r->extra[X_RPRF] - r->p);
        r_get(r, o2, &m->rating_pref_weight, 8);
        r_get(r, o2 + 8, &m->rating_pref_shift, 8);
        if (!(fabs(m->rating_pref_weight) <= 1e6) ||
            !(fabs(m->rating_pref_shift) <= 1e6))
            return bad(r, err, "section RPRF: a value is not finite or out "
                               "of range");
    }
    return REC_OK;
}

/* Build the model from a checked file image. */
static rec_status build_model(rec_model **out, const reader *r,
                              const shape *sh, rec_error *err)
{
    rec_model *m = NULL;
    rec_error why = {0};
    rec_status st = rec__model_alloc(&m, (int)sh->rank, sh->n_users,
                                     sh->n_movies, sh->nnz, &why);
    if (st != REC_OK)
        return rec__fail(err, st, "%s: cannot hold a model of %zu users, "
                         "%zu movies, rank %u: %s", short_name(r->name),
                         sh->n_users, sh->n_movies, (unsigned)sh->rank,
                         why.msg);
    size_t nu = sh->n_users, nm = sh->n_movies, k = sh->rank;
    m->global_mean = sh->global_mean;
    m->rating_min = sh->rating_min;
    m->rating_max = sh->rating_max;
    m->has_biases = (sh->flags & FLAG_BIASES) != 0;
    m->nonnegative = (sh->flags & FLAG_NONNEG) != 0;
    m->reg = sh->reg;
    m->bias_reg = sh->bias_reg;
    if (r->impl) { /* format version 2: an implicit-feedback model */
        size_t io = (size_t)(r->impl - r->p);
        uint32_t fl = r_u32(r, io);
        uint64_t a = r_u64(r, io + 8);
        uint32_t mr = r_u32(r, io + 16);
        memcpy(&m->alpha, &a, 8);
        memcpy(&m->implicit_min_rating, &mr, 4);
        m->implicit = 1;
        m->implicit_weight_by_value = (fl & IMPL_BY_VALUE) != 0;
        if (fl != (fl & (IMPL_IMPLICIT | IMPL_BY_VALUE)) ||
            !(fl & IMPL_IMPLICIT) || !(m->alpha > 0.0) ||
            !isfinite(m->alpha) || !isfinite(m->implicit_min_rating) ||
            r_u32(r, io + 4) != 0 || r_u32(r, io + 20) != 0 ||
            m->has_biases || m->nonnegative) {
            rec_model_free(m);
            return bad(r, err, "section IMPL: bad flags, alpha or "
                               "min_rating");
        }
    }

    if (m->implicit)
        rec__weighting_none(&m->weighting, m->implicit_min_rating,
                            m->implicit_weight_by_value);
    if (r->extra[X_RANK] && (st = read_ranking(m, r, sh, err)) != REC_OK) {
        rec_model_free(m);
        return st;
    }

    r_copy(r, S_MIDS, m->movie_ids, nm, 4);
    r_copy(r, S_UIDS, m->user_ids, nu, 4);
    r_copy(r, S_MFAC, m->movie_factors, nm * k, 4);
    r_copy(r, S_UFAC, m->user_factors, nu * k, 4);
    r_copy(r, S_MBIA, m->movie_bias, nm, 4);
    r_copy(r, S_UBIA, m->user_bias, nu, 4);
    r_copy(r, S_MCNT, m->movie_count, nm, 4);
    r_copy(r, S_MMEA, m->movie_mean, nm, 4);
    r_copy(r, S_ROFF, m->rated_off, nu + 1, 8);
    r_copy(r, S_RITM, m->rated_items, sh->nnz, 4);
    r_copy(r, S_RVAL, m->rated_vals, sh->nnz, 4);
    m->n_trained_users = nu;

    if (!values_ok(m->movie_factors, nm * k, rec__factor_ok) ||
        !values_ok(m->user_factors, nu * k, rec__factor_ok) ||
        !values_ok(m->movie_bias, nm, rec__factor_ok) ||
        !values_ok(m->user_bias, nu, rec__factor_ok) ||
        !values_ok(m->movie_mean, nm, rec__rating_ok) ||
        !values_ok(m->rated_vals, sh->nnz, rec__rating_ok)) {
        rec_model_free(m);
        return bad(r, err, "a factor, bias, mean or rating is not finite "
                           "or out of range");
    }

    st = rec__idmap_reserve(&m->movie_map, nm);
    if (st == REC_OK)
        st = rec__idmap_reserve(&m->user_map, nu);
    for (size_t i = 0; st == REC_OK && i < nm; i++)
        st = rec__idmap_put(&m->movie_map, m->movie_ids[i], (int32_t)i);
    for (size_t i = 0; st == REC_OK && i < nu; i++) {
        int32_t id = m->user_ids[i];
        if (rec__idmap_get(&m->user_map, id) >= 0) {
            rec_model_free(m);
            return bad(r, err, "section UIDS: user id %d appears twice",
                       (int)id);
        }
        st = rec__idmap_put(&m->user_map, m->user_ids[i], (int32_t)i);
    }

    /* Metadata goes through metadata.c so its invariants hold. */
    if (st == REC_OK)
        st = rec__meta_resize(&m->meta, nm);
    const char *pool = (const char *)r->body[S_POOL];
    size_t to = (size_t)(r->body[S_MTIT] - r->p);
    size_t go = (size_t)(r->body[S_MGEN] - r->p);
    size_t yo = (size_t)(r->body[S_MYEA] - r->p);
    for (size_t i = 0; st == REC_OK && i < nm; i++) {
        const char *title = pool + r_u64(r, to + 8 * i);
        const char *genres = pool + r_u64(r, go + 8 * i);
        if (*title || *genres)
            st = rec__meta_set(&m->meta, i, title, strlen(title), genres,
                               strlen(genres));
        m->meta.year[i] = (int32_t)r_u32(r, yo + 4 * i);
    }
    if (st != REC_OK) {
        rec_model_free(m);
        return rec__fail(err, st, "%s: out of memory loading the model",
                         short_name(r->name));
    }
    if ((st = rec__model_finish(m, err)) != REC_OK) {
        rec_model_free(m);
        return st;
    }
    *out = m;
    return REC_OK;
}

rec_status rec__model_load_mem(rec_model **out, const void *data, size_t len,
                               const char *name, rec_error *err)
{
    if (!out || (!data && len))
        return rec__fail(err, REC_EINVAL, "rec_model_load: NULL argument");
    *out = NULL;
    reader r = {.p = data, .len = len, .name = name ? name : "(memory)"};
    shape sh = {0};
    rec_status st = read_frame(&r, err);
    if (st == REC_OK)
        st = read_shape(&sh, &r, err);
    if (st == REC_OK)
        st = check_content(&r, &sh, err);
    if (st == REC_OK)
        st = build_model(out, &r, &sh, err);
    return st;
}

rec_status rec_model_load_mem(rec_model **out, const void *data, size_t len,
                              rec_error *err)
{
    return rec__model_load_mem(out, data, len, "(memory)", err);
}

static rec_status io_fail(rec_error *err, const char *path, const char *what,
                          int e)
{
    return rec__fail(err, e == ENOENT || e == ENOTDIR ? REC_ENOTFOUND : REC_EIO,
                     "%s: %s: %s", short_name(path), what, strerror(e));
}

rec_status rec_model_load(rec_model **out, const char *path, rec_error *err)
{
    if (!out || !path)
        return rec__fail(err, REC_EINVAL, "rec_model_load: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return io_fail(err, path, "cannot open the model", errno);
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return io_fail(err, path, "cannot stat the model", e);
    }
    if (S_ISDIR(sb.st_mode)) {
        close(fd);
        return rec__fail(err, REC_EIO, "%s: is a directory, not a model file",
                         short_name(path));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return rec__fail(err, REC_EIO, "%s: not a regular file",
                         short_name(path));
    }
    size_t len = (size_t)sb.st_size;
    if ((off_t)len != sb.st_size) {
        close(fd);
        return rec__fail(err, REC_EIO, "%s: too large", short_name(path));
    }
    if (len == 0) {
        close(fd);
        return rec__model_load_mem(out, "", 0, path, err);
    }

    /* Map the file; if that fails, read it into memory. */
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    rec_status st;
    if (map != MAP_FAILED) {
        close(fd);
        st = rec__model_load_mem(out, map, len, path, err);
        munmap(map, len);
        return st;
    }
    unsigned char *buf = malloc(len);
    if (!buf) {
        close(fd);
        return rec__fail(err, REC_ENOMEM, "%s: out of memory reading %zu bytes",
                         short_name(path), len);
    }
    size_t got = 0;
    while (got < len) {
        ssize_t k = read(fd, buf + got, len - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            free(buf);
            close(fd);
            return io_fail(err, path, "cannot read the model", e);
        }
        got += (size_t)k;
    }
    close(fd);
    st = rec__model_load_mem(out, buf, len, path, err);
    free(buf);
    return st;
}
