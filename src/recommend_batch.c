/*
 * recommend_batch.c - ranking many users at once: top-N for a list of users
 * (or all of them, block by block through a callback), predictions for many
 * pairs, similar movies for many movies. Evaluation ranks through here too.
 *
 * Scoring: the ranking vectors of a block of users (rec__user_rank_vec)
 * times the movies' ranking vectors, by SGEMM (OpenBLAS, single-threaded;
 * OpenMP runs the blocks), one tile of movies at a time: a tile of scores
 * stays in the core's cache while it is scanned, and the scratch of a call
 * is a few MB whatever the catalogue (serving all users stays within a few
 * per cent of the model's memory). Cold-start users (no usable ratings)
 * have no vector: they are ranked as rec_top_n ranks them.
 *
 * SGEMM sums in another order than the library's dot product
 * (recommend.c), so its scores are only approximate, within a bound
 * `margin` of the exact ones. A row's selection (rec__sel) keeps the top n
 * on approximate scores and every movie that may still be within twice
 * the margin of the n-th; at the end those are scored again exactly
 * (rec__score_one) and the top n is chosen on exact scores. The result
 * equals rec_top_n's bit for bit, ties and order too.
 */
#include "internal.h"
#include "topn.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Movies of one SGEMM tile, and users of one block at most: a tile of
   scores is 1 MB, a core's L2 (rows x 256 more users halved the packing
   of the movie tile; tiles of 2048 movies were no faster). */
#define TILE_MOVIES 1024
#define TILE_ROWS 256
/* Bytes of the selections' candidate lists of one thread at most. */
#define SEL_BYTES ((size_t)2 << 20)
/* Users per callback of rec_top_n_each. */
#define REC_BATCH_CHUNK 4096
/* Movies per threshold refresh of the selection scans. */
#define SCAN_CHUNK 256

/* Largest norm of a movie's ranking vector: the rounding bound (infinite
   when a vector is not finite). */
static double movie_extent(const rec_model *m)
{
    double y = 0.0;
    int d = m->rank_dim;
    for (size_t j = 0; j < m->n_movies; j++) {
        const float *v = m->rank_movie + j * (size_t)d;
        double s = 0.0;
        for (int f = 0; f < d; f++)
            s += (double)v[f] * v[f];
        if (!isfinite(s))
            return INFINITY; /* then no row has a bound */
        if (s > y)
            y = s;
    }
    return sqrt(y);
}

static bool user_cold(const rec_model *m, const rec_user_view *v)
{
    if (v->n_rated == 0)
        return true;
    if (!m->implicit)
        return false;
    for (int f = 0; f < m->rank; f++)
        if (v->x[f] != 0.0f)
            return false;
    return true;
}

/* ---- the selection of one row ---- */

size_t rec__sel_cap(size_t n)
{
    return n * 4 > 512 ? n * 4 : 512;
}

size_t rec__tile_movies(const rec_model *m)
{
    return m->n_movies < TILE_MOVIES ? (m->n_movies ? m->n_movies : 1)
                                     : TILE_MOVIES;
}

size_t rec__tile_rows(size_t n)
{
    size_t rows = SEL_BYTES / (rec__sel_cap(n) * sizeof(rec__near));
    if (rows > TILE_ROWS)
        rows = TILE_ROWS;
    return rows ? rows : 1;
}

void rec__sel_start(rec__sel *s, rec_scored *out, size_t n, rec__near *near,
                    size_t cap)
{
    *s = (rec__sel){.out = out, .n = n, .near = near, .cap = cap};
}

/* Whether dense movie j may be in the row's list: a candidate, and not
   rated by the user unless rated movies are asked for (e walks `rated`). */
static inline bool eligible(const rec_candidates *cands,
                            const rec_user_view *v, size_t *e, size_t j)
{
    if (!rec__candidate(cands, j))
        return false;
    if (cands->include_rated)
        return true;
    while (*e < v->n_rated && (size_t)v->rated[*e] < j)
        (*e)++;
    return !(*e < v->n_rated && (size_t)v->rated[*e] == j);
}

/* The lowest approximate score a movie of the final top n may have, as
   far as the heap tells now: the n-th less two margins. */
static double sel_floor(const rec__sel *s, double margin)
{
    return s->size < s->n ? -INFINITY : (double)s->out[0].score - 2.0 * margin;
}

/* A float t with x > t for every float x >= v (a scan's threshold). */
static float float_below(double v)
{
    float t = (float)v;
    if ((double)t > v)
        t = nextafterf(t, -INFINITY);
    return nextafterf(t, -INFINITY);
}

/* Drop the candidates the heap has since left behind; false if the list
   is still full. */
static bool sel_compact(rec__sel *s, double margin)
{
    double lo = sel_floor(s, margin);
    size_t w = 0;
    for (size_t i = 0; i < s->nn; i++)
        if ((double)s->near[i].a >= lo)
            s->near[w++] = s->near[i];
    s->nn = w;
    return w < s->cap;
}

void rec__sel_tile(rec__sel *s, const rec__row_scores *rs,
                   const rec_candidates *cands, size_t j0, size_t j1)
{
    if (s->n == 0 || s->overflow)
        return;
    uint64_t bits[SCAN_CHUNK / 64];
    for (size_t c0 = j0; c0 < j1; c0 += SCAN_CHUNK) {
        size_t cn = j1 - c0 < SCAN_CHUNK ? j1 - c0 : SCAN_CHUNK;
        /* a vector compare finds the few movies above the floor; the
           approximate scores are finite, so -inf lets all in at first */
        rec__above(bits, rs->approx + (c0 - j0), cn,
                   float_below(sel_floor(s, rs->margin)));
        for (size_t w = 0; w < (cn + 63) / 64; w++)
            for (uint64_t b = bits[w]; b; b &= b - 1) {
                size_t j = c0 + w * 64 + (size_t)__builtin_ctzll(b);
                if (!eligible(cands, &rs->view, &s->e, j))
                    continue;
                float a = rs->approx[j - j0];
                if ((double)a < sel_floor(s, rs->margin))
                    continue;
                if (s->nn == s->cap && !sel_compact(s, rs->margin)) {
                    s->overflow = 1; /* degenerate scores: rank exactly */
                    return;
                }
                s->near[s->nn++] = (rec__near){.j = (int32_t)j, .a = a};
                rec__heap_offer(s->out, &s->size, s->n, (int32_t)j, a);
            }
    }
}

size_t rec__sel_finish(rec__sel *s, const rec__row_scores *rs,
                       const rec_candidates *cands)
{
    const rec_model *m = rs->m;
    size_t got = 0;
    if (s->n == 0)
        return 0;
    if (!rs->bounded || s->overflow || s->size < s->n) {
        /* cold start, no bound on the rounding, or every candidate is
           in: rank exactly */
        rec__rank(s->out, s->n, &got, m, &rs->view, cands, NULL);
        return got;
    }
    /* Any movie of the exact top n scores within 2 margins of the n-th
       approximate score: among the kept candidates. */
    double thr = (double)s->out[0].score - 2.0 * rs->margin;
    for (size_t i = 0; i < s->nn; i++)
        if ((double)s->near[i].a >= thr)
            rec__heap_offer(s->out, &got, s->n, s->near[i].j,
                            rec__score_one(m, rs->v, rs->c,
                                           (size_t)s->near[i].j));
    rec__heap_finish(s->out, got, NULL);
    for (size_t i = 0; i < got; i++) { /* as rec__rank finishes */
        size_t j = (size_t)s->out[i].movie_id;
        s->out[i].rating = rec__shown_rating(m, &rs->view, j);
        s->out[i].movie_id = m->movie_ids[j];
    }
    return got;
}

/* ---- the tiles ---- */

/* One block's rows: ranking vectors, constants, views and bounds. */
static void block_setup(rec__row_scores *rs, float *X, float *C,
                        const rec_model *m, const int32_t *users, size_t nr,
                        double ymax, int use_blas)
{
    size_t k = (size_t)m->rank_dim;
    for (size_t r = 0; r < nr; r++) {
        size_t u = (size_t)users[r];
        rec__row_scores *q = &rs[r];
        *q = (rec__row_scores){.m = m, .u = u, .v = X + r * k};
        rec__user_view(&q->view, m, u);
        rec__user_rank_vec(X + r * k, &C[r], m, q->view.x, q->view.bias,
                           q->view.p);
        q->c = C[r];
        double vn = 0.0;
        for (size_t f = 0; f < k; f++)
            vn += (double)q->v[f] * q->v[f];
        /* |dot_sgemm - dot_exact| <= 2 gamma_k |v||y| (any order of
           summation), plus one rounding of the addition of c; FLT_EPSILON
           is 2u, so this is about twice the bound. Every partial sum is
           within about `extent` (Cauchy-Schwarz), so far below FLT_MAX
           every score is finite. */
        double extent = sqrt(vn) * ymax + fabs((double)q->c);
        q->margin = 2.0 * ((double)k + 4.0) * FLT_EPSILON * extent;
        q->bounded = use_blas && isfinite(q->margin) && extent < 1e37 &&
                     !user_cold(m, &q->view);
    }
}

rec_status rec__for_each_tile(const rec_model *m, const int32_t *users,
                              size_t n, size_t rows, const rec__tile_fns *fns,
                              void *ctx, rec_error *err)
{
    if (n == 0)
        return REC_OK;
    rec__blas_single_threaded();
    int nt = omp_get_max_threads();
    size_t k = (size_t)m->rank_dim, nm = m->n_movies;
    size_t tile = rec__tile_movies(m);
    rows = rows ? rows : 1;
    size_t n_blocks = (n + rows - 1) / rows;
    if ((size_t)nt > n_blocks)
        nt = (int)n_blocks;
    double ymax = movie_extent(m);
    int failed = 0;
#pragma omp parallel num_threads(nt) reduction(| : failed)
    {
        float *S = malloc(rows * tile * sizeof *S);
        float *X = malloc(rows * k * sizeof *X);
        float *C = malloc(rows * sizeof *C);
        rec__row_scores *rs = malloc(rows * sizeof *rs);
        bool ok = S && X && C && rs;
        failed = !ok;
        int tid = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (size_t b = 0; b < n_blocks; b++) {
            if (!ok)
                continue;
            size_t r0 = b * rows, nr = n - r0 < rows ? n - r0 : rows;
            int use_blas = rec__blas_buffer_ok();
            block_setup(rs, X, C, m, users + r0, nr, ymax, use_blas);
            bool any = false;
            for (size_t r = 0; r < nr; r++) {
                fns->begin(ctx, r0 + r, r, &rs[r], tid);
                any |= rs[r].bounded;
            }
            for (size_t j0 = 0; any && j0 < nm; j0 += tile) {
                size_t nj = nm - j0 < tile ? nm - j0 : tile;
                /* S starts at each row's constant and SGEMM adds the dot
                   products to it (beta 1) */
                for (size_t r = 0; r < nr; r++)
                    for (size_t j = 0; j < nj; j++)
                        S[r * nj + j] = C[r];
                int token = rec__blas_enter();
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nr,
                            (int)nj, (int)k, 1.0f, X, (int)k,
                            m->rank_movie + j0 * k, (int)k, 1.0f, S, (int)nj);
                rec__blas_leave(token);
                for (size_t r = 0; r < nr; r++) {
                    if (!rs[r].bounded)
                        continue;
                    rs[r].approx = S + r * nj;
                    fns->tile(ctx, r0 + r, r, &rs[r], j0, j0 + nj, tid);
                }
            }
            for (size_t r = 0; r < nr; r++) {
                rs[r].approx = NULL;
                fns->end(ctx, r0 + r, r, &rs[r], tid);
            }
        }
        free(S);
        free(X);
        free(C);
        free(rs);
    }
    if (failed)
        return rec__fail(err, REC_ENOMEM, "batch ranking: out of memory");
    return REC_OK;
}

/* ---- the public calls ---- */

/* External user ids -> dense indices; REC_ENOTFOUND names the first
   unknown one. */
static rec_status dense_users(int32_t **out, const rec_model *m,
                              const int32_t *ids, size_t n, const char *fn,
                              rec_error *err)
{
    int32_t *d = malloc((n ? n : 1) * sizeof *d);
    if (!d)
        return rec__fail(err, REC_ENOMEM, "%s: out of memory", fn);
    for (size_t i = 0; i < n; i++) {
        d[i] = ids ? rec__idmap_get(&m->user_map, ids[i]) : (int32_t)i;
        if (d[i] < 0) {
            free(d);
            return rec__fail(err, REC_ENOTFOUND,
                             "%s: unknown user id %ld (entry %zu)", fn,
                             (long)ids[i], i);
        }
    }
    *out = d;
    return REC_OK;
}

rec_status rec_model_user_ids(int32_t *out, size_t cap, size_t *n_out,
                              const rec_model *m, rec_error *err)
{
    if (!m || !n_out || (!out && cap > 0))
        return rec__fail(err, REC_EINVAL, "rec_model_user_ids: NULL argument");
    size_t n = m->n_users < cap ? m->n_users : cap;
    memcpy(out, m->user_ids, n * sizeof *out);
    *n_out = n;
    return REC_OK;
}

typedef struct many_ctx {
    rec_scored *out;
    size_t n, rows, cap;
    size_t *n_out;
    const rec_candidates *cands;
    rec__sel *sel;   /* rows per thread */
    rec__near *near; /* rows * cap per thread */
} many_ctx;

static rec__sel *many_sel(many_ctx *c, size_t slot, int tid)
{
    return &c->sel[(size_t)tid * c->rows + slot];
}

static void many_begin(void *ctx, size_t row, size_t slot,
                       const rec__row_scores *rs, int tid)
{
    (void)rs;
    many_ctx *c = ctx;
    rec__sel_start(many_sel(c, slot, tid), c->out + row * c->n, c->n,
                   c->near + ((size_t)tid * c->rows + slot) * c->cap, c->cap);
}

static void many_tile(void *ctx, size_t row, size_t slot,
                      const rec__row_scores *rs, size_t j0, size_t j1,
                      int tid)
{
    (void)row;
    many_ctx *c = ctx;
    rec__sel_tile(many_sel(c, slot, tid), rs, c->cands, j0, j1);
}

static void many_end(void *ctx, size_t row, size_t slot,
                     const rec__row_scores *rs, int tid)
{
    many_ctx *c = ctx;
    c->n_out[row] = rec__sel_finish(many_sel(c, slot, tid), rs, c->cands);
}

/* Top n of dense users[0..nu) into out/n_out. */
static rec_status top_n_dense(rec_scored *out, size_t n, size_t *n_out,
                              const rec_model *m, const int32_t *users,
                              size_t nu, const rec_candidates *cands,
                              rec_error *err)
{
    size_t nt = (size_t)omp_get_max_threads();
    many_ctx c = {.out = out, .n = n, .n_out = n_out, .cands = cands,
                  .rows = rec__tile_rows(n), .cap = rec__sel_cap(n)};
    c.sel = malloc(nt * c.rows * sizeof *c.sel);
    c.near = malloc(nt * c.rows * c.cap * sizeof *c.near);
    rec_status st = REC_OK;
    static const rec__tile_fns fns = {many_begin, many_tile, many_end};
    if (!c.sel || !c.near)
        st = rec__fail(err, REC_ENOMEM, "batch top-n: out of memory");
    else
        st = rec__for_each_tile(m, users, nu, c.rows, &fns, &c, err);
    free(c.sel);
    free(c.near);
    return st;
}

rec_status rec_top_n_many(rec_scored *out, size_t n, size_t *n_out,
                          const rec_model *m, const int32_t *user_ids,
                          size_t n_users,
                          const struct rec_top_n_options *opts,
                          rec_error *err)
{
    if (!m || (!n_out && n_users) || (!out && n && n_users) ||
        (!user_ids && n_users))
        return rec__fail(err, REC_EINVAL, "rec_top_n_many: NULL argument");
    rec_candidates cands;
    rec_status st = rec__candidates_init(&cands, m, opts, err);
    if (st != REC_OK)
        return st;
    int32_t *d = NULL;
    st = dense_users(&d, m, user_ids, n_users, "rec_top_n_many", err);
    if (st == REC_OK)
        st = top_n_dense(out, n, n_out, m, d, n_users, &cands, err);
    free(d);
    rec__candidates_free(&cands);
    return st;
}

rec_status rec_top_n_each(const rec_model *m, const int32_t *user_ids,
                          size_t n_users, size_t n,
                          const struct rec_top_n_options *opts,
                          rec_top_n_block_fn fn, void *userdata,
                          rec_error *err)
{
    if (!m || !fn)
        return rec__fail(err, REC_EINVAL, "rec_top_n_each: NULL argument");
    if (!user_ids)
        n_users = m->n_users;
    rec_candidates cands;
    rec_status st = rec__candidates_init(&cands, m, opts, err);
    if (st != REC_OK)
        return st;
    int32_t *d = NULL;
    if ((st = dense_users(&d, m, user_ids, n_users, "rec_top_n_each", err)) !=
        REC_OK) {
        rec__candidates_free(&cands);
        return st;
    }
    size_t chunk = REC_BATCH_CHUNK;
    rec_scored *top = malloc(chunk * (n ? n : 1) * sizeof *top);
    size_t *got = malloc(chunk * sizeof *got);
    int32_t *ids = malloc(chunk * sizeof *ids);
    if (!top || !got || !ids)
        st = rec__fail(err, REC_ENOMEM, "rec_top_n_each: out of memory");
    for (size_t i0 = 0; st == REC_OK && i0 < n_users; i0 += chunk) {
        size_t nb = n_users - i0 < chunk ? n_users - i0 : chunk;
        st = top_n_dense(top, n, got, m, d + i0, nb, &cands, err);
        if (st != REC_OK)
            break;
        for (size_t i = 0; i < nb; i++)
            ids[i] = m->user_ids[d[i0 + i]];
        if (fn(userdata, ids, nb, top, got, n) != 0)
            st = rec__fail(err, REC_ECANCELED,
                           "rec_top_n_each: stopped by the callback after "
                           "%zu users", i0 + nb);
    }
    free(top);
    free(got);
    free(ids);
    free(d);
    rec__candidates_free(&cands);
    return st;
}

rec_status rec_predict_many(float *out, const rec_model *m,
                            const int32_t *user_ids, const int32_t *movie_ids,
                            size_t n, rec_error *err)
{
    if (!m || (n && (!out || !user_ids || !movie_ids)))
        return rec__fail(err, REC_EINVAL, "rec_predict_many: NULL argument");
    /* Independent pairs: rec_predict cannot fail on a valid model. */
#pragma omp parallel for schedule(static) if (n > 4096)
    for (size_t i = 0; i < n; i++)
        rec_predict(&out[i], m, user_ids[i], movie_ids[i], NULL);
    return REC_OK;
}

rec_status rec_similar_movies_many(rec_scored *out, size_t n, size_t *n_out,
                                   const rec_model *m,
                                   const int32_t *movie_ids, size_t n_movies,
                                   const struct rec_top_n_options *opts,
                                   rec_error *err)
{
    if (!m || (n_movies && (!n_out || !movie_ids || (!out && n))))
        return rec__fail(err, REC_EINVAL,
                         "rec_similar_movies_many: NULL argument");
    rec_candidates probe; /* options checked once, before any work */
    rec_status st = rec__candidates_init(&probe, m, opts, err);
    if (st != REC_OK)
        return st;
    rec__candidates_free(&probe);
    for (size_t i = 0; i < n_movies; i++)
        if (rec__idmap_get(&m->movie_map, movie_ids[i]) < 0)
            return rec__fail(err, REC_ENOTFOUND,
                             "rec_similar_movies_many: unknown movie id %ld "
                             "(entry %zu)", (long)movie_ids[i], i);
    /* Each movie by the single-movie code (exact, same order); movies in
       parallel. */
#pragma omp parallel for schedule(dynamic, 4)
    for (size_t i = 0; i < n_movies; i++)
        rec_similar_movies_ex(out + i * n, n, &n_out[i], m, movie_ids[i],
                              opts, NULL);
    return REC_OK;
}
