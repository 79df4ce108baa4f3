/* bench_common.h - helpers shared by the benchmark programs (not installed). */
#ifndef REC_BENCH_COMMON_H
#define REC_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "movieme.h"

/* Monotonic wall clock in seconds. */
double bench_now(void);
/* CPU seconds (user + system, all threads) used by this process so far. */
double bench_cpu_seconds(void);
/* A field of /proc/self/status in MiB ("VmHWM", "VmRSS"), or -1. */
double bench_status_mib(const char *key);
/* Reset VmHWM to the current RSS (Linux >= 4.0); 0 on success. */
int bench_reset_hwm(void);
/* Median of n values (sorts v in place); 0 for n == 0. */
double bench_median(double *v, size_t n);
/* The p-th percentile (0..100) of n sorted values. */
double bench_percentile_sorted(const double *v, size_t n, double p);

/*
 * The user ids of a dataset. The API has no enumeration of users, so the
 * ids are probed upwards from 0 with rec_ratings_user() until n_users are
 * found (MovieLens and the generator number users 1..n). Returns a malloc'd
 * array of rec_ratings_n_users(r) ids, or NULL if they cannot be found
 * within a reasonable range.
 */
int32_t *bench_user_ids(const rec_ratings *r, size_t *n_out);

/* The same for a model, with rec_model_has_user(). */
int32_t *bench_model_user_ids(const rec_model *m, size_t *n_out);

/* ---- reference ALS (ref_als.c) ---- */

/*
 * The unoptimised reference: plain explicit ALS with biases in double
 * precision, written from the objective alone (no blocking, no float, no
 * BLAS, one thread), to check that the optimised library path loses no
 * accuracy. Reads the training ratings through the public API only.
 * Returns the test RMSE (predictions clamped to the training rating range,
 * unknown users/movies fall back to the biases) or a negative value.
 */
double ref_als_test_rmse(const rec_ratings *train, const rec_ratings *test,
                         const rec_als_params *p, double *train_seconds);

#endif
