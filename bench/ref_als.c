/*
 * ref_als.c - the unoptimised reference ALS the benchmark checks accuracy
 * against: explicit ALS with biases written straight from the objective,
 * in double precision, one thread, no BLAS, no blocking.
 *
 * Each row (a user, or a movie) solves for w = [x, bias]:
 *   min  sum_t (r_t - mu - c_t - y_t.x - bias)^2
 *        + reg * n * |x|^2 + bias_reg * n * bias^2          (ALS-WR)
 * with y_t, c_t the fixed factors and bias of the other side, mu the mean
 * training rating: the normal equations (sum z z^T + D) w = sum z t with
 * z = [y, 1], t = r - mu - c, solved by a textbook Cholesky.
 * As in the library, movies are solved first, from random user factors
 * (uniform in (-1, 1) / sqrt(rank)), then users, each iteration.
 */
#include "bench_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct csr {
    size_t *off;
    int32_t *idx;
    double *val;
} csr;

typedef struct ref_data {
    size_t nu, nm, nnz;
    int32_t *user_ids, *movie_ids; /* ascending */
    csr by_user, by_movie;
    double mu, rmin, rmax;
} ref_data;

static long find_id(const int32_t *ids, size_t n, int32_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && ids[lo] == id ? (long)lo : -1;
}

static void ref_free(ref_data *d)
{
    free(d->user_ids), free(d->movie_ids);
    free(d->by_user.off), free(d->by_user.idx), free(d->by_user.val);
    free(d->by_movie.off), free(d->by_movie.idx), free(d->by_movie.val);
}

/* Copy the training ratings out through the public API. */
static int ref_gather(ref_data *d, const rec_ratings *r)
{
    memset(d, 0, sizeof *d);
    d->user_ids = bench_user_ids(r, &d->nu);
    d->nm = rec_ratings_n_movies(r);
    d->nnz = rec_ratings_n_ratings(r);
    d->movie_ids = malloc(sizeof(int32_t) * (d->nm + 1));
    d->by_user.off = calloc(d->nu + 1, sizeof(size_t));
    d->by_user.idx = malloc(sizeof(int32_t) * (d->nnz + 1));
    d->by_user.val = malloc(sizeof(double) * (d->nnz + 1));
    d->by_movie.off = calloc(d->nm + 2, sizeof(size_t));
    d->by_movie.idx = malloc(sizeof(int32_t) * (d->nnz + 1));
    d->by_movie.val = malloc(sizeof(double) * (d->nnz + 1));
    rec_rating *rows = malloc(sizeof(rec_rating) * (d->nm + 1));
    if (!d->user_ids || !d->movie_ids || !d->by_user.off ||
        !d->by_user.idx || !d->by_user.val || !d->by_movie.off ||
        !d->by_movie.idx || !d->by_movie.val || !rows) {
        free(rows);
        return -1;
    }
    for (size_t j = 0; j < d->nm; j++) {
        rec_movie_info mi;
        if (rec_ratings_movie_at(&mi, r, j, NULL) != REC_OK) {
            free(rows);
            return -1;
        }
        d->movie_ids[j] = mi.movie_id;
    }
    size_t t = 0;
    double sum = 0;
    d->rmin = INFINITY, d->rmax = -INFINITY;
    for (size_t u = 0; u < d->nu; u++) {
        size_t n = 0;
        if (rec_ratings_user(rows, d->nm, &n, r, d->user_ids[u], NULL) ||
            t + n > d->nnz) {
            free(rows);
            return -1;
        }
        for (size_t i = 0; i < n; i++, t++) {
            long j = find_id(d->movie_ids, d->nm, rows[i].movie_id);
            if (j < 0) {
                free(rows);
                return -1;
            }
            double v = rows[i].rating;
            d->by_user.idx[t] = (int32_t)j;
            d->by_user.val[t] = v;
            d->by_movie.off[j + 2]++;
            sum += v;
            d->rmin = v < d->rmin ? v : d->rmin;
            d->rmax = v > d->rmax ? v : d->rmax;
        }
        d->by_user.off[u + 1] = t;
    }
    free(rows);
    d->nnz = t;
    d->mu = t ? sum / (double)t : 0;
    /* transpose: counting sort by movie (off[j+2] counted, shift by one) */
    for (size_t j = 0; j < d->nm; j++)
        d->by_movie.off[j + 2] += d->by_movie.off[j + 1];
    for (size_t u = 0; u < d->nu; u++)
        for (size_t k = d->by_user.off[u]; k < d->by_user.off[u + 1]; k++) {
            size_t pos = d->by_movie.off[d->by_user.idx[k] + 1]++;
            d->by_movie.idx[pos] = (int32_t)u;
            d->by_movie.val[pos] = d->by_user.val[k];
        }
    return 0;
}

/* Solve A w = b (A symmetric positive definite, m x m) by Cholesky. */
static int cholesky_solve(double *A, double *b, int m)
{
    for (int j = 0; j < m; j++) {
        double s = A[j * m + j];
        for (int k = 0; k < j; k++)
            s -= A[j * m + k] * A[j * m + k];
        if (s <= 0)
            return -1;
        double l = sqrt(s);
        A[j * m + j] = l;
        for (int i = j + 1; i < m; i++) {
            double t = A[i * m + j];
            for (int k = 0; k < j; k++)
                t -= A[i * m + k] * A[j * m + k];
            A[i * m + j] = t / l;
        }
    }
    for (int i = 0; i < m; i++) { /* L y = b */
        double t = b[i];
        for (int k = 0; k < i; k++)
            t -= A[i * m + k] * b[k];
        b[i] = t / A[i * m + i];
    }
    for (int i = m - 1; i >= 0; i--) { /* L^T w = y */
        double t = b[i];
        for (int k = i + 1; k < m; k++)
            t -= A[k * m + i] * b[k];
        b[i] = t / A[i * m + i];
    }
    return 0;
}

/* Solve every row of one side: X (n x k), bx (n) from Y (other side). */
static int solve_side(const csr *c, size_t n, int k, double reg,
                      double bias_reg, double mu, double *X, double *bx,
                      const double *Y, const double *by, double *A, double *b)
{
    int m = k + 1;
    for (size_t r = 0; r < n; r++) {
        size_t cnt = c->off[r + 1] - c->off[r];
        if (cnt == 0) {
            memset(X + r * k, 0, sizeof(double) * (size_t)k);
            bx[r] = 0;
            continue;
        }
        memset(A, 0, sizeof(double) * (size_t)(m * m));
        memset(b, 0, sizeof(double) * (size_t)m);
        for (size_t t = c->off[r]; t < c->off[r + 1]; t++) {
            const double *y = Y + (size_t)c->idx[t] * k;
            double target = c->val[t] - mu - by[c->idx[t]];
            for (int i = 0; i < m; i++) {
                double zi = i < k ? y[i] : 1.0;
                b[i] += zi * target;
                for (int j = 0; j < m; j++)
                    A[i * m + j] += zi * (j < k ? y[j] : 1.0);
            }
        }
        for (int i = 0; i < k; i++)
            A[i * m + i] += reg * (double)cnt;
        A[k * m + k] += bias_reg * (double)cnt;
        if (cholesky_solve(A, b, m))
            return -1;
        memcpy(X + r * k, b, sizeof(double) * (size_t)k);
        bx[r] = b[k];
    }
    return 0;
}

double ref_als_test_rmse(const rec_ratings *train, const rec_ratings *test,
                         const rec_als_params *p, double *train_seconds)
{
    ref_data d;
    int k = p->rank;
    double result = -1;
    if (ref_gather(&d, train)) {
        ref_free(&d);
        return -1;
    }
    double t0 = bench_now();
    double *U = calloc(d.nu * (size_t)k + 1, sizeof(double));
    double *V = calloc(d.nm * (size_t)k + 1, sizeof(double));
    double *bu = calloc(d.nu + 1, sizeof(double));
    double *bm = calloc(d.nm + 1, sizeof(double));
    double *A = malloc(sizeof(double) * (size_t)((k + 1) * (k + 1)));
    double *b = malloc(sizeof(double) * (size_t)(k + 1));
    rec_rating *rows = malloc(sizeof(rec_rating) * (d.nm + 1));
    if (!U || !V || !bu || !bm || !A || !b || !rows)
        goto out;
    /* user factors uniform in (-1, 1) / sqrt(k), from our own generator */
    uint64_t s = p->seed ^ 0x5eedULL;
    for (size_t i = 0; i < d.nu * (size_t)k; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        U[i] = (2.0 * ((double)(s >> 11) * 0x1.0p-53) - 1.0) / sqrt((double)k);
    }
    for (int it = 0; it < p->iterations; it++) {
        if (solve_side(&d.by_movie, d.nm, k, p->reg, p->bias_reg, d.mu, V, bm,
                       U, bu, A, b) ||
            solve_side(&d.by_user, d.nu, k, p->reg, p->bias_reg, d.mu, U, bu,
                       V, bm, A, b))
            goto out;
    }
    *train_seconds = bench_now() - t0;
    /* Test RMSE, with rec_predict()'s fall-backs and clamp. */
    size_t n_test_users = 0, total = 0;
    int32_t *tu = bench_user_ids(test, &n_test_users);
    double se = 0;
    for (size_t i = 0; tu && i < n_test_users; i++) {
        size_t n = 0;
        if (rec_ratings_user(rows, d.nm, &n, test, tu[i], NULL) != REC_OK)
            continue;
        long u = find_id(d.user_ids, d.nu, tu[i]);
        for (size_t t = 0; t < n && t < d.nm; t++) {
            long j = find_id(d.movie_ids, d.nm, rows[t].movie_id);
            double pred = d.mu + (u >= 0 ? bu[u] : 0) + (j >= 0 ? bm[j] : 0);
            for (int f = 0; u >= 0 && j >= 0 && f < k; f++)
                pred += U[(size_t)u * k + f] * V[(size_t)j * k + f];
            pred = pred < d.rmin ? d.rmin : pred > d.rmax ? d.rmax : pred;
            double e = pred - rows[t].rating;
            se += e * e, total++;
        }
    }
    free(tu);
    if (total)
        result = sqrt(se / (double)total);
out:
    free(U), free(V), free(bu), free(bm), free(A), free(b), free(rows);
    ref_free(&d);
    return result;
}
