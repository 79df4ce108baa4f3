/*
 * gen_movielens - write a synthetic dataset in the MovieLens CSV layout.
 *
 *   gen_movielens [--scale F] [--users U] [--movies M] [--ratings N]
 *                 [--seed S] [--rank K] [--threads T] OUTDIR
 *
 * Writes OUTDIR/ratings.csv (userId,movieId,rating,timestamp, sorted by user
 * then movie, as MovieLens does) and OUTDIR/movies.csv (movieId,title,genres;
 * some titles quoted because they hold commas or quotes).
 *
 * The default shape is MovieLens-20M: 138,493 users, 26,744 movies and
 * 20,000,263 ratings in halves from 0.5 to 5.0. --scale F multiplies all
 * three (0.05 gives about 1M ratings), keeping at least 600 movies.
 *
 * The model behind the numbers, so that RMSE means something:
 *  - user activity: at least 20 ratings (as in MovieLens) plus a lognormal
 *    tail, rescaled to the exact total, capped at 35% of the catalogue;
 *  - movie popularity: lognormal weights (sigma 2.3), so a few movies are
 *    rated by most users and thousands by a handful; each user draws movies
 *    without replacement in proportion to popularity (alias table with
 *    rejection of repeats) and keeps a drawn movie with a probability that
 *    grows with their taste for it, (1 + tanh(2 <p_u, q_i>)) / 2, so what
 *    people rate says something about what they like (implicit feedback);
 *  - rating = 3.18 + user bias + movie bias (higher for popular movies)
 *    + <p_u, q_i> (true rank K, default 8) + gaussian noise, rounded to the
 *    nearest half and clipped to [0.5, 5] (mean about 3.55, as MovieLens).
 *    The best possible RMSE is about 0.7 (the noise plus the rounding).
 *
 * Deterministic by seed whatever the thread count: every user draws from
 * its own random stream, and blocks of users are written in order.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#define ML20M_USERS 138493
#define ML20M_MOVIES 26744
#define ML20M_RATINGS 20000263LL
#define BLOCK_USERS 256
#define MAX_RANK 64

/* ---- random numbers: splitmix64 streams ---- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t next64(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return mix64(*s);
}

static double u01(uint64_t *s) /* in (0, 1) */
{
    return ((double)(next64(s) >> 11) + 0.5) * 0x1.0p-53;
}

static double gauss(uint64_t *s)
{
    double a = u01(s), b = u01(s);
    return sqrt(-2.0 * log(a)) * cos(6.283185307179586 * b);
}

/* An independent stream for (seed, purpose, index). */
static uint64_t stream(uint64_t seed, uint64_t purpose, uint64_t index)
{
    return mix64(mix64(seed ^ (purpose * 0x9e3779b97f4a7c15ULL)) + index);
}

/* ---- alias table (Vose) for drawing movies by popularity ---- */

typedef struct alias_table {
    double *prob;
    int32_t *alias;
    int32_t n;
} alias_table;

static int alias_build(alias_table *t, const double *w, int32_t n)
{
    double sum = 0;
    for (int32_t i = 0; i < n; i++)
        sum += w[i];
    t->n = n;
    t->prob = malloc(sizeof(double) * (size_t)n);
    t->alias = malloc(sizeof(int32_t) * (size_t)n);
    int32_t *small = malloc(sizeof(int32_t) * (size_t)n);
    int32_t *large = malloc(sizeof(int32_t) * (size_t)n);
    double *p = malloc(sizeof(double) * (size_t)n);
    if (!t->prob || !t->alias || !small || !large || !p) {
        free(small), free(large), free(p);
        return -1;
    }
    int32_t ns = 0, nl = 0;
    for (int32_t i = 0; i < n; i++) {
        p[i] = w[i] * n / sum;
        if (p[i] < 1.0)
            small[ns++] = i;
        else
            large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        int32_t s = small[--ns], l = large[--nl];
        t->prob[s] = p[s];
        t->alias[s] = l;
        p[l] = (p[l] + p[s]) - 1.0;
        if (p[l] < 1.0)
            small[ns++] = l;
        else
            large[nl++] = l;
    }
    while (nl > 0) {
        int32_t l = large[--nl];
        t->prob[l] = 1.0, t->alias[l] = l;
    }
    while (ns > 0) {
        int32_t s = small[--ns];
        t->prob[s] = 1.0, t->alias[s] = s;
    }
    free(small), free(large), free(p);
    return 0;
}

static int32_t alias_draw(const alias_table *t, uint64_t *s)
{
    uint64_t r = next64(s);
    int32_t i = (int32_t)(((r >> 32) * (uint64_t)t->n) >> 32);
    double f = (double)(r & 0xffffffffULL) * 0x1.0p-32;
    return f < t->prob[i] ? i : t->alias[i];
}

/* ---- the synthetic world ---- */

typedef struct world {
    int32_t n_users, n_movies, rank;
    int64_t n_ratings;
    uint64_t seed;
    int32_t *count;       /* ratings per user */
    int32_t *movie_id;    /* dense movie index -> MovieLens-style id */
    float *movie_factors; /* n_movies * rank */
    float *movie_bias;
    alias_table pop;
} world;

/* Ids with gaps, as in MovieLens (ids are not dense there either). */
static int32_t movie_id_of(int32_t j)
{
    return 1 + j + (int32_t)(((int64_t)j * j) / 20000);
}

static int make_counts(world *w)
{
    int32_t U = w->n_users;
    int64_t N = w->n_ratings;
    int32_t cap = (int32_t)(0.35 * w->n_movies);
    if (cap < 2)
        cap = 2;
    int32_t base = 20;
    if (N / U < 2 * base)
        base = (int32_t)(N / U / 2);
    if (base < 1)
        base = 1;
    if (base > cap - 1)
        base = cap - 1 > 0 ? cap - 1 : 1;
    if ((int64_t)U * base > N || (int64_t)U * (cap - 1) < N) {
        fprintf(stderr, "gen_movielens: %lld ratings do not fit %d users x "
                        "%d movies (each user rates %d..%d)\n",
                (long long)N, U, w->n_movies, base, cap - 1);
        return -1;
    }
    double *raw = malloc(sizeof(double) * (size_t)U);
    w->count = malloc(sizeof(int32_t) * (size_t)U);
    if (!raw || !w->count) {
        free(raw);
        return -1;
    }
    uint64_t s = stream(w->seed, 1, 0);
    for (int32_t u = 0; u < U; u++)
        raw[u] = exp(1.2 * gauss(&s));
    /* Targets base + scale * raw, capped: find scale by fixed point. */
    double extra = (double)(N - (int64_t)U * base), scale = 0;
    double room = (double)(cap - 1 - base);
    for (int it = 0; it < 60; it++) {
        double sum_free = 0, sum_capped = 0;
        for (int32_t u = 0; u < U; u++) {
            if (scale > 0 && scale * raw[u] >= room)
                sum_capped += room;
            else
                sum_free += raw[u];
        }
        double ns = (extra - sum_capped) / (sum_free > 0 ? sum_free : 1);
        if (fabs(ns - scale) <= 1e-12 * ns)
            break;
        scale = ns;
    }
    /* Cumulative rounding: exact total, each user within one of target. */
    double cum = 0;
    int64_t prev = 0;
    for (int32_t u = 0; u < U; u++) {
        double t = scale * raw[u];
        if (t > room)
            t = room;
        cum += t;
        int64_t r = (int64_t)llround(cum);
        if (u == U - 1)
            r = N - (int64_t)U * base;
        int64_t c = base + (r - prev);
        if (c > cap)
            c = cap;
        if (c < 1)
            c = 1;
        w->count[u] = (int32_t)c;
        prev = r;
    }
    /* Fix any residue left by the clamps (rare) one rating at a time. */
    int64_t total = 0;
    for (int32_t u = 0; u < U; u++)
        total += w->count[u];
    for (int32_t u = 0; total != N; u = (u + 1) % U) {
        if (total < N && w->count[u] < cap)
            w->count[u]++, total++;
        else if (total > N && w->count[u] > 1)
            w->count[u]--, total--;
    }
    free(raw);
    return 0;
}

static int make_movies(world *w)
{
    int32_t M = w->n_movies, K = w->rank;
    double *weight = malloc(sizeof(double) * (size_t)M);
    w->movie_id = malloc(sizeof(int32_t) * (size_t)M);
    w->movie_factors = malloc(sizeof(float) * (size_t)M * (size_t)K);
    w->movie_bias = malloc(sizeof(float) * (size_t)M);
    if (!weight || !w->movie_id || !w->movie_factors || !w->movie_bias) {
        free(weight);
        return -1;
    }
    double fs = pow(0.3 / K, 0.25); /* var <p,q> = K fs^4 = 0.3 */
    for (int32_t j = 0; j < M; j++) {
        uint64_t s = stream(w->seed, 2, (uint64_t)j);
        double z = gauss(&s);
        weight[j] = exp(2.3 * z);
        /* Popular movies are rated a little higher, as in MovieLens. */
        w->movie_bias[j] = (float)(0.15 * z + 0.4 * gauss(&s));
        for (int32_t k = 0; k < K; k++)
            w->movie_factors[(size_t)j * K + k] = (float)(fs * gauss(&s));
        w->movie_id[j] = movie_id_of(j);
    }
    int rc = alias_build(&w->pop, weight, M);
    free(weight);
    return rc;
}

/* ---- output: buffered, numbers formatted by hand ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static int buf_reserve(buf *b, size_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + more)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p, b->cap = cap;
    return 0;
}

static char *put_uint(char *o, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *o++ = tmp[--n];
    return o;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Per-thread scratch for drawing a user's movies. */
typedef struct scratch {
    uint32_t *stamp; /* stamp[j] == tag: movie j taken by the current user */
    uint32_t tag;
    int32_t *picks;
} scratch;

static double dot_k(const float *p, const float *q, int32_t k)
{
    double d = 0;
    for (int32_t f = 0; f < k; f++)
        d += (double)p[f] * q[f];
    return d;
}

/* Draw c distinct movies by popularity and taste: a drawn movie is kept
   with probability (1 + tanh(TASTE * <p_u, q_j>)) / 2, so people mostly
   watch what they like (what implicit-feedback ALS learns from), and the
   ratings they give lean high, as in MovieLens. Sorted ascending. */
#define TASTE 2.0
static void draw_movies(const world *w, scratch *sc, uint64_t *s, int32_t c,
                        const float *p)
{
    int32_t M = w->n_movies, K = w->rank, got = 0;
    sc->tag++;
    long long tries = 0, limit = 60LL * c + 1000;
    while (got < c && tries < limit) {
        int32_t j = alias_draw(&w->pop, s);
        tries++;
        if (sc->stamp[j] == sc->tag)
            continue;
        double d = dot_k(p, w->movie_factors + (size_t)j * K, K);
        if (2.0 * u01(s) < 1.0 + tanh(TASTE * d)) {
            sc->stamp[j] = sc->tag;
            sc->picks[got++] = j;
        }
    }
    /* A very heavy user exhausted the popular head: fill from a random
       start, uniformly over what is left (keeps the cost bounded). */
    for (int32_t j = (int32_t)(next64(s) % (uint64_t)M); got < c;
         j = (j + 1) % M) {
        if (sc->stamp[j] != sc->tag) {
            sc->stamp[j] = sc->tag;
            sc->picks[got++] = j;
        }
    }
    qsort(sc->picks, (size_t)c, sizeof(int32_t), cmp_i32);
}

static const char *const HALF[11] = {"0.0", "0.5", "1.0", "1.5", "2.0", "2.5",
                                     "3.0", "3.5", "4.0", "4.5", "5.0"};

static int gen_block(const world *w, scratch *sc, buf *b, int32_t u0,
                     int32_t u1)
{
    int32_t K = w->rank;
    float p[MAX_RANK];
    double fs = pow(0.3 / K, 0.25);
    b->len = 0;
    for (int32_t u = u0; u < u1; u++) {
        uint64_t s = stream(w->seed, 3, (uint64_t)u);
        int32_t c = w->count[u];
        if (buf_reserve(b, (size_t)c * 40))
            return -1;
        for (int32_t k = 0; k < K; k++)
            p[k] = (float)(fs * gauss(&s));
        double ub = 0.35 * gauss(&s);
        /* 1995-01-09 .. 2015-03-31, like MovieLens-20M. */
        uint64_t t = 789652009ULL + next64(&s) % 600000000ULL;
        draw_movies(w, sc, &s, c, p);
        char *o = b->p + b->len;
        for (int32_t i = 0; i < c; i++) {
            int32_t j = sc->picks[i];
            double dot = dot_k(p, w->movie_factors + (size_t)j * K, K);
            double r = 3.18 + ub + w->movie_bias[j] + dot + 0.7 * gauss(&s);
            long h = lround(r * 2.0);
            if (h < 1)
                h = 1;
            if (h > 10)
                h = 10;
            t += 1 + next64(&s) % 5000;
            o = put_uint(o, (uint64_t)u + 1);
            *o++ = ',';
            o = put_uint(o, (uint64_t)w->movie_id[j]);
            *o++ = ',';
            memcpy(o, HALF[h], 3);
            o += 3;
            *o++ = ',';
            o = put_uint(o, t);
            *o++ = '\n';
        }
        b->len = (size_t)(o - b->p);
    }
    return 0;
}

static int write_ratings(const world *w, const char *path, int threads)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "gen_movielens: %s: %s\n", path, strerror(errno));
        return -1;
    }
    static const char header[] = "userId,movieId,rating,timestamp\n";
    fwrite(header, 1, sizeof header - 1, f);
    int32_t nblocks = (w->n_users + BLOCK_USERS - 1) / BLOCK_USERS;
    int failed = 0, nt = threads;
#ifdef _OPENMP
    if (nt <= 0)
        nt = omp_get_max_threads();
#else
    nt = 1;
#endif
#pragma omp parallel num_threads(nt)
    {
        scratch sc = {calloc((size_t)w->n_movies, sizeof(uint32_t)), 0,
                      malloc(sizeof(int32_t) * (size_t)w->n_movies)};
        buf b = {0};
#pragma omp for ordered schedule(dynamic, 1)
        for (int32_t blk = 0; blk < nblocks; blk++) {
            int32_t u0 = blk * BLOCK_USERS, u1 = u0 + BLOCK_USERS;
            if (u1 > w->n_users)
                u1 = w->n_users;
            int bad = !sc.stamp || !sc.picks || gen_block(w, &sc, &b, u0, u1);
#pragma omp ordered
            {
                if (bad || fwrite(b.p, 1, b.len, f) != b.len)
#pragma omp atomic write
                    failed = 1;
            }
        }
        free(sc.stamp), free(sc.picks), free(b.p);
    }
    if (fclose(f) != 0)
        failed = 1;
    if (failed)
        fprintf(stderr, "gen_movielens: writing %s failed\n", path);
    return failed ? -1 : 0;
}

static const char *const GENRES[] = {
    "Action",  "Adventure", "Animation", "Children", "Comedy",
    "Crime",   "Documentary", "Drama",   "Fantasy",  "Film-Noir",
    "Horror",  "IMAX",      "Musical",   "Mystery",  "Romance",
    "Sci-Fi",  "Thriller",  "War",       "Western"};

static int write_movies(const world *w, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "gen_movielens: %s: %s\n", path, strerror(errno));
        return -1;
    }
    fputs("movieId,title,genres\n", f);
    for (int32_t j = 0; j < w->n_movies; j++) {
        uint64_t s = stream(w->seed, 4, (uint64_t)j);
        int year = 1902 + (int)(next64(&s) % 114);
        int32_t id = w->movie_id[j];
        if (j % 17 == 3) /* a comma: the field is quoted */
            fprintf(f, "%d,\"Synthetic Movie %d, The (%d)\",", id, id, year);
        else if (j % 97 == 5) /* embedded quotes, doubled */
            fprintf(f, "%d,\"\"\"Quoted\"\" Movie %d (%d)\",", id, id, year);
        else if (j % 211 == 7) /* no year */
            fprintf(f, "%d,Untitled %d,", id, id);
        else
            fprintf(f, "%d,Synthetic Movie %d (%d),", id, id, year);
        if (j % 113 == 11) {
            fputs("(no genres listed)\n", f);
            continue;
        }
        int ng = 1 + (int)(next64(&s) % 3);
        unsigned used = 0;
        for (int g = 0; g < ng; g++) {
            unsigned x = (unsigned)(next64(&s) % 19);
            if (used & (1u << x))
                continue;
            fprintf(f, "%s%s", used ? "|" : "", GENRES[x]);
            used |= 1u << x;
        }
        fputc('\n', f);
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "gen_movielens: writing %s failed\n", path);
        return -1;
    }
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(void)
{
    fputs("usage: gen_movielens [--scale F] [--users U] [--movies M] "
          "[--ratings N]\n"
          "                     [--seed S] [--rank K] [--threads T] OUTDIR\n"
          "Default shape: MovieLens-20M (138493 users, 26744 movies, "
          "20000263 ratings).\n",
          stderr);
}

int main(int argc, char **argv)
{
    double scale = 1.0;
    long long users = -1, movies = -1, ratings = -1;
    unsigned long long seed = 1;
    int rank = 8, threads = 0;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        } else if (a[0] == '-' && a[1] == '-' && !v) {
            usage();
            return 2;
        } else if (!strcmp(a, "--scale"))
            scale = atof(v), i++;
        else if (!strcmp(a, "--users"))
            users = atoll(v), i++;
        else if (!strcmp(a, "--movies"))
            movies = atoll(v), i++;
        else if (!strcmp(a, "--ratings"))
            ratings = atoll(v), i++;
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--rank"))
            rank = atoi(v), i++;
        else if (!strcmp(a, "--threads"))
            threads = atoi(v), i++;
        else if (a[0] == '-') {
            usage();
            return 2;
        } else
            out = a;
    }
    if (!out || scale <= 0 || rank < 1 || rank > MAX_RANK) {
        usage();
        return 2;
    }
    world w = {0};
    w.seed = seed;
    w.rank = rank;
    w.n_users = (int32_t)(users > 0 ? users : llround(ML20M_USERS * scale));
    w.n_movies = (int32_t)(movies > 0 ? movies : llround(ML20M_MOVIES * scale));
    /* Small scales keep room for the average user's 144 ratings. */
    if (movies <= 0 && w.n_movies < 600)
        w.n_movies = 600;
    w.n_ratings = ratings > 0 ? ratings : llround((double)ML20M_RATINGS * scale);
    if (w.n_users < 1)
        w.n_users = 1;
    if (w.n_movies < 4)
        w.n_movies = 4;
    double t0 = now();
    if (mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "gen_movielens: %s: %s\n", out, strerror(errno));
        return 1;
    }
    if (make_counts(&w) || make_movies(&w)) {
        fputs("gen_movielens: setup failed\n", stderr);
        return 1;
    }
    size_t len = strlen(out) + 16;
    char *path = malloc(len);
    if (!path)
        return 1;
    snprintf(path, len, "%s/movies.csv", out);
    int rc = write_movies(&w, path);
    snprintf(path, len, "%s/ratings.csv", out);
    if (rc == 0)
        rc = write_ratings(&w, path, threads);
    fprintf(stderr,
            "gen_movielens: %d users, %d movies, %lld ratings, seed %llu "
            "-> %s in %.2f s\n",
            w.n_users, w.n_movies, (long long)w.n_ratings, seed, out,
            now() - t0);
    free(path);
    free(w.count), free(w.movie_id), free(w.movie_factors), free(w.movie_bias);
    free(w.pop.prob), free(w.pop.alias);
    return rc ? 1 : 0;
}
