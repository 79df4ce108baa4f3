/*
 * check_concurrency.c - the thread-safety rules of movieme.h, demonstrated
 * under load (and run under ThreadSanitizer by scripts/test-sanitizers.sh):
 *
 *  - const calls (rec_top_n, rec_predict, rec_similar_movies,
 *    rec_recommend_for_ratings, metadata, rec_evaluate) run concurrently on
 *    one model, while another thread trains a new model and swaps it in
 *    under a mutex, the way a server retrains. Readers take the current
 *    model under the lock with a reference count and compute without it.
 *    Every result must equal the single-threaded reference for the model it
 *    came from (training is deterministic for a seed and thread count).
 *  - a cancelled training (progress callback) returns REC_ECANCELED and
 *    leaves the served model untouched.
 *  - rec_add_user / rec_remove_user on a rec_model_copy() (copy-on-write)
 *    while readers use the original: the original never changes.
 *  - rec_add_user and rec_remove_user on the shared model itself need
 *    exclusive access: done here under the write side of a rwlock, readers
 *    on the read side.
 *  - two trainings on one const rec_ratings at once, from two threads,
 *    give bit-identical models.
 *
 * Worker threads never call ck_assert (Check is not thread-safe): they
 * record the first failure, and the main thread asserts after the join.
 */
#include "test_util.h"

#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_READERS 4
#define N_USERS_CHECKED 12
#define TOP 10
#define TRAIN_THREADS 2

/* ---- failure recording from worker threads ---------------------------- */

static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int n_failures;
static char first_failure[512];

static void failf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
static void failf(const char *fmt, ...)
{
    pthread_mutex_lock(&fail_lock);
    if (atomic_fetch_add(&n_failures, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(first_failure, sizeof first_failure, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&fail_lock);
}

static void reset_failures(void)
{
    atomic_store(&n_failures, 0);
    first_failure[0] = '\0';
}

#define ck_assert_no_thread_failures()                                       \
    ck_assert_msg(atomic_load(&n_failures) == 0, "%d failures, first: %s",  \
                  atomic_load(&n_failures), first_failure)

/* ---- fixtures ------------------------------------------------------------ */

static rec_ratings *data;           /* shared, const after setup */
static int32_t users[N_USERS_CHECKED];
static int32_t probe_movies[4];

static rec_als_params params_for(uint64_t seed)
{
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 8;
    p.iterations = 4;
    p.seed = seed;
    p.n_threads = TRAIN_THREADS;
    return p;
}

static rec_model *train(uint64_t seed)
{
    rec_error err;
    rec_als_params p = params_for(seed);
    rec_model *m = NULL;
    ck_assert_ok(rec_train_als(&m, data, &p, &err), &err);
    return m;
}

/* What a model answers, computed single-threaded: the reference. */
typedef struct answers {
    rec_scored top[N_USERS_CHECKED][TOP];
    size_t n_top[N_USERS_CHECKED];
    float pred[N_USERS_CHECKED][4];
    rec_scored sim[4][TOP];
    size_t n_sim[4];
    rec_scored fold[TOP];
    size_t n_fold;
} answers;

static const rec_movie_rating fold_ratings[3] = {{1, 5.0f}, {50, 4.0f},
                                                 {100, 1.0f}};

/* Compute the answers of `m`; 0 on success, else a failure was recorded. */
static int compute(answers *a, const rec_model *m)
{
    rec_error err;
    for (int u = 0; u < N_USERS_CHECKED; u++) {
        if (rec_top_n(a->top[u], TOP, &a->n_top[u], m, users[u], &err) != REC_OK) {
            failf("rec_top_n(user %d): %s", users[u], err.msg);
            return -1;
        }
        for (int j = 0; j < 4; j++)
            if (rec_predict(&a->pred[u][j], m, users[u], probe_movies[j],
                            &err) != REC_OK) {
                failf("rec_predict: %s", err.msg);
                return -1;
            }
    }
    for (int j = 0; j < 4; j++)
        if (rec_similar_movies(a->sim[j], TOP, &a->n_sim[j], m,
                               probe_movies[j], &err) != REC_OK) {
            failf("rec_similar_movies: %s", err.msg);
            return -1;
        }
    if (rec_recommend_for_ratings(a->fold, TOP, &a->n_fold, m, fold_ratings,
                                  3, &err) != REC_OK) {
        failf("rec_recommend_for_ratings: %s", err.msg);
        return -1;
    }
    return 0;
}

/* Byte-equal answers (bit-identical floats, same order). */
static int same(const answers *a, const answers *b)
{
    for (int u = 0; u < N_USERS_CHECKED; u++)
        if (a->n_top[u] != b->n_top[u] ||
            memcmp(a->top[u], b->top[u], a->n_top[u] * sizeof(rec_scored)) ||
            memcmp(a->pred[u], b->pred[u], sizeof a->pred[u]))
            return 0;
    for (int j = 0; j < 4; j++)
        if (a->n_sim[j] != b->n_sim[j] ||
            memcmp(a->sim[j], b->sim[j], a->n_sim[j] * sizeof(rec_scored)))
            return 0;
    return a->n_fold == b->n_fold &&
           memcmp(a->fold, b->fold, a->n_fold * sizeof(rec_scored)) == 0;
}

/* Sanity of answers on their own: sorted, finite, no rated movie. */
static void validate(const answers *a, const rec_model *m)
{
    for (int u = 0; u < N_USERS_CHECKED; u++) {
        if (a->n_top[u] == 0 || a->n_top[u] > TOP)
            failf("user %d: %zu results", users[u], a->n_top[u]);
        for (size_t i = 0; i < a->n_top[u]; i++) {
            const rec_scored *s = &a->top[u][i];
            if (!isfinite(s->score))
                failf("user %d: score not finite", users[u]);
            if (i > 0 && (s->score > s[-1].score ||
                          (s->score == s[-1].score && s->movie_id <= s[-1].movie_id)))
                failf("user %d: results out of order at %zu", users[u], i);
            rec_movie_info mi;
            rec_error err;
            if (rec_model_movie(&mi, m, s->movie_id, &err) != REC_OK)
                failf("user %d: unknown movie %d recommended", users[u],
                      s->movie_id);
        }
        for (int j = 0; j < 4; j++)
            if (!isfinite(a->pred[u][j]))
                failf("prediction not finite");
    }
    for (int j = 0; j < 4; j++)
        for (size_t i = 0; i < a->n_sim[j]; i++) {
            float c = a->sim[j][i].score;
            if (!(c >= -1.0001f && c <= 1.0001f) ||
                a->sim[j][i].movie_id == probe_movies[j])
                failf("similar to %d: bad entry %d %g", probe_movies[j],
                      a->sim[j][i].movie_id, (double)c);
        }
}

static void setup(void)
{
    rec_error err;
    ck_assert_ok(rec_load_movielens(&data, fixture("ml-100k-sample"), &err), &err);
    /* users with the most ratings, and some well-rated movies */
    size_t nu = rec_ratings_n_users(data);
    ck_assert_uint_ge(nu, N_USERS_CHECKED);
    int k = 0;
    for (int32_t id = 0; k < N_USERS_CHECKED && id < 2000; id++) {
        size_t n = 0;
        if (rec_ratings_user(NULL, 0, &n, data, id, &err) == REC_OK && n >= 5)
            users[k++] = id;
    }
    ck_assert_int_eq(k, N_USERS_CHECKED);
    rec_scored best[4];
    size_t n_best = 0;
    ck_assert_ok(rec_best_movies(best, 4, &n_best, data, 5, 10.0, NULL, &err), &err);
    ck_assert_uint_eq(n_best, 4);
    for (int j = 0; j < 4; j++)
        probe_movies[j] = best[j].movie_id;
    reset_failures();
}

static void teardown(void)
{
    rec_ratings_free(data);
    data = NULL;
}

/* ---- 1. readers + a retraining thread that swaps the model ------------ */

/* A served model with a reference count: readers pin it under the lock and
   compute without it; the last one out frees a retired model. */
typedef struct served {
    rec_model *m;
    int tag;        /* which reference answers it must give */
    int refs;
    int retired;
} served;

static pthread_mutex_t swap_lock = PTHREAD_MUTEX_INITIALIZER;
static served *current;
static atomic_int stop_readers;
static answers reference[2];
static atomic_long reader_calls;

static served *pin(void)
{
    pthread_mutex_lock(&swap_lock);
    served *s = current;
    s->refs++;
    pthread_mutex_unlock(&swap_lock);
    return s;
}

static void unpin(served *s)
{
    pthread_mutex_lock(&swap_lock);
    int last = --s->refs == 0 && s->retired;
    pthread_mutex_unlock(&swap_lock);
    if (last) {
        rec_model_free(s->m);
        free(s);
    }
}

static void publish(rec_model *m, int tag)
{
    served *s = calloc(1, sizeof *s);
    if (!s) {
        failf("out of memory");
        rec_model_free(m);
        return;
    }
    s->m = m;
    s->tag = tag;
    s->refs = 1; /* the "current" reference */
    pthread_mutex_lock(&swap_lock);
    served *old = current;
    current = s;
    pthread_mutex_unlock(&swap_lock);
    if (old) {
        pthread_mutex_lock(&swap_lock);
        old->retired = 1;
        pthread_mutex_unlock(&swap_lock);
        unpin(old);
    }
}

static void *reader_main(void *arg)
{
    (void)arg;
    answers *a = malloc(sizeof *a);
    if (!a) {
        failf("out of memory");
        return NULL;
    }
    while (!atomic_load(&stop_readers)) {
        served *s = pin();
        if (compute(a, s->m) == 0) {
            validate(a, s->m);
            if (!same(a, &reference[s->tag]))
                failf("answers of model %d differ from its reference", s->tag);
        }
        /* metadata strings stay valid while the model is pinned */
        rec_movie_info mi;
        rec_error err;
        if (rec_model_movie_at(&mi, s->m, 0, &err) != REC_OK ||
            strlen(mi.title) > 10000)
            failf("rec_model_movie_at: %s", err.msg);
        unpin(s);
        atomic_fetch_add(&reader_calls, 1);
    }
    free(a);
    return NULL;
}

static int cancel_at_2(void *userdata, const rec_progress *p)
{
    atomic_int *calls = userdata;
    atomic_fetch_add(calls, 1);
    return p->iteration >= 2;
}

static atomic_int n_swaps, n_cancelled;

static void *trainer_main(void *arg)
{
    int rounds = *(int *)arg;
    for (int i = 0; i < rounds; i++) {
        rec_error err;
        int tag = (i + 1) % 2;
        rec_als_params p = params_for(tag ? 7 : 3);
        rec_model *m = NULL;
        /* every third round is cancelled: the served model must not change */
        atomic_int cb_calls = 0;
        if (i % 3 == 2) {
            p.progress = cancel_at_2;
            p.progress_userdata = &cb_calls;
            rec_status st = rec_train_als(&m, data, &p, &err);
            if (st != REC_ECANCELED || m != NULL)
                failf("cancelled training: status %d, model %p", st, (void *)m);
            if (atomic_load(&cb_calls) != 2)
                failf("progress called %d times before cancel",
                      atomic_load(&cb_calls));
            atomic_fetch_add(&n_cancelled, 1);
            continue;
        }
        if (rec_train_als(&m, data, &p, &err) != REC_OK) {
            failf("rec_train_als: %s", err.msg);
            continue;
        }
        publish(m, tag);
        atomic_fetch_add(&n_swaps, 1);
    }
    return NULL;
}

START_TEST(test_readers_while_retraining)
{
    /* references, single-threaded: seed 3 -> tag 0, seed 7 -> tag 1 */
    rec_model *m0 = train(3), *m1 = train(7);
    ck_assert_int_eq(compute(&reference[0], m0), 0);
    ck_assert_int_eq(compute(&reference[1], m1), 0);
    ck_assert_msg(!same(&reference[0], &reference[1]),
                  "two seeds gave the same answers: the test would prove nothing");
    validate(&reference[0], m0);
    validate(&reference[1], m1);
    ck_assert_no_thread_failures();
    rec_model_free(m1);

    current = NULL;
    publish(m0, 0);
    atomic_store(&stop_readers, 0);
    atomic_store(&reader_calls, 0);
    atomic_store(&n_swaps, 0);
    atomic_store(&n_cancelled, 0);
    pthread_t readers[N_READERS], trainer;
    for (int i = 0; i < N_READERS; i++)
        ck_assert_int_eq(pthread_create(&readers[i], NULL, reader_main, NULL), 0);
    int rounds = 6;
    ck_assert_int_eq(pthread_create(&trainer, NULL, trainer_main, &rounds), 0);
    pthread_join(trainer, NULL);
    atomic_store(&stop_readers, 1);
    for (int i = 0; i < N_READERS; i++)
        pthread_join(readers[i], NULL);

    ck_assert_no_thread_failures();
    ck_assert_int_eq(atomic_load(&n_swaps), 4);
    ck_assert_int_eq(atomic_load(&n_cancelled), 2);
    ck_assert_int_ge(atomic_load(&reader_calls), N_READERS);
    fprintf(stderr, "readers_while_retraining: %ld reader rounds, %d swaps\n",
            atomic_load(&reader_calls), atomic_load(&n_swaps));
    /* the last model published is still served and still right */
    served *s = current;
    ck_assert_int_eq(s->refs, 1);
    answers *a = malloc(sizeof *a);
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(compute(a, s->m), 0);
    ck_assert(same(a, &reference[s->tag]));
    free(a);
    rec_model_free(s->m);
    free(s);
    current = NULL;
}
END_TEST

/* ---- 2. copy-on-write rec_add_user while readers use the original ------ */

static const rec_model *shared_model;

static void *const_reader_main(void *arg)
{
    const answers *ref = arg;
    answers *a = malloc(sizeof *a);
    if (!a) {
        failf("out of memory");
        return NULL;
    }
    while (!atomic_load(&stop_readers)) {
        if (compute(a, shared_model) == 0 && !same(a, ref))
            failf("the original model changed under its readers");
        atomic_fetch_add(&reader_calls, 1);
    }
    free(a);
    return NULL;
}

static void *cow_writer_main(void *arg)
{
    (void)arg;
    for (int round = 0; round < 8; round++) {
        rec_error err;
        rec_model *c = NULL;
        if (rec_model_copy(&c, shared_model, &err) != REC_OK) {
            failf("rec_model_copy: %s", err.msg);
            return NULL;
        }
        int32_t id = -1;
        rec_movie_rating mr[3] = {{probe_movies[round % 4], 5.0f},
                                  {probe_movies[(round + 1) % 4], 1.0f},
                                  {1, 4.0f}};
        if (rec_add_user(&id, c, REC_NEW_USER, mr, 3, &err) != REC_OK) {
            failf("rec_add_user: %s", err.msg);
        } else {
            rec_scored top[TOP];
            size_t n = 0;
            if (!rec_model_has_user(c, id) || rec_model_has_user(shared_model, id))
                failf("new user %d: in copy %d, in original %d", id,
                      rec_model_has_user(c, id), rec_model_has_user(shared_model, id));
            if (rec_top_n(top, TOP, &n, c, id, &err) != REC_OK || n == 0)
                failf("rec_top_n(new user): %s", err.msg);
            for (size_t i = 0; i < n; i++)
                for (int j = 0; j < 3; j++)
                    if (top[i].movie_id == mr[j].movie_id)
                        failf("new user recommended a movie they rated");
            /* re-rate a known user on the copy */
            if (rec_add_user(&id, c, users[0], mr, 1, &err) != REC_OK ||
                id != users[0])
                failf("rec_add_user(known user): %s", err.msg);
        }
        if (rec_model_n_users(c) != rec_model_n_users(shared_model) + 1)
            failf("copy has %zu users, original %zu", rec_model_n_users(c),
                  rec_model_n_users(shared_model));
        /* forget a trained user on the copy: the original keeps them */
        if (rec_remove_user(c, users[2], &err) != REC_OK)
            failf("rec_remove_user: %s", err.msg);
        if (rec_model_has_user(c, users[2]) ||
            !rec_model_has_user(shared_model, users[2]))
            failf("rec_remove_user on the copy reached the original");
        rec_model_free(c);
    }
    return NULL;
}

START_TEST(test_add_user_on_copy_while_reading)
{
    rec_model *m = train(3);
    shared_model = m;
    size_t users_before = rec_model_n_users(m);
    answers *ref = malloc(sizeof *ref);
    ck_assert_ptr_nonnull(ref);
    ck_assert_int_eq(compute(ref, m), 0);
    atomic_store(&stop_readers, 0);
    atomic_store(&reader_calls, 0);
    pthread_t readers[N_READERS], writer;
    for (int i = 0; i < N_READERS; i++)
        ck_assert_int_eq(pthread_create(&readers[i], NULL, const_reader_main, ref), 0);
    ck_assert_int_eq(pthread_create(&writer, NULL, cow_writer_main, NULL), 0);
    pthread_join(writer, NULL);
    atomic_store(&stop_readers, 1);
    for (int i = 0; i < N_READERS; i++)
        pthread_join(readers[i], NULL);
    ck_assert_no_thread_failures();
    ck_assert_uint_eq(rec_model_n_users(m), users_before);
    free(ref);
    rec_model_free(m);
}
END_TEST

/* ---- 3. rec_add_user on the shared model, under exclusive access ------- */

static pthread_rwlock_t model_rw = PTHREAD_RWLOCK_INITIALIZER;
/* glibc's rwlock prefers readers: with readers looping, a writer can starve.
   A turnstile mutex that the writer holds while it waits lets it in. */
static pthread_mutex_t turnstile = PTHREAD_MUTEX_INITIALIZER;
static rec_model *mutable_model;
static atomic_int added_users;
static int removed[20]; /* written under the write lock, read under read */

static void *locked_reader_main(void *arg)
{
    (void)arg;
    rec_scored top[TOP];
    while (!atomic_load(&stop_readers)) {
        pthread_mutex_lock(&turnstile);
        pthread_mutex_unlock(&turnstile);
        pthread_rwlock_rdlock(&model_rw);
        for (int u = 0; u < N_USERS_CHECKED; u++) {
            size_t n = 0;
            rec_error err;
            if (rec_top_n(top, TOP, &n, mutable_model, users[u], &err) != REC_OK ||
                n == 0)
                failf("rec_top_n under read lock: %s", err.msg);
            float p;
            if (rec_predict(&p, mutable_model, users[u], probe_movies[0], &err) !=
                    REC_OK || !isfinite(p))
                failf("rec_predict under read lock: %s", err.msg);
        }
        /* users added so far are served too */
        int k = atomic_load(&added_users);
        for (int i = 0; i < k; i++) {
            size_t n = 0;
            rec_error err;
            rec_status st = rec_top_n(top, TOP, &n, mutable_model, 100000 + i, &err);
            if (!removed[i] && st != REC_OK)
                failf("added user %d not served: %s", 100000 + i, err.msg);
            if (removed[i] && (st != REC_ENOTFOUND ||
                               rec_model_has_user(mutable_model, 100000 + i)))
                failf("removed user %d still served (%d)", 100000 + i, st);
        }
        pthread_rwlock_unlock(&model_rw);
        atomic_fetch_add(&reader_calls, 1);
    }
    return NULL;
}

START_TEST(test_add_user_exclusive_access)
{
    mutable_model = train(3);
    atomic_store(&stop_readers, 0);
    atomic_store(&added_users, 0);
    pthread_t readers[N_READERS];
    for (int i = 0; i < N_READERS; i++)
        ck_assert_int_eq(pthread_create(&readers[i], NULL, locked_reader_main, NULL), 0);
    for (int i = 0; i < 20; i++) {
        rec_movie_rating mr[2] = {{probe_movies[i % 4], 4.5f}, {1, 2.0f}};
        int32_t id = -1;
        rec_error err;
        pthread_mutex_lock(&turnstile);
        pthread_rwlock_wrlock(&model_rw); /* exclusive: no reader inside */
        pthread_mutex_unlock(&turnstile);
        rec_status st = rec_add_user(&id, mutable_model, 100000 + i, mr, 2, &err);
        pthread_rwlock_unlock(&model_rw);
        ck_assert_ok(st, &err);
        ck_assert_int_eq(id, 100000 + i);
        atomic_store(&added_users, i + 1);
        if (i % 3 == 2) { /* forget an earlier one, exclusively too */
            pthread_mutex_lock(&turnstile);
            pthread_rwlock_wrlock(&model_rw);
            pthread_mutex_unlock(&turnstile);
            st = rec_remove_user(mutable_model, 100000 + i - 1, &err);
            if (st == REC_OK)
                removed[i - 1] = 1;
            pthread_rwlock_unlock(&model_rw);
            ck_assert_ok(st, &err);
        }
    }
    atomic_store(&stop_readers, 1);
    for (int i = 0; i < N_READERS; i++)
        pthread_join(readers[i], NULL);
    ck_assert_no_thread_failures();
    rec_model_free(mutable_model);
    mutable_model = NULL;
}
END_TEST

/* ---- 4. concurrent trainings on one const dataset ---------------------- */

typedef struct train_job {
    uint64_t seed;
    rec_model *out;
    rec_status st;
    rec_error err;
} train_job;

static void *train_main(void *arg)
{
    train_job *j = arg;
    rec_als_params p = params_for(j->seed);
    j->st = rec_train_als(&j->out, data, &p, &j->err);
    return NULL;
}

static void *dataset_reader_main(void *arg)
{
    (void)arg;
    size_t nm = rec_ratings_n_movies(data);
    rec_movie_stats *ms = calloc(nm, sizeof *ms);
    if (!ms) {
        failf("out of memory");
        return NULL;
    }
    while (!atomic_load(&stop_readers)) {
        size_t n = 0;
        rec_error err;
        if (rec_ratings_count_avg(ms, nm, &n, data, &err) != REC_OK || n != nm)
            failf("rec_ratings_count_avg: %s", err.msg);
        rec_scored best[5];
        if (rec_best_movies(best, 5, &n, data, 5, 10.0, "Comedy", &err) != REC_OK)
            failf("rec_best_movies: %s", err.msg);
        rec_rating rows[64];
        if (rec_ratings_user(rows, 64, &n, data, users[1], &err) != REC_OK || n == 0)
            failf("rec_ratings_user: %s", err.msg);
        atomic_fetch_add(&reader_calls, 1);
    }
    free(ms);
    return NULL;
}

START_TEST(test_concurrent_trainings_are_deterministic)
{
    rec_model *ref = train(11);
    answers *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(compute(a, ref), 0);

    train_job jobs[2] = {{.seed = 11}, {.seed = 11}};
    pthread_t t[2], r;
    atomic_store(&stop_readers, 0);
    ck_assert_int_eq(pthread_create(&r, NULL, dataset_reader_main, NULL), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, train_main, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    atomic_store(&stop_readers, 1);
    pthread_join(r, NULL);
    ck_assert_no_thread_failures();
    for (int i = 0; i < 2; i++) {
        ck_assert_ok(jobs[i].st, &jobs[i].err);
        ck_assert_int_eq(compute(b, jobs[i].out), 0);
        ck_assert_msg(same(a, b), "training %d in parallel gave another model", i);
        /* the factors themselves, bit for bit */
        int k = rec_model_rank(ref);
        float fa[64], fb[64], ba, bb;
        for (int u = 0; u < N_USERS_CHECKED; u++) {
            rec_error err;
            ck_assert_ok(rec_model_user_factors(fa, 64, &ba, ref, users[u], &err), &err);
            ck_assert_ok(rec_model_user_factors(fb, 64, &bb, jobs[i].out, users[u], &err), &err);
            ck_assert(memcmp(fa, fb, (size_t)k * sizeof(float)) == 0 && ba == bb);
        }
        rec_model_free(jobs[i].out);
    }
    free(a);
    free(b);
    rec_model_free(ref);
}
END_TEST

/* ---- 5. concurrent evaluation and model files --------------------------- */

typedef struct eval_job {
    const rec_model *m;
    char path[4096]; /* made by the main thread: tmp_path is not thread-safe */
    rec_eval_result res;
    rec_status st;
    rec_error err;
    size_t loaded_users;
} eval_job;

static void *eval_main(void *arg)
{
    eval_job *j = arg;
    j->st = rec_evaluate(&j->res, j->m, data, 10, 4.0f, &j->err);
    /* saving one const model from several threads, to distinct files */
    if (j->st == REC_OK)
        j->st = rec_model_save(j->m, j->path, &j->err);
    if (j->st == REC_OK) {
        rec_model *back = NULL;
        j->st = rec_model_load(&back, j->path, &j->err);
        if (j->st == REC_OK)
            j->loaded_users = rec_model_n_users(back);
        rec_model_free(back);
    }
    return NULL;
}

START_TEST(test_concurrent_evaluate)
{
    rec_model *m = train(3);
    eval_job jobs[3];
    pthread_t t[3];
    rec_eval_result ref;
    rec_error err;
    ck_assert_ok(rec_evaluate(&ref, m, data, 10, 4.0f, &err), &err);
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "concurrent-%d.bin", i);
        jobs[i] = (eval_job){.m = m};
        snprintf(jobs[i].path, sizeof jobs[i].path, "%s", tmp_path(name));
    }
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, eval_main, &jobs[i]), 0);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        ck_assert_ok(jobs[i].st, &jobs[i].err);
        ck_assert(jobs[i].res.rmse == ref.rmse && jobs[i].res.mae == ref.mae);
        ck_assert(jobs[i].res.ndcg_at_k == ref.ndcg_at_k);
        ck_assert_uint_eq(jobs[i].res.n_predictions, ref.n_predictions);
        ck_assert_uint_eq(jobs[i].loaded_users, rec_model_n_users(m));
    }
    rec_model_free(m);
}
END_TEST

Suite *concurrency_suite(void)
{
    Suite *s = suite_create("concurrency");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_readers_while_retraining);
    tcase_add_test(tc, test_add_user_on_copy_while_reading);
    tcase_add_test(tc, test_add_user_exclusive_access);
    tcase_add_test(tc, test_concurrent_trainings_are_deterministic);
    tcase_add_test(tc, test_concurrent_evaluate);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(concurrency_suite()); }
