/*
 * bench_als - measures libmovieme through its public API; prints one JSON
 * object on stdout per run (bench/run_suite.py drives it and takes medians).
 *
 *   bench_als check DIR USERS MOVIES RATINGS
 *       load a generated set and check its shape (CTest)
 *   bench_als load DIR
 *       load time, peak and resident memory of a process that only loads
 *   bench_als train DIR [--rank K] [--iters N] [--threads T] [--split F]
 *                       [--seed S] [--save MODEL] [--progress] [--reference]
 *                       [--explicit-only]
 *       load, split (F > 0), train, test RMSE; --progress records each
 *       iteration's time (the callback makes the library compute the
 *       training loss, so the plain run is the one to time); --reference
 *       also trains the unoptimised double-precision reference (ref_als.c)
 *       with the same parameters and reports its test RMSE
 *   bench_als serve MODEL [--threads T] [--samples S] [--reps R]
 *       model load/save time, rec_top_n (N=10) and rec_add_user (20
 *       ratings, on a copy; with the caller's new id and with
 *       REC_NEW_USER) latency, rec_recommend_for_ratings latency,
 *       recommend-all throughput (rec_top_n for every user, OpenMP over
 *       users in the bench: the model is const)
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "bench_common.h"
#include "movieme.h"

static int fail(const char *what, rec_status st, const rec_error *err)
{
    fprintf(stderr, "bench_als: %s: %s (%d): %s\n", what, rec_strerror(st),
            st, err ? err->msg : "");
    return 1;
}

/* Options shared by the subcommands. */
typedef struct opts {
    int rank, iters, threads, progress, reference, samples, reps;
    int explicit_only;
    double split;
    unsigned long long seed;
    const char *save;
} opts;

static int parse_opts(opts *o, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--progress"))
            o->progress = 1;
        else if (!strcmp(a, "--explicit-only"))
            o->explicit_only = 1;
        else if (!strcmp(a, "--reference"))
            o->reference = 1;
        else if (!v) {
            fprintf(stderr, "bench_als: bad option %s\n", a);
            return -1;
        } else if (!strcmp(a, "--rank"))
            o->rank = atoi(v), i++;
        else if (!strcmp(a, "--iters"))
            o->iters = atoi(v), i++;
        else if (!strcmp(a, "--threads"))
            o->threads = atoi(v), i++;
        else if (!strcmp(a, "--split"))
            o->split = atof(v), i++;
        else if (!strcmp(a, "--seed"))
            o->seed = strtoull(v, NULL, 10), i++;
        else if (!strcmp(a, "--save"))
            o->save = v, i++;
        else if (!strcmp(a, "--samples"))
            o->samples = atoi(v), i++;
        else if (!strcmp(a, "--reps"))
            o->reps = atoi(v), i++;
        else {
            fprintf(stderr, "bench_als: bad option %s\n", a);
            return -1;
        }
    }
    return 0;
}

/* ---- check: the generator's output loads with the expected shape ---- */

static int cmd_check(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: bench_als check DIR USERS MOVIES RATINGS\n", stderr);
        return 2;
    }
    rec_error err = {0};
    rec_ratings *r = NULL;
    rec_status st = rec_load_movielens(&r, argv[0], &err);
    if (st != REC_OK)
        return fail("load", st, &err);
    size_t nu = rec_ratings_n_users(r), nm = rec_ratings_n_movies(r),
           nr = rec_ratings_n_ratings(r);
    int bad = nu != strtoull(argv[1], NULL, 10) ||
              nm != strtoull(argv[2], NULL, 10) ||
              nr != strtoull(argv[3], NULL, 10);
    fprintf(stderr, "check: %zu users, %zu movies, %zu ratings\n", nu, nm,
            nr);
    /* Movie index 3 has a quoted title with a comma, index 5 doubled
       quotes (see gen_movielens.c); ids are 1 + j + j*j/20000. */
    rec_movie_info mi;
    if (!bad && nm > 5) {
        st = rec_ratings_movie(&mi, r, 4, &err);
        if (st != REC_OK || strncmp(mi.title, "Synthetic Movie 4, The (", 24) ||
            mi.year < 1900) {
            fprintf(stderr, "check: movie 4 title '%s' year %d\n",
                    st == REC_OK ? mi.title : "?", st == REC_OK ? mi.year : 0);
            bad = 1;
        }
        st = rec_ratings_movie(&mi, r, 6, &err);
        if (st != REC_OK || strncmp(mi.title, "\"Quoted\" Movie 6 (", 18)) {
            fprintf(stderr, "check: movie 6 title '%s'\n",
                    st == REC_OK ? mi.title : "?");
            bad = 1;
        }
    }
    /* Ratings are halves in [0.5, 5] and a user has no duplicate movie. */
    size_t n_ids = 0;
    int32_t *ids = bench_user_ids(r, &n_ids);
    rec_rating *rows = malloc(sizeof(rec_rating) * (nm ? nm : 1));
    if (!ids || !rows)
        bad = 1;
    for (size_t i = 0; !bad && i < n_ids; i++) {
        size_t n = 0;
        st = rec_ratings_user(rows, nm, &n, r, ids[i], &err);
        for (size_t j = 0; st == REC_OK && j < n; j++) {
            float v = rows[j].rating;
            if (v < 0.5f || v > 5.0f || v * 2 != floorf(v * 2) ||
                (j && rows[j].movie_id <= rows[j - 1].movie_id))
                bad = 1;
        }
        if (st != REC_OK)
            bad = 1;
    }
    free(rows), free(ids);
    rec_ratings_free(r);
    puts(bad ? "{\"check\": false}" : "{\"check\": true}");
    return bad;
}

/* ---- load ---- */

static int cmd_load(int argc, char **argv)
{
    if (argc < 1) {
        fputs("usage: bench_als load DIR\n", stderr);
        return 2;
    }
    rec_error err = {0};
    rec_ratings *r = NULL;
    double rss0 = bench_status_mib("VmRSS");
    bench_reset_hwm();
    double c0 = bench_cpu_seconds(), t0 = bench_now();
    rec_status st = rec_load_movielens(&r, argv[0], &err);
    double t = bench_now() - t0, cpu = bench_cpu_seconds() - c0;
    if (st != REC_OK)
        return fail("load", st, &err);
    printf("{\"cmd\": \"load\", \"data\": \"%s\", \"n_users\": %zu, "
           "\"n_movies\": %zu, \"n_ratings\": %zu, \"load_s\": %.4f, "
           "\"load_cpu_s\": %.4f, \"rss_before_mib\": %.1f, \"hwm_mib\": %.1f, "
           "\"rss_after_mib\": %.1f}\n",
           argv[0], rec_ratings_n_users(r), rec_ratings_n_movies(r),
           rec_ratings_n_ratings(r), t, cpu, rss0, bench_status_mib("VmHWM"),
           bench_status_mib("VmRSS"));
    rec_ratings_free(r);
    return 0;
}

/* ---- train ---- */

typedef struct iter_log {
    double *t; /* seconds at the end of each iteration */
    int n, cap;
} iter_log;

static int on_progress(void *ud, const rec_progress *p)
{
    iter_log *log = ud;
    if (log->n < log->cap)
        log->t[log->n++] = p->seconds;
    return 0;
}

/* RMSE of rec_predict over every test rating, as rec_evaluate computes it
   (without the ranking metrics, which cost a top-N per user). */
static double test_rmse(const rec_model *m, const rec_ratings *test,
                        const int32_t *ids, size_t n_ids, double *mae_out,
                        size_t *n_out)
{
    size_t cap = 1024, total = 0;
    rec_rating *rows = malloc(sizeof(rec_rating) * cap);
    double se = 0, ae = 0;
    for (size_t i = 0; rows && i < n_ids; i++) {
        size_t n = 0;
        if (rec_ratings_user(rows, cap, &n, test, ids[i], NULL) != REC_OK)
            continue;
        if (n > cap) {
            free(rows);
            cap = n;
            rows = malloc(sizeof(rec_rating) * cap);
            if (!rows ||
                rec_ratings_user(rows, cap, &n, test, ids[i], NULL) != REC_OK)
                break;
        }
        for (size_t j = 0; j < n; j++) {
            float p;
            if (rec_predict(&p, m, rows[j].user_id, rows[j].movie_id, NULL))
                continue;
            double d = (double)p - rows[j].rating;
            se += d * d, ae += fabs(d), total++;
        }
    }
    free(rows);
    *n_out = total;
    *mae_out = total ? ae / (double)total : 0;
    return total ? sqrt(se / (double)total) : -1;
}

static int cmd_train(int argc, char **argv)
{
    opts o = {.rank = 10, .iters = 10, .threads = 0, .split = 0.1,
              .seed = 42};
    if (argc < 1 || parse_opts(&o, argc - 1, argv + 1))
        return 2;
    const char *dir = argv[0];
    rec_error err = {0};
    rec_ratings *all = NULL, *train = NULL, *test = NULL;
    double t0 = bench_now();
    rec_status st = rec_load_movielens(&all, dir, &err);
    double load_s = bench_now() - t0;
    if (st != REC_OK)
        return fail("load", st, &err);
    size_t n_ids = 0;
    int32_t *ids = NULL;
    double split_s = 0;
    if (o.split > 0) {
        ids = bench_user_ids(all, &n_ids);
        t0 = bench_now();
        st = rec_ratings_split(&train, &test, all, o.split, o.seed, &err);
        split_s = bench_now() - t0;
        if (st != REC_OK)
            return fail("split", st, &err);
        rec_ratings_free(all);
        all = NULL;
    } else {
        train = all;
    }
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = o.rank;
    p.iterations = o.iters;
    p.n_threads = o.threads;
    p.seed = o.seed;
    if (o.explicit_only)
        p.preference = 0; /* the rating model alone (0.1's kind) */
    iter_log log = {calloc((size_t)o.iters + 1, sizeof(double)), 0, o.iters};
    if (o.progress) {
        p.progress = on_progress;
        p.progress_userdata = &log;
    }
    double hwm_before = bench_status_mib("VmHWM");
    bench_reset_hwm();
    rec_model *m = NULL;
    double c0 = bench_cpu_seconds();
    t0 = bench_now();
    st = rec_train_als(&m, train, &p, &err);
    double train_s = bench_now() - t0, train_cpu = bench_cpu_seconds() - c0;
    if (st != REC_OK)
        return fail("train", st, &err);
    double train_hwm = bench_status_mib("VmHWM");
    double hwm = train_hwm > hwm_before ? train_hwm : hwm_before;

    double rmse = -1, mae = 0, eval_s = 0, save_s = 0;
    size_t n_pred = 0;
    if (test) {
        t0 = bench_now();
        rmse = test_rmse(m, test, ids, n_ids, &mae, &n_pred);
        eval_s = bench_now() - t0;
    }
    if (o.save) {
        t0 = bench_now();
        st = rec_model_save(m, o.save, &err);
        save_s = bench_now() - t0;
        if (st != REC_OK)
            return fail("save", st, &err);
    }
    double ref_rmse = -1, ref_s = 0;
    rec_eval_result ev = {0};
    ev.rmse = -1;
    if (o.reference && test) {
        /* cross-check the bench's RMSE with the library's own */
        if ((st = rec_evaluate(&ev, m, test, 10, 4.0f, &err)) != REC_OK)
            return fail("evaluate", st, &err);
        ref_rmse = ref_als_test_rmse(train, test, &p, &ref_s);
    }

    printf("{\"cmd\": \"train\", \"data\": \"%s\", \"n_train\": %zu, "
           "\"n_test\": %zu, \"rank\": %d, \"iters\": %d, \"threads\": %d, "

           "\"reg\": %g, \"bias_reg\": %g, \"load_s\": %.4f, "
           "\"split_s\": %.4f, \"train_s\": %.4f, \"train_cpu_s\": %.4f, "
           "\"sec_per_iter\": %.5f, "
           "\"hwm_mib\": %.1f, \"train_hwm_mib\": %.1f, ",
           dir, rec_ratings_n_ratings(train),
           test ? rec_ratings_n_ratings(test) : 0, o.rank, o.iters,
           o.threads, p.reg, p.bias_reg, load_s, split_s, train_s,
           train_cpu, train_s / o.iters, hwm, train_hwm);
    printf("\"iter_s\": [");
    for (int i = 0; i < log.n; i++)
        printf("%s%.5f", i ? ", " : "", log.t[i] - (i ? log.t[i - 1] : 0));
    printf("], \"test_rmse\": %.6f, \"test_mae\": %.6f, \"n_predictions\": "
           "%zu, \"eval_s\": %.4f, \"save_s\": %.4f, \"ref_rmse\": %.6f, "
           "\"ref_train_s\": %.4f, \"evaluate_rmse\": %.6f, "
           "\"ndcg_at_10\": %.6f, \"precision_at_10\": %.6f}\n",
           rmse, mae, n_pred, eval_s, save_s, ref_rmse, ref_s, ev.rmse,
           ev.ndcg_at_k, ev.precision_at_k);
    rec_model_free(m);
    rec_ratings_free(train);
    rec_ratings_free(test);
    free(ids);
    free(log.t);
    return 0;
}

/* ---- serve ---- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Sorted latencies (microseconds) -> median and p90 into JSON. */
static void print_lat(const char *name, double *us, size_t n)
{
    double med = bench_median(us, n); /* sorts */
    printf("\"%s_us_median\": %.2f, \"%s_us_p90\": %.2f, \"%s_samples\": %zu, ",
           name, med, name, bench_percentile_sorted(us, n, 90), name, n);
}

static void random_ratings(rec_movie_rating *out, size_t n,
                           const int32_t *movie_ids, size_t n_movies,
                           uint64_t *s)
{
    for (size_t j = 0; j < n; j++) {
        /* distinct movies: retry on a repeat (n << n_movies) */
        int32_t id;
        int again;
        do {
            id = movie_ids[rng_next(s) % n_movies];
            again = 0;
            for (size_t k = 0; k < j; k++)
                again |= out[k].movie_id == id;
        } while (again);
        out[j].movie_id = id;
        out[j].rating = 0.5f * (float)(1 + rng_next(s) % 10);
    }
}

static int cmd_serve(int argc, char **argv)
{
    opts o = {.threads = 0, .samples = 2000, .reps = 3, .seed = 7};
    if (argc < 1 || parse_opts(&o, argc - 1, argv + 1))
        return 2;
    const char *path = argv[0];
    int reps = o.reps > 0 ? o.reps : 1;
    size_t S = o.samples > 0 ? (size_t)o.samples : 1;
    rec_error err = {0};
    rec_model *m = NULL;
    rec_status st;

    double *load_s = calloc((size_t)reps, sizeof(double));
    double *save_s = calloc((size_t)reps, sizeof(double));
    double *us = calloc(S, sizeof(double));
    size_t plen = strlen(path) + 32;
    char *tmp = malloc(plen);
    if (!load_s || !save_s || !us || !tmp)
        return 1;
    snprintf(tmp, plen, "%s.bench%ld", path, (long)getpid());
    for (int i = 0; i < reps; i++) {
        rec_model_free(m);
        m = NULL;
        double t0 = bench_now();
        st = rec_model_load(&m, path, &err);
        load_s[i] = bench_now() - t0;
        if (st != REC_OK)
            return fail("model load", st, &err);
        t0 = bench_now();
        st = rec_model_save(m, tmp, &err);
        save_s[i] = bench_now() - t0;
        if (st != REC_OK)
            return fail("model save", st, &err);
    }
    remove(tmp);
    free(tmp);

    size_t n_users = 0, n_movies = rec_model_n_movies(m);
    int32_t *users = bench_model_user_ids(m, &n_users);
    int32_t *movies = malloc(sizeof(int32_t) * (n_movies ? n_movies : 1));
    if (!users || !movies || n_movies < 40)
        return fail("model ids", REC_EINVAL, NULL);
    for (size_t j = 0; j < n_movies; j++) {
        rec_movie_info mi;
        if ((st = rec_model_movie_at(&mi, m, j, &err)) != REC_OK)
            return fail("movie_at", st, &err);
        movies[j] = mi.movie_id;
    }
    printf("{\"cmd\": \"serve\", \"model\": \"%s\", \"rank\": %d, "
           "\"n_users\": %zu, \"n_movies\": %zu, ",
           path, rec_model_rank(m), n_users, n_movies);
    printf("\"model_load_s\": %.5f, \"model_save_s\": %.5f, ",
           bench_median(load_s, (size_t)reps),
           bench_median(save_s, (size_t)reps));

    rec_scored top[10];
    size_t got = 0;
    uint64_t s = o.seed;
    /* warm up caches and page in the factors */
    for (int i = 0; i < 20; i++)
        rec_top_n(top, 10, &got, m, users[rng_next(&s) % n_users], NULL);
    for (size_t i = 0; i < S; i++) {
        int32_t u = users[rng_next(&s) % n_users];
        double t0 = bench_now();
        st = rec_top_n(top, 10, &got, m, u, &err);
        us[i] = 1e6 * (bench_now() - t0);
        if (st != REC_OK)
            return fail("top_n", st, &err);
    }
    print_lat("top_n", us, S);

    rec_model *copy = NULL;
    if ((st = rec_model_copy(&copy, m, &err)) != REC_OK)
        return fail("model copy", st, &err);
    rec_movie_rating mr[20];
    /* "add_user": the application gives the new member's id (as the demo
       site does); "add_user_new_id": REC_NEW_USER, the library picks it */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < S; i++) {
            random_ratings(mr, 20, movies, n_movies, &s);
            int32_t id = 0;
            int32_t want = pass ? REC_NEW_USER
                                : users[n_users - 1] + 1 + (int32_t)i;
            double t0 = bench_now();
            st = rec_add_user(&id, copy, want, mr, 20, &err);
            us[i] = 1e6 * (bench_now() - t0);
            if (st != REC_OK)
                return fail("add_user", st, &err);
        }
        print_lat(pass ? "add_user_new_id" : "add_user", us, S);
    }
    rec_model_free(copy);

    for (size_t i = 0; i < S; i++) {
        random_ratings(mr, 20, movies, n_movies, &s);
        double t0 = bench_now();
        st = rec_recommend_for_ratings(top, 10, &got, m, mr, 20, &err);
        us[i] = 1e6 * (bench_now() - t0);
        if (st != REC_OK)
            return fail("recommend_for_ratings", st, &err);
    }
    print_lat("for_ratings", us, S);

    int nt = o.threads;
#ifdef _OPENMP
    if (nt <= 0)
        nt = omp_get_max_threads();
#else
    nt = 1;
#endif
    long failures = 0;
    double c0 = bench_cpu_seconds(), t0 = bench_now();
#pragma omp parallel for schedule(dynamic, 64) num_threads(nt) reduction(+ : failures)
    for (size_t i = 0; i < n_users; i++) {
        rec_scored out[10];
        size_t k = 0;
        failures += rec_top_n(out, 10, &k, m, users[i], NULL) != REC_OK;
    }
    double all_s = bench_now() - t0, all_cpu = bench_cpu_seconds() - c0;
    printf("\"recommend_all_threads\": %d, \"recommend_all_s\": %.4f, "
           "\"recommend_all_cpu_s\": %.4f, "
           "\"recommend_all_users_per_s\": %.1f, \"recommend_all_failures\": "
           "%ld, \"hwm_mib\": %.1f}\n",
           nt, all_s, all_cpu, (double)n_users / all_s, failures,
           bench_status_mib("VmHWM"));
    rec_model_free(m);
    free(users), free(movies), free(load_s), free(save_s), free(us);
    return failures != 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "check"))
        return cmd_check(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "load"))
        return cmd_load(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "train"))
        return cmd_train(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "serve"))
        return cmd_serve(argc - 2, argv + 2);
    fputs("usage: bench_als check|load|train|serve ... (see bench_als.c)\n",
          stderr);
    return 2;
}
