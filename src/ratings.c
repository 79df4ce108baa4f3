/* ratings.c - the dataset: external ids mapped to dense indices in
   ascending id order, ratings twice (CSR by user, CSC by movie), movie
   metadata. Built from COO triplets with parallel stable counting sorts. */
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MAX_THREADS 16

static int threads_for(size_t work)
{
#ifdef _OPENMP
    if (work < ((size_t)1 << 16))
        return 1;
    int t = omp_get_max_threads();
    return t < 1 ? 1 : (t > MAX_THREADS ? MAX_THREADS : t);
#else
    (void)work;
    return 1;
#endif
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static rec_status map_sorted(rec_idmap *map, const int32_t *ids, size_t n)
{
    rec__idmap_free(map);
    rec_status st = rec__idmap_reserve(map, n);
    for (size_t i = 0; st == REC_OK && i < n; i++)
        st = rec__idmap_put(map, ids[i], (int32_t)i);
    return st;
}

/* Collect the sorted distinct ids of a[0..n) and b[0..nb) into *ids_out,
   fill `map` (id -> dense), and replace each a[i] by its dense index. */
static rec_status densify(int32_t *a, size_t n, const int32_t *b, size_t nb,
                          int32_t **ids_out, size_t *count_out,
                          rec_idmap *map)
{
    int32_t mx = -1;
    int nt = threads_for(n);
#pragma omp parallel for num_threads(nt) reduction(max : mx) schedule(static)
    for (size_t i = 0; i < n; i++)
        if (a[i] > mx)
            mx = a[i];
    for (size_t i = 0; i < nb; i++)
        if (b[i] > mx)
            mx = b[i];
    size_t total = n + nb;
    size_t limit = total * 4 > ((size_t)1 << 22) ? total * 4 : ((size_t)1 << 22);
    int32_t *ids = NULL;
    size_t k = 0;
    rec_status st = REC_OK;

    if (mx < 0) {
        /* nothing at all */
    } else if ((size_t)mx < limit && (size_t)mx < ((size_t)1 << 28)) {
        /* Small id range: a direct table beats hashing. */
        int32_t *slot = calloc((size_t)mx + 1, sizeof *slot);
        if (!slot)
            return REC_ENOMEM;
        for (size_t i = 0; i < n; i++)
            slot[a[i]] = 1;
        for (size_t i = 0; i < nb; i++)
            slot[b[i]] = 1;
        for (size_t v = 0; v <= (size_t)mx; v++)
            k += (size_t)slot[v];
        ids = malloc((k ? k : 1) * sizeof *ids);
        if (!ids) {
            free(slot);
            return REC_ENOMEM;
        }
        k = 0;
        for (size_t v = 0; v <= (size_t)mx; v++) {
            if (slot[v]) {
                ids[k] = (int32_t)v;
                slot[v] = (int32_t)k++;
            }
        }
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t i = 0; i < n; i++)
            a[i] = slot[a[i]];
        free(slot);
    } else {
        rec_idmap seen;
        rec__idmap_init(&seen);
        for (size_t i = 0; st == REC_OK && i < total; i++) {
            int32_t key = i < n ? a[i] : b[i - n];
            if (rec__idmap_get(&seen, key) < 0)
                st = rec__idmap_put(&seen, key, 0);
        }
        if (st == REC_OK && !(ids = malloc((seen.size ? seen.size : 1) * sizeof *ids)))
            st = REC_ENOMEM;
        if (st == REC_OK) {
            for (size_t s = 0; s < seen.cap; s++)
                if (seen.keys[s] >= 0)
                    ids[k++] = seen.keys[s];
            qsort(ids, k, sizeof *ids, cmp_i32);
        }
        rec__idmap_free(&seen);
    }
    if (st == REC_OK)
        st = map_sorted(map, ids, k);
    if (st == REC_OK && !(mx >= 0 && (size_t)mx < limit && (size_t)mx < ((size_t)1 << 28))) {
#pragma omp parallel for num_threads(nt) schedule(static)
        for (size_t i = 0; i < n; i++)
            a[i] = rec__idmap_get(map, a[i]);
    }
    if (st != REC_OK) {
        free(ids);
        return st;
    }
    *ids_out = ids;
    *count_out = k;
    return REC_OK;
}

/* Stable counting sort ("transpose"). The source is either COO (src_off
   NULL: entry e has payload src_pay[e]) or compressed rows (entry e of row
   r has payload r). Entries are bucketed by key[e] < n_keys; within a
   bucket they keep source order. */
static rec_status scatter(size_t n_src_rows, const uint64_t *src_off,
                          const int32_t *src_pay, size_t nnz,
                          const int32_t *key, const float *val, size_t n_keys,
                          uint64_t **off_out, int32_t **idx_out,
                          float **val_out)
{
    int nt = threads_for(nnz);
    uint64_t *off = malloc((n_keys + 1) * sizeof *off);
    int32_t *idx = malloc((nnz ? nnz : 1) * sizeof *idx);
    float *vv = malloc((nnz ? nnz : 1) * sizeof *vv);
    uint64_t *hist = calloc((size_t)nt * (n_keys ? n_keys : 1), sizeof *hist);
    size_t lo[MAX_THREADS + 1]; /* per part: row range (CSR) or entry range */
    if (!off || !idx || !vv || !hist) {
        free(off);
        free(idx);
        free(vv);
        free(hist);
        return REC_ENOMEM;
    }
    size_t units = src_off ? n_src_rows : nnz;
    lo[0] = 0;
    for (int t = 1; t <= nt; t++) {
        uint64_t target = (uint64_t)nnz * (uint64_t)t / (uint64_t)nt;
        if (!src_off) {
            lo[t] = (size_t)target;
        } else { /* first row whose start is >= target */
            size_t l = lo[t - 1], h = n_src_rows;
            while (l < h) {
                size_t m = l + (h - l) / 2;
                if (src_off[m] < target)
                    l = m + 1;
                else
                    h = m;
            }
            lo[t] = l;
        }
    }
    lo[nt] = units;

#pragma omp parallel for num_threads(nt) schedule(static, 1)
    for (int t = 0; t < nt; t++) {
        uint64_t *h = hist + (size_t)t * n_keys;
        size_t e0 = src_off ? src_off[lo[t]] : lo[t];
        size_t e1 = src_off ? src_off[lo[t + 1]] : lo[t + 1];
        for (size_t e = e0; e < e1; e++)
            h[key[e]]++;
    }
    uint64_t pos = 0;
    for (size_t c = 0; c < n_keys; c++) {
        off[c] = pos;
        for (int t = 0; t < nt; t++) {
            uint64_t cnt = hist[(size_t)t * n_keys + c];
            hist[(size_t)t * n_keys + c] = pos;
            pos += cnt;
        }
    }
    off[n_keys] = pos;
#pragma omp parallel for num_threads(nt) schedule(static, 1)
    for (int t = 0; t < nt; t++) {
        uint64_t *h = hist + (size_t)t * n_keys;
        if (!src_off) {
            for (size_t e = lo[t]; e < lo[t + 1]; e++) {
                uint64_t p = h[key[e]]++;
                idx[p] = src_pay[e];
                vv[p] = val[e];
            }
        } else {
            for (size_t r = lo[t]; r < lo[t + 1]; r++) {
                for (uint64_t e = src_off[r]; e < src_off[r + 1]; e++) {
                    uint64_t p = h[key[e]]++;
                    idx[p] = (int32_t)r;
                    vv[p] = val[e];
                }
            }
        }
    }
    free(hist);
    *off_out = off;
    *idx_out = idx;
    *val_out = vv;
    return REC_OK;
}

static void ratings_clear(rec_ratings *r)
{
    free(r->user_ids);
    free(r->movie_ids);
    rec__idmap_free(&r->user_map);
    rec__idmap_free(&r->movie_map);
    free(r->user_off);
    free(r->user_items);
    free(r->user_vals);
    free(r->movie_off);
    free(r->movie_users);
    free(r->movie_vals);
    rec__meta_free(&r->meta);
    memset(r, 0, sizeof *r);
}

void rec_ratings_free(rec_ratings *r)
{
    if (!r)
        return;
    ratings_clear(r);
    free(r);
}

static rec_ratings *ratings_alloc(void)
{
    rec_ratings *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    rec__idmap_init(&r->user_map);
    rec__idmap_init(&r->movie_map);
    rec__meta_init(&r->meta);
    return r;
}

/* Each column strictly increasing: sorted and free of duplicates. */
static int columns_strict(const rec_ratings *r)
{
    int ok = 1;
    int nt = threads_for(r->nnz);
#pragma omp parallel for num_threads(nt) reduction(&& : ok) schedule(static)
    for (size_t c = 0; c < r->n_movies; c++)
        for (uint64_t e = r->movie_off[c] + 1; e < r->movie_off[c + 1]; e++)
            if (r->movie_users[e] <= r->movie_users[e - 1])
                ok = 0;
    return ok;
}

/* Remove duplicate movies within each user row (adjacent, source order
   kept): the last one wins. */
static void dedupe_rows(rec_ratings *r)
{
    uint64_t w = 0;
    for (size_t u = 0; u < r->n_users; u++) {
        uint64_t b = r->user_off[u], e = r->user_off[u + 1];
        r->user_off[u] = w;
        for (uint64_t i = b; i < e; i++) {
            if (i + 1 < e && r->user_items[i + 1] == r->user_items[i])
                continue;
            r->user_items[w] = r->user_items[i];
            r->user_vals[w] = r->user_vals[i];
            w++;
        }
    }
    r->user_off[r->n_users] = w;
    r->nnz = (size_t)w;
}

/* Rows ordered by (user, movie) with no repeated pair: CSR order. */
static int coo_sorted(const int32_t *users, const int32_t *movies, size_t n)
{
    int ok = 1;
    int nt = threads_for(n);
#pragma omp parallel for num_threads(nt) reduction(&& : ok) schedule(static)
    for (size_t i = 1; i < n; i++)
        if (users[i] < users[i - 1] ||
            (users[i] == users[i - 1] && movies[i] <= movies[i - 1]))
            ok = 0;
    return ok;
}

static rec_status copy_meta(rec_ratings *r, const int32_t *meta_ids,
                            const rec_movie_meta *meta)
{
    rec_status st = rec__meta_resize(&r->meta, r->n_movies);
    for (size_t i = 0; st == REC_OK && meta && i < meta->n; i++) {
        int32_t d = rec__idmap_get(&r->movie_map, meta_ids[i]);
        const char *t = rec__meta_title(meta, i), *g = rec__meta_genres(meta, i);
        st = rec__meta_set(&r->meta, (size_t)d, t, strlen(t), g, strlen(g));
        if (st == REC_OK)
            r->meta.year[d] = meta->year[i];
    }
    return st;
}

static rec_status validate_coo(const int32_t *users, const int32_t *movies,
                               const float *vals, size_t n,
                               const int32_t *meta_ids, size_t n_meta,
                               rec_error *err)
{
    size_t bad = SIZE_MAX;
    int nt = threads_for(n);
#pragma omp parallel for num_threads(nt) reduction(min : bad) schedule(static)
    for (size_t i = 0; i < n; i++)
        if (users[i] < 0 || movies[i] < 0 || !rec__rating_ok(vals[i]))
            if (i < bad)
                bad = i;
    if (bad != SIZE_MAX) {
        if (!rec__rating_ok(vals[bad]))
            return rec__fail(err, REC_EINVAL,
                             "row %zu: rating %g is not finite or beyond "
                             "+-%g (REC_MAX_RATING)",
                             bad, (double)vals[bad], REC_MAX_RATING);
        return rec__fail(err, REC_EINVAL, "row %zu: negative id (user %d, movie %d)",
                         bad, (int)users[bad], (int)movies[bad]);
    }
    for (size_t i = 0; i < n_meta; i++)
        if (meta_ids[i] < 0)
            return rec__fail(err, REC_EINVAL, "movie id %d is negative",
                             (int)meta_ids[i]);
    return REC_OK;
}

rec_status rec__ratings_build_owned(rec_ratings **out, int32_t *users,
                                    int32_t *movies, float *vals, size_t n,
                                    const int32_t *meta_ids,
                                    const rec_movie_meta *meta,
                                    rec_error *err)
{
    size_t n_meta = meta ? meta->n : 0;
    rec_status st = REC_OK;
    rec_ratings *r = NULL;
    if (!out || (n && (!users || !movies || !vals)) || (n_meta && !meta_ids)) {
        st = rec__fail(err, REC_EINVAL, "invalid argument");
        goto fail;
    }
    st = validate_coo(users, movies, vals, n, meta_ids, n_meta, err);
    if (st != REC_OK)
        goto fail;
    if (!(r = ratings_alloc())) {
        st = REC_ENOMEM;
        goto oom;
    }
    if ((st = densify(users, n, NULL, 0, &r->user_ids, &r->n_users, &r->user_map)) != REC_OK ||
        (st = densify(movies, n, meta_ids, n_meta, &r->movie_ids, &r->n_movies,
                      &r->movie_map)) != REC_OK)
        goto oom;
    r->nnz = n;
    if (coo_sorted(users, movies, n)) {
        /* Already CSR order (MovieLens files are sorted by user, movie):
           the COO arrays become the rows as they are, one transpose left. */
        if (!(r->user_off = calloc(r->n_users + 1, sizeof *r->user_off)))
            goto oom;
        for (size_t i = 0; i < n; i++)
            r->user_off[users[i] + 1]++;
        for (size_t u = 0; u < r->n_users; u++)
            r->user_off[u + 1] += r->user_off[u];
        free(users);
        r->user_items = movies;
        r->user_vals = vals;
        users = movies = NULL;
        vals = NULL;
        st = scatter(r->n_users, r->user_off, NULL, n, r->user_items, r->user_vals,
                     r->n_movies, &r->movie_off, &r->movie_users, &r->movie_vals);
        if (st != REC_OK)
            goto oom;
        goto finish;
    }
    st = scatter(0, NULL, users, n, movies, vals, r->n_movies, &r->movie_off,
                 &r->movie_users, &r->movie_vals);
    free(users);
    free(movies);
    free(vals);
    users = movies = NULL;
    vals = NULL;
    if (st != REC_OK)
        goto oom;
    int strict = columns_strict(r);
    st = scatter(r->n_movies, r->movie_off, NULL, n, r->movie_users, r->movie_vals,
                 r->n_users, &r->user_off, &r->user_items, &r->user_vals);
    if (st != REC_OK)
        goto oom;
    if (!strict) {
        dedupe_rows(r);
        free(r->movie_off);
        free(r->movie_users);
        free(r->movie_vals);
        r->movie_off = NULL;
        r->movie_users = NULL;
        r->movie_vals = NULL;
        st = scatter(r->n_users, r->user_off, NULL, r->nnz, r->user_items,
                     r->user_vals, r->n_movies, &r->movie_off, &r->movie_users,
                     &r->movie_vals);
        if (st != REC_OK)
            goto oom;
    }
finish:
    if (r->nnz) {
        float lo = r->user_vals[0], hi = r->user_vals[0];
        int nt = threads_for(r->nnz);
#pragma omp parallel for num_threads(nt) reduction(min : lo) reduction(max : hi) schedule(static)
        for (size_t i = 0; i < r->nnz; i++) {
            float v = r->user_vals[i];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        r->rating_min = lo;
        r->rating_max = hi;
    }
    if ((st = copy_meta(r, meta_ids, meta)) != REC_OK)
        goto oom;
    *out = r;
    return REC_OK;
oom:
    st = rec__fail(err, REC_ENOMEM, "out of memory building the dataset");
fail:
    free(users);
    free(movies);
    free(vals);
    rec_ratings_free(r);
    return st;
}

rec_status rec__ratings_build(rec_ratings **out, const int32_t *users,
                              const int32_t *movies, const float *vals,
                              size_t n, const int32_t *meta_ids,
                              const rec_movie_meta *meta, rec_error *err)
{
    if (n && (!users || !movies || !vals))
        return rec__fail(err, REC_EINVAL, "invalid argument");
    size_t sz = n ? n : 1;
    int32_t *u = malloc(sz * sizeof *u), *m = malloc(sz * sizeof *m);
    float *v = malloc(sz * sizeof *v);
    if (!u || !m || !v) {
        free(u);
        free(m);
        free(v);
        return rec__fail(err, REC_ENOMEM, "out of memory");
    }
    if (n) {
        memcpy(u, users, n * sizeof *u);
        memcpy(m, movies, n * sizeof *m);
        memcpy(v, vals, n * sizeof *v);
    }
    return rec__ratings_build_owned(out, u, m, v, n, meta_ids, meta, err);
}

rec_status rec_ratings_new(rec_ratings **out, rec_error *err)
{
    if (!out)
        return rec__fail(err, REC_EINVAL, "out is NULL");
    rec_ratings *r = ratings_alloc();
    if (r) {
        r->user_off = calloc(1, sizeof *r->user_off);
        r->movie_off = calloc(1, sizeof *r->movie_off);
    }
    if (!r || !r->user_off || !r->movie_off) {
        rec_ratings_free(r);
        return rec__fail(err, REC_ENOMEM, "out of memory");
    }
    *out = r;
    return REC_OK;
}

static void *dup_mem(const void *src, size_t bytes, int *failed)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        *failed = 1;
    else if (bytes)
        memcpy(p, src, bytes);
    return p;
}

rec_status rec_ratings_copy(rec_ratings **out, const rec_ratings *src,
                            rec_error *err)
{
    if (!out || !src)
        return rec__fail(err, REC_EINVAL, "invalid argument");
    rec_ratings *r = ratings_alloc();
    if (!r)
        return rec__fail(err, REC_ENOMEM, "out of memory");
    int failed = 0;
    r->n_users = src->n_users;
    r->n_movies = src->n_movies;
    r->nnz = src->nnz;
    r->rating_min = src->rating_min;
    r->rating_max = src->rating_max;
    r->user_ids = dup_mem(src->user_ids, src->n_users * sizeof(int32_t), &failed);
    r->movie_ids = dup_mem(src->movie_ids, src->n_movies * sizeof(int32_t), &failed);
    r->user_off = dup_mem(src->user_off, (src->n_users + 1) * sizeof(uint64_t), &failed);
    r->user_items = dup_mem(src->user_items, src->nnz * sizeof(int32_t), &failed);
    r->user_vals = dup_mem(src->user_vals, src->nnz * sizeof(float), &failed);
    r->movie_off = dup_mem(src->movie_off, (src->n_movies + 1) * sizeof(uint64_t), &failed);
    r->movie_users = dup_mem(src->movie_users, src->nnz * sizeof(int32_t), &failed);
    r->movie_vals = dup_mem(src->movie_vals, src->nnz * sizeof(float), &failed);
    if (failed || rec__idmap_copy(&r->user_map, &src->user_map) != REC_OK ||
        rec__idmap_copy(&r->movie_map, &src->movie_map) != REC_OK ||
        rec__meta_copy(&r->meta, &src->meta) != REC_OK) {
        rec_ratings_free(r);
        return rec__fail(err, REC_ENOMEM, "out of memory");
    }
    *out = r;
    return REC_OK;
}

rec_status rec_ratings_add(rec_ratings *r, const rec_rating *rows, size_t n,
                           rec_error *err)
{
    if (!r || (n && !rows))
        return rec__fail(err, REC_EINVAL, "invalid argument");
    for (size_t i = 0; i < n; i++) {
        if (rows[i].user_id < 0 || rows[i].movie_id < 0)
            return rec__fail(err, REC_EINVAL, "rows[%zu]: negative id", i);
        if (!rec__rating_ok(rows[i].rating))
            return rec__fail(err, REC_EINVAL,
                             "rows[%zu]: rating %g (user %ld, movie %ld) is "
                             "not finite or beyond +-%g (REC_MAX_RATING)",
                             i, (double)rows[i].rating, (long)rows[i].user_id,
                             (long)rows[i].movie_id, REC_MAX_RATING);
    }
    if (n == 0)
        return REC_OK;
    size_t total = r->nnz + n;
    int32_t *u = malloc(total * sizeof *u), *m = malloc(total * sizeof *m);
    float *v = malloc(total * sizeof *v);
    if (!u || !m || !v) {
        free(u);
        free(m);
        free(v);
        return rec__fail(err, REC_ENOMEM, "out of memory");
    }
    for (size_t us = 0; us < r->n_users; us++) {
        for (uint64_t e = r->user_off[us]; e < r->user_off[us + 1]; e++) {
            u[e] = r->user_ids[us];
            m[e] = r->movie_ids[r->user_items[e]];
            v[e] = r->user_vals[e];
        }
    }
    for (size_t i = 0; i < n; i++) {
        u[r->nnz + i] = rows[i].user_id;
        m[r->nnz + i] = rows[i].movie_id;
        v[r->nnz + i] = rows[i].rating;
    }
    rec_ratings *nr = NULL;
    rec_status st = rec__ratings_build_owned(&nr, u, m, v, total, r->movie_ids,
                                             &r->meta, err);
    if (st != REC_OK)
        return st;
    ratings_clear(r);
    *r = *nr;
    free(nr);
    return REC_OK;
}

rec_status rec_ratings_set_movie(rec_ratings *r, int32_t movie_id,
                                 const char *title, const char *genres,
                                 rec_error *err)
{
    if (!r || movie_id < 0)
        return rec__fail(err, REC_EINVAL, movie_id < 0 ? "movie id %d is negative"
                                                        : "invalid argument",
                         (int)movie_id);
    if (!title)
        title = "";
    if (!genres)
        genres = "";
    int32_t d = rec__idmap_get(&r->movie_map, movie_id);
    if (d >= 0) {
        if (rec__meta_set(&r->meta, (size_t)d, title, strlen(title), genres,
                          strlen(genres)) != REC_OK)
            return rec__fail(err, REC_ENOMEM, "out of memory");
        return REC_OK;
    }
    /* A new movie without ratings, inserted at its sorted position. */
    size_t n = r->n_movies, pos = 0, hi = n;
    while (pos < hi) {
        size_t mid = pos + (hi - pos) / 2;
        if (r->movie_ids[mid] < movie_id)
            pos = mid + 1;
        else
            hi = mid;
    }
    int32_t *ids = realloc(r->movie_ids, (n + 1) * sizeof *ids);
    if (ids)
        r->movie_ids = ids;
    uint64_t *off = ids ? realloc(r->movie_off, (n + 2) * sizeof *off) : NULL;
    if (off)
        r->movie_off = off;
    if (!ids || !off || rec__idmap_reserve(&r->movie_map, n + 1) != REC_OK ||
        rec__meta_insert(&r->meta, pos) != REC_OK)
        return rec__fail(err, REC_ENOMEM, "out of memory");
    if (rec__meta_set(&r->meta, pos, title, strlen(title), genres,
                      strlen(genres)) != REC_OK) {
        rec_movie_meta *mm = &r->meta; /* undo the insert */
        size_t tail = mm->n - 1 - pos;
        memmove(mm->title_off + pos, mm->title_off + pos + 1, tail * sizeof(uint64_t));
        memmove(mm->genres_off + pos, mm->genres_off + pos + 1, tail * sizeof(uint64_t));
        memmove(mm->year + pos, mm->year + pos + 1, tail * sizeof(int32_t));
        mm->n--;
        return rec__fail(err, REC_ENOMEM, "out of memory");
    }
    memmove(ids + pos + 1, ids + pos, (n - pos) * sizeof *ids);
    ids[pos] = movie_id;
    memmove(off + pos + 1, off + pos, (n + 1 - pos) * sizeof *off);
    for (size_t e = 0; e < r->nnz; e++)
        if ((size_t)r->user_items[e] >= pos)
            r->user_items[e]++;
    for (size_t s = 0; s < r->movie_map.cap; s++)
        if (r->movie_map.keys[s] >= 0 && (size_t)r->movie_map.vals[s] >= pos)
            r->movie_map.vals[s]++;
    rec__idmap_put(&r->movie_map, movie_id, (int32_t)pos); /* reserved */
    r->n_movies = n + 1;
    return REC_OK;
}

size_t rec_ratings_n_users(const rec_ratings *r)
{
    return r ? r->n_users : 0;
}

size_t rec_ratings_n_movies(const rec_ratings *r)
{
    return r ? r->n_movies : 0;
}

size_t rec_ratings_n_ratings(const rec_ratings *r)
{
    return r ? r->nnz : 0;
}

static double movie_sum(const rec_ratings *r, size_t d)
{
    double s = 0;
    for (uint64_t e = r->movie_off[d]; e < r->movie_off[d + 1]; e++)
        s += r->movie_vals[e];
    return s;
}

static void fill_info(rec_movie_info *out, const rec_ratings *r, size_t d)
{
    uint64_t cnt = r->movie_off[d + 1] - r->movie_off[d];
    out->movie_id = r->movie_ids[d];
    out->year = d < r->meta.n ? r->meta.year[d] : 0;
    out->n_ratings = (uint32_t)cnt;
    out->mean_rating = cnt ? (float)(movie_sum(r, d) / (double)cnt) : 0.0f;
    out->title = rec__meta_title(&r->meta, d);
    out->genres = rec__meta_genres(&r->meta, d);
}

rec_status rec_ratings_movie(rec_movie_info *out, const rec_ratings *r,
                             int32_t movie_id, rec_error *err)
{
    if (!out || !r)
        return rec__fail(err, REC_EINVAL, "invalid argument");
    int32_t d = rec__idmap_get(&r->movie_map, movie_id);
    if (d < 0)
        return rec__fail(err, REC_ENOTFOUND, "movie %d not found", (int)movie_id);
    fill_info(out, r, (size_t)d);
    return REC_OK;
}

rec_status rec_ratings_movie_at(rec_movie_info *out, const rec_ratings *r,
                                size_t index, rec_error *err)
{
    if (!out || !r)
        return rec__fail(err, REC_EINVAL, "invalid argument");
    if (index >= r->n_movies)
        return rec__fail(err, REC_ENOTFOUND, "movie index %zu out of range (%zu movies)",
                         index, r->n_movies);
    fill_info(out, r, index);
    return REC_OK;
}

rec_status rec_ratings_user(rec_rating *out, size_t cap, size_t *n_out,
                            const rec_ratings *r, int32_t user_id,
                            rec_error *err)
{
    if (!r || !n_out || (cap && !out))
        return rec__fail(err, REC_EINVAL, "invalid argument");
    int32_t u = rec__idmap_get(&r->user_map, user_id);
    if (u < 0)
        return rec__fail(err, REC_ENOTFOUND, "user %d not found", (int)user_id);
    uint64_t b = r->user_off[u], e = r->user_off[u + 1];
    size_t cnt = (size_t)(e - b);
    for (size_t i = 0; i < cnt && i < cap; i++) {
        out[i].user_id = user_id;
        out[i].movie_id = r->movie_ids[r->user_items[b + i]];
        out[i].rating = r->user_vals[b + i];
    }
    *n_out = cnt;
    return REC_OK;
}

rec_status rec_ratings_count_avg(rec_movie_stats *out, size_t cap,
                                 size_t *n_out, const rec_ratings *r,
                                 rec_error *err)
{
    if (!r || !n_out || (cap && !out))
        return rec__fail(err, REC_EINVAL, "invalid argument");
    for (size_t d = 0; d < r->n_movies && d < cap; d++) {
        uint64_t cnt = r->movie_off[d + 1] - r->movie_off[d];
        out[d].movie_id = r->movie_ids[d];
        out[d].count = (uint32_t)cnt;
        out[d].average = cnt ? movie_sum(r, d) / (double)cnt : 0.0;
    }
    *n_out = r->n_movies;
    return REC_OK;
}


typedef struct best_entry {
    double score;
    uint32_t count;
    int32_t id;
} best_entry;

static int cmp_best(const void *a, const void *b)
{
    const best_entry *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

rec_status rec_best_movies(rec_scored *out, size_t n, size_t *n_out,
                           const rec_ratings *r, uint32_t min_count,
                           double prior_weight, const char *genre,
                           rec_error *err)
{
    if (!r || !n_out || (n && !out))
        return rec__fail(err, REC_EINVAL, "invalid argument");
    if (!(prior_weight >= 0) || !isfinite(prior_weight))
        return rec__fail(err, REC_EINVAL, "prior_weight must be finite and >= 0");
    double total = 0;
    for (size_t i = 0; i < r->nnz; i++)
        total += r->movie_vals[i];
    double gmean = r->nnz ? total / (double)r->nnz : 0.0;
    best_entry *all = malloc((r->n_movies ? r->n_movies : 1) * sizeof *all);
    if (!all)
        return rec__fail(err, REC_ENOMEM, "out of memory");
    size_t wlen = genre ? strlen(genre) : 0, k = 0;
    for (size_t d = 0; d < r->n_movies; d++) {
        uint64_t cnt = r->movie_off[d + 1] - r->movie_off[d];
        if (cnt < min_count || (cnt == 0 && prior_weight == 0))
            continue;
        if (wlen && !rec__has_genre(rec__meta_genres(&r->meta, d), genre, wlen))
            continue;
        all[k].score = (prior_weight * gmean + movie_sum(r, d)) /
                       (prior_weight + (double)cnt);
        all[k].count = (uint32_t)cnt;
        all[k].id = r->movie_ids[d];
        k++;
    }
    qsort(all, k, sizeof *all, cmp_best);
    size_t w = k < n ? k : n;
    for (size_t i = 0; i < w; i++) {
        out[i].movie_id = all[i].id;
        out[i].score = (float)all[i].score;
        out[i].rating =
            all[i].count ? (float)(movie_sum(r, (size_t)rec__idmap_get(
                                                 &r->movie_map, all[i].id)) /
                                   all[i].count)
                         : 0.0f;
    }
    free(all);
    *n_out = w;
    return REC_OK;
}

/* The coin of rating i: a hash of (seed, i), independent of threads. */
/* Rating i goes to the test set when its uniform draw lies in [lo, hi):
   [0, f) for a random split, [f/K, (f+1)/K) for fold f of K. */
static int goes_to_test(uint64_t seed, size_t i, double lo, double hi)
{
    uint64_t s = seed ^ ((uint64_t)i * 0xD1B54A32D192ED03ULL);
    uint64_t h = rec__splitmix64(&s);
    double u = (double)(h >> 11) * (1.0 / 9007199254740992.0);
    return u >= lo && u < hi;
}

static rec_status split_range(rec_ratings **train_out, rec_ratings **test_out,
                              const rec_ratings *r, double lo, double hi,
                              uint64_t seed, rec_error *err);

rec_status rec_ratings_split(rec_ratings **train_out, rec_ratings **test_out,
                             const rec_ratings *r, double test_fraction,
                             uint64_t seed, rec_error *err)
{
    if (!train_out || !test_out || !r)
        return rec__fail(err, REC_EINVAL, "invalid argument");
    if (!(test_fraction >= 0 && test_fraction < 1))
        return rec__fail(err, REC_EINVAL, "test_fraction %g not in [0, 1)",
                         test_fraction);
    return split_range(train_out, test_out, r, 0.0, test_fraction, seed, err);
}

rec_status rec__ratings_split_fold(rec_ratings **train_out,
                                   rec_ratings **test_out,
                                   const rec_ratings *r, int folds, int fold,
                                   uint64_t seed, rec_error *err)
{
    if (!train_out || !test_out || !r || folds < 2 || fold < 0 ||
        fold >= folds)
        return rec__fail(err, REC_EINVAL, "invalid argument");
    double lo = (double)fold / folds;
    double hi = fold + 1 == folds ? 1.0 : (double)(fold + 1) / folds;
    return split_range(train_out, test_out, r, lo, hi, seed, err);
}

static rec_status split_range(rec_ratings **train_out, rec_ratings **test_out,
                              const rec_ratings *r, double lo, double hi,
                              uint64_t seed, rec_error *err)
{
    size_t n_test = 0;
    int nt = threads_for(r->nnz);
#pragma omp parallel for num_threads(nt) reduction(+ : n_test) schedule(static)
    for (size_t i = 0; i < r->nnz; i++)
        n_test += (size_t)goes_to_test(seed, i, lo, hi);
    size_t n_train = r->nnz - n_test;
    int32_t *tu = malloc((n_train ? n_train : 1) * sizeof *tu);
    int32_t *tm = malloc((n_train ? n_train : 1) * sizeof *tm);
    float *tv = malloc((n_train ? n_train : 1) * sizeof *tv);
    int32_t *su = malloc((n_test ? n_test : 1) * sizeof *su);
    int32_t *sm = malloc((n_test ? n_test : 1) * sizeof *sm);
    float *sv = malloc((n_test ? n_test : 1) * sizeof *sv);
    if (!tu || !tm || !tv || !su || !sm || !sv) {
        free(tu);
        free(tm);
        free(tv);
        free(su);
        free(sm);
        free(sv);
        return rec__fail(err, REC_ENOMEM, "out of memory");
    }
    size_t a = 0, b = 0;
    for (size_t u = 0; u < r->n_users; u++) {
        for (uint64_t e = r->user_off[u]; e < r->user_off[u + 1]; e++) {
            int32_t mid = r->movie_ids[r->user_items[e]];
            if (goes_to_test(seed, (size_t)e, lo, hi)) {
                su[b] = r->user_ids[u];
                sm[b] = mid;
                sv[b++] = r->user_vals[e];
            } else {
                tu[a] = r->user_ids[u];
                tm[a] = mid;
                tv[a++] = r->user_vals[e];
            }
        }
    }
    rec_ratings *train = NULL, *test = NULL;
    rec_status st = rec__ratings_build_owned(&train, tu, tm, tv, n_train,
                                             r->movie_ids, &r->meta, err);
    if (st != REC_OK) {
        free(su);
        free(sm);
        free(sv);
        return st;
    }
    st = rec__ratings_build_owned(&test, su, sm, sv, n_test, r->movie_ids,
                                  &r->meta, err);
    if (st != REC_OK) {
        rec_ratings_free(train);
        return st;
    }
    *train_out = train;
    *test_out = test;
    return REC_OK;
}
