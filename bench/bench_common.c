/* bench_common.c - timing, memory and id helpers for the benchmarks. */
#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double bench_cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

double bench_status_mib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    size_t kl = strlen(key);
    double v = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, key, kl) && line[kl] == ':') {
            v = strtod(line + kl + 1, NULL) / 1024.0; /* kB -> MiB */
            break;
        }
    }
    fclose(f);
    return v;
}

int bench_reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f)
        return -1;
    int rc = fputs("5", f) < 0;
    return fclose(f) != 0 || rc ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double bench_percentile_sorted(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

typedef int (*has_id_fn)(const void *h, int32_t id);

static int ratings_has(const void *h, int32_t id)
{
    size_t n = 0;
    rec_rating dummy;
    return rec_ratings_user(&dummy, 0, &n, (const rec_ratings *)h, id,
                            NULL) == REC_OK;
}

static int model_has(const void *h, int32_t id)
{
    return rec_model_has_user((const rec_model *)h, id);
}

static int32_t *probe_ids(const void *h, has_id_fn has, size_t want,
                          size_t *n_out)
{
    int32_t *ids = malloc(sizeof(int32_t) * (want ? want : 1));
    if (!ids)
        return NULL;
    size_t n = 0;
    int64_t limit = 16 * (int64_t)want + 1000000;
    for (int64_t id = 0; id < limit && n < want && id <= INT32_MAX; id++)
        if (has(h, (int32_t)id))
            ids[n++] = (int32_t)id;
    if (n < want) {
        free(ids);
        return NULL;
    }
    *n_out = n;
    return ids;
}

int32_t *bench_user_ids(const rec_ratings *r, size_t *n_out)
{
    return probe_ids(r, ratings_has, rec_ratings_n_users(r), n_out);
}

int32_t *bench_model_user_ids(const rec_model *m, size_t *n_out)
{
    return probe_ids(m, model_has, rec_model_n_users(m), n_out);
}
