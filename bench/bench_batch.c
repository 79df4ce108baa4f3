/*
 * bench_batch - the batch path (issue 14) through the public API; one JSON
 * object on stdout (bench/compare_baseline.py drives it).
 *
 *   bench_batch recommend-all MODEL [--n N] [--threads T]
 *       load the model, then the top N (default 10) of every user by
 *       rec_top_n_each (the callback only reads the results): seconds,
 *       CPU seconds, the resident memory after loading and the peak
 *       resident memory during the ranking (VmHWM reset after loading), so
 *       the ranking's own memory shows beside the model's
 */
#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct sink {
    size_t users, entries;
    double sum; /* of the scores: the results are read */
} sink;

static int consume(void *ud, const int32_t *users, size_t nu,
                   const rec_scored *top, const size_t *n_out, size_t n)
{
    (void)users;
    sink *s = ud;
    for (size_t i = 0; i < nu; i++)
        for (size_t r = 0; r < n_out[i]; r++) {
            s->sum += top[i * n + r].score;
            s->entries++;
        }
    s->users += nu;
    return 0;
}

static int recommend_all(int argc, char **argv)
{
    if (argc < 1) {
        fputs("usage: bench_batch recommend-all MODEL [--n N] "
              "[--threads T]\n", stderr);
        return 2;
    }
    const char *path = argv[0];
    size_t n = 10;
    int threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--n"))
            n = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "bench_batch: bad option %s\n", argv[i]);
            return 2;
        }
    }
#ifdef _OPENMP
    if (threads > 0)
        omp_set_num_threads(threads);
    threads = omp_get_max_threads();
#endif
    rec_error err = {0};
    rec_model *m = NULL;
    double t0 = bench_now();
    rec_status st = rec_model_load(&m, path, &err);
    double load_s = bench_now() - t0;
    if (st != REC_OK) {
        fprintf(stderr, "bench_batch: %s: %s\n", path, err.msg);
        return 1;
    }
    double rss_model = bench_status_mib("VmRSS");
    double hwm_load = bench_status_mib("VmHWM");
    int reset = bench_reset_hwm() == 0;
    sink s = {0};
    double c0 = bench_cpu_seconds();
    t0 = bench_now();
    st = rec_top_n_each(m, NULL, 0, n, NULL, consume, &s, &err);
    double all_s = bench_now() - t0, all_cpu = bench_cpu_seconds() - c0;
    if (st != REC_OK) {
        fprintf(stderr, "bench_batch: rec_top_n_each: %s\n", err.msg);
        return 1;
    }
    double hwm = bench_status_mib("VmHWM");
    printf("{\"cmd\": \"recommend-all\", \"model\": \"%s\", \"rank\": %d, "
           "\"n\": %zu, \"threads\": %d, \"users\": %zu, \"entries\": %zu, "
           "\"score_sum\": %.6g, \"model_load_s\": %.4f, "
           "\"recommend_all_s\": %.4f, \"recommend_all_cpu_s\": %.4f, "
           "\"rss_model_mib\": %.1f, \"hwm_load_mib\": %.1f, "
           "\"hwm_ranking_mib\": %.1f, \"hwm_reset\": %s}\n",
           path, rec_model_rank(m), n, threads, s.users, s.entries, s.sum,
           load_s, all_s, all_cpu, rss_model, hwm_load, hwm,
           reset ? "true" : "false");
    rec_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "recommend-all"))
        return recommend_all(argc - 2, argv + 2);
    fputs("usage: bench_batch recommend-all MODEL [--n N] [--threads T]\n",
          stderr);
    return 2;
}
