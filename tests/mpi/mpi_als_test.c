/*
 * mpi_als_test.c - distributed ALS against single-machine ALS, run under
 * `mpirun -np N` (N = 1, 2, 3 in CTest). Every rank runs every case; the
 * root compares. Exit status 0 on every rank only if every check passed.
 *
 *   mpi_als_test DATA_DIR SMALL_FIXTURE_DIR TMP_DIR
 *
 * Cases: the model equals rec_train_als (the saved model file byte for
 * byte; factors, biases, mean, test RMSE) for the hybrid default, explicit-
 * only, with biases on and off, nonnegative, implicit (with and without
 * BM25), with the root on the last rank; the path entry point; checkpoint +
 * resume (bit-identical to an uninterrupted run, in either phase of a
 * hybrid); progress counts both phases; errors returned on every rank alike
 * (bad parameter, missing data, foreign or corrupt checkpoint, cancel in
 * either phase) - a hang here is a failure CTest's timeout catches.
 */
#include "movieme.h"
#include "movieme_mpi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rank, size, failures;
static const char *tmpdir;

#define CHECK(cond, ...)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            failures++;                                                      \
            fprintf(stderr, "rank %d: FAIL %s:%d: ", rank, __FILE__,         \
                    __LINE__);                                               \
            fprintf(stderr, __VA_ARGS__);                                    \
            fputc('\n', stderr);                                             \
        }                                                                    \
    } while (0)

/* Largest difference between two models' factors and biases. */
static double model_diff(const rec_model *a, const rec_model *b,
                         const rec_ratings *r)
{
    int k = rec_model_rank(a);
    if (k != rec_model_rank(b) ||
        rec_model_n_users(a) != rec_model_n_users(b) ||
        rec_model_n_movies(a) != rec_model_n_movies(b))
        return INFINITY;
    float *fa = malloc((size_t)k * sizeof *fa), *fb = malloc((size_t)k * sizeof *fb);
    double worst = fabs((double)rec_model_global_mean(a) -
                        (double)rec_model_global_mean(b));
    size_t nu = 0;
    rec_rating one;
    /* users: every id of the dataset (the model keeps the same ids) */
    for (size_t i = 0; i < rec_ratings_n_movies(r); i++) {
        rec_movie_info mi;
        if (rec_ratings_movie_at(&mi, r, i, NULL) != REC_OK)
            continue;
        float ba, bb;
        if (rec_model_movie_factors(fa, (size_t)k, &ba, a, mi.movie_id,
                                    NULL) != REC_OK ||
            rec_model_movie_factors(fb, (size_t)k, &bb, b, mi.movie_id,
                                    NULL) != REC_OK)
            continue;
        worst = fmax(worst, fabs((double)ba - bb));
        for (int j = 0; j < k; j++)
            worst = fmax(worst, fabs((double)fa[j] - fb[j]));
    }
    for (int32_t id = 0; nu < rec_ratings_n_users(r) && id < 1000000; id++) {
        size_t n = 0;
        if (rec_ratings_user(&one, 1, &n, r, id, NULL) != REC_OK)
            continue;
        nu++;
        float ba, bb;
        if (rec_model_user_factors(fa, (size_t)k, &ba, a, id, NULL) !=
                REC_OK ||
            rec_model_user_factors(fb, (size_t)k, &bb, b, id, NULL) != REC_OK) {
            worst = INFINITY;
            break;
        }
        worst = fmax(worst, fabs((double)ba - bb));
        for (int j = 0; j < k; j++)
            worst = fmax(worst, fabs((double)fa[j] - fb[j]));
    }
    free(fa);
    free(fb);
    return worst;
}

/* Whether two models save to the same bytes (the whole model: both parts
   of a hybrid, weighting, counts). */
static int same_file(const rec_model *a, const rec_model *b, const char *name)
{
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/mpi_als_test.np%d.a.bin", tmpdir, size);
    snprintf(pb, sizeof pb, "%s/mpi_als_test.np%d.b.bin", tmpdir, size);
    rec_error e = {0};
    if (rec_model_save(a, pa, &e) != REC_OK ||
        rec_model_save(b, pb, &e) != REC_OK) {
        CHECK(0, "%s: save: %s", name, e.msg);
        return 0;
    }
    FILE *fa = fopen(pa, "rb"), *fb = fopen(pb, "rb");
    int same = fa && fb, ca, cb;
    long n = 0;
    while (same) {
        ca = fgetc(fa);
        cb = fgetc(fb);
        same = ca == cb;
        if (ca == EOF || cb == EOF)
            break;
        n++;
    }
    if (fa)
        fclose(fa);
    if (fb)
        fclose(fb);
    remove(pa);
    remove(pb);
    if (!same)
        fprintf(stderr, "%s: model files differ at byte %ld\n", name, n);
    return same;
}

static double test_rmse(const rec_model *m, const rec_ratings *test)
{
    rec_eval_result ev;
    return rec_evaluate(&ev, m, test, 10, 4.0f, NULL) == REC_OK ? ev.rmse
                                                                 : NAN;
}

/* Train both ways; on the root compare. */
static void compare(const char *name, const rec_ratings *train,
                    const rec_ratings *test, const rec_als_params *p,
                    int root)
{
    rec_mpi_options o;
    rec_mpi_options_init(&o);
    o.root = root;
    rec_model *dm = NULL;
    rec_error e = {0};
    rec_status st = rec_train_als_mpi_ratings(
        &dm, MPI_COMM_WORLD, rank == root ? train : NULL, p, &o, &e);
    CHECK(st == REC_OK, "%s: distributed: %s", name, e.msg);
    if (rank != root) {
        CHECK(dm == NULL, "%s: a model on a non-root rank", name);
        rec_model_free(dm);
        return;
    }
    rec_model *sm = NULL;
    st = rec_train_als(&sm, train, p, &e);
    CHECK(st == REC_OK, "%s: single: %s", name, e.msg);
    if (dm && sm) {
        double d = model_diff(dm, sm, train);
        double r1 = test_rmse(dm, test), r2 = test_rmse(sm, test);
        printf("%s (np %d, root %d): max factor difference %g, test RMSE "
               "%.6f vs %.6f\n",
               name, size, root, d, r1, r2);
        CHECK(d <= 1e-5, "%s: factors differ by %g", name, d);
        CHECK(rec_model_hybrid(dm) == rec_model_hybrid(sm),
              "%s: hybrid %d vs %d", name, rec_model_hybrid(dm),
              rec_model_hybrid(sm));
        /* the automatic preference lambda comes from global statistics */
        CHECK(rec_model_preference_reg(dm) == rec_model_preference_reg(sm),
              "%s: preference_reg %g vs %g", name,
              rec_model_preference_reg(dm), rec_model_preference_reg(sm));
        CHECK(same_file(dm, sm, name), "%s: model files differ", name);
        CHECK(fabs(r1 - r2) <= 1e-4, "%s: test RMSE %.6f vs %.6f", name, r1,
              r2);
    }
    rec_model_free(dm);
    rec_model_free(sm);
}

static int cancel_at_2(void *ud, const rec_progress *pr)
{
    (void)ud;
    return pr->iteration >= 2;
}

/* Progress seen on the root: cancels at iteration `at` (0: never). */
typedef struct seen {
    int at, calls, last, total, in_order;
} seen;

static int watch(void *ud, const rec_progress *pr)
{
    seen *s = ud;
    s->calls++;
    s->in_order &= pr->iteration == s->last + 1 || s->calls == 1;
    s->last = pr->iteration;
    s->total = pr->iterations;
    return s->at && pr->iteration >= s->at;
}

/* A call that must fail with `want` on every rank. */
static void expect_all(const char *name, rec_status got, rec_status want,
                       const rec_error *e, const rec_model *m)
{
    CHECK(got == want, "%s: status %d (%s), want %d", name, got, e->msg,
          want);
    CHECK(m == NULL, "%s: a model despite the error", name);
    if (rank == 0)
        printf("%s: every rank got %s (\"%s\")\n", name, rec_strerror(got),
               e->msg);
}

static void checkpoints(const rec_ratings *train, int implicit)
{
    char ck[512];
    snprintf(ck, sizeof ck, "%s/mpi_als_test.np%d.ckpt", tmpdir, size);
    if (rank == 0)
        remove(ck);
    MPI_Barrier(MPI_COMM_WORLD);
    rec_als_params p;
    rec_als_params_init(&p);
    p.preference = 0; /* the hybrid one: hybrid_checkpoints */
    p.rank = 8;
    p.iterations = 4;
    p.implicit = implicit;
    rec_mpi_options o;
    rec_mpi_options_init(&o);
    o.checkpoint = ck;
    o.checkpoint_every = 3;
    rec_error e = {0};
    rec_model *m4 = NULL, *m7 = NULL, *again = NULL, *ref = NULL;
    const rec_ratings *mine = rank == 0 ? train : NULL;
    /* 4 iterations, checkpoints after 3 and 4 */
    CHECK(rec_train_als_mpi_ratings(&m4, MPI_COMM_WORLD, mine, &p, &o, &e) ==
              REC_OK, "checkpointed run: %s", e.msg);
    CHECK(rank != 0 || access(ck, F_OK) == 0, "no checkpoint written");
    /* resume from iteration 4 to 7 == 7 uninterrupted iterations */
    o.resume = 1;
    p.iterations = 7;
    o.checkpoint_every = 100; /* only after the last one */
    CHECK(rec_train_als_mpi_ratings(&m7, MPI_COMM_WORLD, mine, &p, &o, &e) ==
              REC_OK, "resumed run: %s", e.msg);
    /* resume from 7 of 7: nothing left to do, the same model */
    CHECK(rec_train_als_mpi_ratings(&again, MPI_COMM_WORLD, mine, &p, &o,
                                    &e) == REC_OK,
          "resume of a finished run: %s", e.msg);
    if (rank == 0) {
        CHECK(rec_train_als(&ref, train, &p, &e) == REC_OK, "ref: %s", e.msg);
        double d1 = m7 && ref ? model_diff(m7, ref, train) : INFINITY;
        double d2 = again && ref ? model_diff(again, ref, train) : INFINITY;
        printf("%s: checkpoint after 4, resume to 7 (np %d): difference %g "
               "to uninterrupted, %g when resuming a finished run\n",
               implicit ? "implicit" : "explicit", size, d1, d2);
        CHECK(d1 == 0.0, "resumed model differs by %g", d1);
        CHECK(d2 == 0.0, "finished-run resume differs by %g", d2);
    }
    rec_model_free(m4);
    rec_model_free(m7);
    rec_model_free(again);
    rec_model_free(ref);
    if (implicit) {
        if (rank == 0)
            remove(ck);
        return;
    }

    /* a checkpoint of other parameters is refused on every rank */
    rec_model *m = NULL;
    p.seed = 7;
    rec_status st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine, &p,
                                              &o, &e);
    expect_all("foreign checkpoint", st, REC_EINVAL, &e, m);
    rec_model_free(m);
    p.seed = 42;
    /* a corrupt one too */
    if (rank == 0) {
        FILE *f = fopen(ck, "r+b");
        if (f) {
            fseek(f, 200, SEEK_SET);
            fputc(0x5a, f);
            fclose(f);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    m = NULL;
    st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine, &p, &o, &e);
    expect_all("corrupt checkpoint", st, REC_EFORMAT, &e, m);
    rec_model_free(m);
    /* an unwritable checkpoint path fails every rank */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no-such-dir/ck", tmpdir);
    o.checkpoint = bad;
    o.resume = 0;
    o.checkpoint_every = 1;
    m = NULL;
    st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine, &p, &o, &e);
    expect_all("unwritable checkpoint", st, REC_EIO, &e, m);
    rec_model_free(m);
    if (rank == 0)
        remove(ck);
}

/* Hybrid: a run cancelled in either phase, resumed from its checkpoint,
   gives the model of an uninterrupted run (the same file); progress counts
   rating then preference iterations; a checkpoint of the preference phase
   is refused when the rating iterations change. */
static void hybrid_checkpoints(const rec_ratings *train)
{
    char ck[512];
    snprintf(ck, sizeof ck, "%s/mpi_als_test.np%d.hybrid.ckpt", tmpdir, size);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 8;
    p.preference_rank = 12;
    p.iterations = 4;
    p.preference_iterations = 3;
    rec_mpi_options o;
    rec_mpi_options_init(&o);
    o.checkpoint = ck;
    o.checkpoint_every = 1;
    o.resume = 1;
    rec_error e = {0};
    const rec_ratings *mine = rank == 0 ? train : NULL;
    rec_model *ref = NULL;
    if (rank == 0)
        CHECK(rec_train_als(&ref, train, &p, &e) == REC_OK, "ref: %s", e.msg);
    /* cancel at 3 (rating phase) and at 6 (preference iteration 2) */
    int cancel_at[2] = {3, 6};
    for (int c = 0; c < 2; c++) {
        if (rank == 0)
            remove(ck);
        MPI_Barrier(MPI_COMM_WORLD);
        seen sn = {.at = cancel_at[c], .in_order = 1};
        p.progress = watch;
        p.progress_userdata = &sn;
        rec_model *m = NULL;
        rec_status st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine,
                                                  &p, &o, &e);
        CHECK(st == REC_ECANCELED && m == NULL,
              "hybrid cancel at %d: status %d (%s), model %p", cancel_at[c],
              st, e.msg, (void *)m);
        rec_model_free(m);
        /* resume to the end, watching the progress */
        seen all = {.in_order = 1};
        p.progress_userdata = &all;
        m = NULL;
        st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine, &p, &o, &e);
        CHECK(st == REC_OK, "hybrid resume after %d: %s", cancel_at[c],
              e.msg);
        if (rank == 0) {
            CHECK(all.total == 7 && all.last == 7 && all.in_order &&
                      all.calls == 7 - (cancel_at[c] - 1),
                  "hybrid resume after %d: progress %d calls, last %d of %d",
                  cancel_at[c], all.calls, all.last, all.total);
            int same = m && ref && same_file(m, ref, "hybrid resume");
            printf("hybrid: cancelled at iteration %d of 7, resumed from the "
                   "checkpoint (np %d): %s\n", cancel_at[c], size,
                   same ? "the same model file" : "DIFFERENT");
            CHECK(same, "hybrid resume after %d: model differs",
                  cancel_at[c]);
        }
        rec_model_free(m);
    }
    /* the checkpoint is after preference iteration 3 of 4 rating ones */
    p.progress = NULL;
    p.iterations = 5;
    rec_model *m = NULL;
    rec_status st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine, &p,
                                              &o, &e);
    expect_all("preference checkpoint, other rating iterations", st,
               REC_EINVAL, &e, m);
    rec_model_free(m);
    rec_model_free(ref);
    if (rank == 0)
        remove(ck);
}

static void errors(const rec_ratings *train, const char *data)
{
    rec_als_params p;
    rec_als_params_init(&p);
    rec_error e = {0};
    rec_model *m = NULL;
    const rec_ratings *mine = rank == 0 ? train : NULL;

    p.rank = 0; /* rejected on the root, returned everywhere */
    rec_status st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine, &p,
                                              NULL, &e);
    expect_all("rank 0 parameter", st, REC_EINVAL, &e, m);

    rec_als_params_init(&p);
    st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, NULL, &p, NULL, &e);
    expect_all("no dataset on the root", st, REC_EINVAL, &e, m);

    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such-data", data);
    st = rec_train_als_mpi(&m, MPI_COMM_WORLD, missing, &p, NULL, &e);
    expect_all("missing data", st, REC_ENOTFOUND, &e, m);

    rec_mpi_options o;
    rec_mpi_options_init(&o);
    o.root = size; /* out of range on every rank */
    st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine, &p, &o, &e);
    expect_all("root out of range", st, REC_EINVAL, &e, m);

    rec_als_params_init(&p);
    p.implicit = 1;
    p.alpha = 0.0; /* implicit parameters are checked on the root too */
    st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine, &p, NULL, &e);
    expect_all("implicit alpha 0", st, REC_EINVAL, &e, m);

    rec_als_params_init(&p);
    p.preference = 0;
    p.rank = 4;
    p.iterations = 5;
    p.progress = cancel_at_2; /* called on the root only */
    st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine, &p, NULL, &e);
    expect_all("cancel", st, REC_ECANCELED, &e, m);
    /* the hybrid default: in its preference phase (iteration 2 of 2 + 2) */
    rec_als_params_init(&p);
    p.rank = 4;
    p.iterations = 1;
    p.preference_iterations = 2;
    p.progress = cancel_at_2;
    st = rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, mine, &p, NULL, &e);
    expect_all("cancel in the preference phase", st, REC_ECANCELED, &e, m);
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc != 4) {
        if (rank == 0)
            fprintf(stderr, "usage: mpi_als_test DATA FIXTURE TMPDIR\n");
        MPI_Finalize();
        return 2;
    }
    tmpdir = argv[3];
    rec_ratings *all = NULL, *train = NULL, *test = NULL;
    rec_error e = {0};
    /* every rank loads here only to have the test split; the library never
       reads the non-root copies */
    if (rec_load_movielens(&all, argv[1], &e) != REC_OK ||
        rec_ratings_split(&train, &test, all, 0.1, 42, &e) != REC_OK) {
        fprintf(stderr, "rank %d: %s\n", rank, e.msg);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }

    rec_als_params p;
    rec_als_params_init(&p);
    compare("defaults (hybrid, rank 32, 10 + 10 iterations, BM25)", train,
            test, &p, 0);
    p.preference = 0;
    compare("explicit-only (rank 32, 10 iterations, biases)", train, test,
            &p, 0);
    p.preference = 1;
    p.rank = 12;
    p.iterations = 6;
    p.biases = 0;
    p.preference_rank = 20;
    p.preference_iterations = 3;
    p.preference_weighting = REC_WEIGHT_NONE;
    p.solver = REC_SOLVER_CHOLESKY;
    compare("hybrid: no biases, preference rank 20, 3 iterations, "
            "unweighted, Cholesky", train, test, &p, size - 1);
    rec_als_params_init(&p);
    p.rank = 12;
    p.iterations = 6;
    p.preference = 0;
    p.nonnegative = 1;
    p.n_threads = 1;
    compare("explicit-only, nonnegative, 1 thread, root = last rank", train,
            test, &p, size - 1);
    /* implicit feedback: CG (default) and Cholesky */
    rec_als_params_init(&p);
    p.implicit = 1;
    p.rank = 16;
    p.iterations = 5;
    compare("implicit, CG", train, test, &p, 0);
    p.solver = REC_SOLVER_CHOLESKY;
    p.implicit_min_rating = 3.0f;
    p.implicit_weight_by_value = 1;
    p.reg = 0.5;
    compare("implicit, Cholesky, min rating 3, weighted", train, test, &p,
            size - 1);
    p.implicit_weighting = REC_WEIGHT_BM25;
    compare("implicit, Cholesky, min rating 3, BM25", train, test, &p, 0);
    rec_als_params_init(&p);
    p.implicit = 1;
    p.rank = 16;
    p.iterations = 5;
    p.implicit_weighting = REC_WEIGHT_BM25;
    compare("implicit, CG, BM25", train, test, &p, size - 1);

    /* the path entry point, on a small fixture */
    {
        rec_als_params_init(&p);
        p.rank = 8;
        rec_model *dm = NULL, *sm = NULL;
        rec_ratings *fx = NULL;
        CHECK(rec_train_als_mpi(&dm, MPI_COMM_WORLD, argv[2], &p, NULL, &e) ==
                  REC_OK, "rec_train_als_mpi: %s", e.msg);
        if (rank == 0 && rec_load_movielens(&fx, argv[2], &e) == REC_OK &&
            rec_train_als(&sm, fx, &p, &e) == REC_OK) {
            double d = dm ? model_diff(dm, sm, fx) : INFINITY;
            printf("rec_train_als_mpi(%s): difference %g\n", argv[2], d);
            CHECK(d <= 1e-5, "path entry point: difference %g", d);
            CHECK(dm && same_file(dm, sm, "path entry point"),
                  "path entry point: model files differ");
        }
        CHECK(rank == 0 || dm == NULL, "a model on a non-root rank");
        rec_model_free(dm);
        rec_model_free(sm);
        rec_ratings_free(fx);
    }

    checkpoints(train, 0);
    checkpoints(train, 1);
    hybrid_checkpoints(train);
    errors(train, argv[1]);

    int total = 0;
    MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        printf("%s: %d failure(s) over %d rank(s)\n",
               total ? "FAILED" : "PASSED", total, size);
    rec_ratings_free(all);
    rec_ratings_free(train);
    rec_ratings_free(test);
    MPI_Finalize();
    return total ? 1 : 0;
}
