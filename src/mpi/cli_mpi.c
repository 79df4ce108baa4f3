/*
 * cli_mpi.c - `movieme train --mpi` (see cli_mpi.h). A program, not the
 * library: the state of the one MPI session lives in a static.
 */
#include "cli_mpi.h"

#include "movieme_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    bool on, trained, mpi_failed, quiet;
    int rank, size;
    rec_mpi_options opts;
} S;

int cli_mpi_begin(int *rank, const cli_cmd *cmd, const cli_args *a)
{
    const char *ck = cli_get(a, "--checkpoint");
    const char *every = cli_get(a, "--checkpoint-every");
    bool resume = cli_get(a, "--resume") != NULL;
    rec_mpi_options_init(&S.opts);
    if (!cli_get(a, "--mpi")) {
        if (ck || every || resume || cli_get(a, "--mpi-timeout")) {
            cli_usage_error(cmd, "--checkpoint, --checkpoint-every, --resume "
                            "and --mpi-timeout need --mpi");
            return EXIT_USAGE;
        }
        return CLI_MPI_OFF;
    }
    if ((every || resume) && !ck) {
        cli_usage_error(cmd, "--checkpoint-every and --resume need "
                        "--checkpoint FILE");
        return EXIT_USAGE;
    }
    long n = S.opts.checkpoint_every;
    if (every && !cli_long(&n, cmd, "--checkpoint-every", every, 1, 1000000))
        return EXIT_USAGE;
    const char *to = cli_get(a, "--mpi-timeout");
    if (to && !cli_double(&S.opts.timeout, cmd, "--mpi-timeout", to, 0, 1e9))
        return EXIT_USAGE;
    S.opts.checkpoint = ck && *ck ? ck : NULL;
    S.opts.checkpoint_every = (int)n;
    S.opts.resume = resume;
    S.quiet = cli_get(a, "--quiet") != NULL;
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) !=
        MPI_SUCCESS) {
        fprintf(stderr, "movieme %s: cannot initialise MPI\n", cmd->name);
        return EXIT_FAIL;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &S.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &S.size);
    S.on = true;
    *rank = S.rank;
    return EXIT_OK;
}

static bool is_mpi_failure(rec_status st, const rec_error *e)
{
    return st == REC_EIO && strncmp(e->msg, "MPI: ", 5) == 0;
}

int cli_mpi_worker(const cli_args *a)
{
    /* everything but the thread count comes from rank 0; a bad --threads
       is reported by rank 0 (same command line), here it falls back to 0 */
    rec_als_params p;
    rec_als_params_init(&p);
    const char *t = cli_get(a, "--threads");
    char *end = NULL;
    long v = t ? strtol(t, &end, 10) : 0;
    if (t && end && !*end && v >= 0 && v <= 4096)
        p.n_threads = (int)v;
    rec_model *m = NULL;
    rec_error e = {0};
    rec_status st =
        rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, NULL, &p, &S.opts, &e);
    S.trained = true;
    rec_model_free(m);
    if (is_mpi_failure(st, &e)) {
        /* rank 0 may be gone: say it here, since nobody else will */
        fprintf(stderr, "movieme train (rank %d): %s\n", S.rank, e.msg);
        S.mpi_failed = true;
    }
    return st == REC_OK ? EXIT_OK : EXIT_FAIL;
}

rec_status cli_mpi_train(rec_model **out, const rec_ratings *r,
                         const rec_als_params *p, rec_error *e)
{
    if (!S.on)
        return rec_train_als(out, r, p, e);
    if (!S.quiet && S.opts.checkpoint)
        fprintf(stderr, "checkpoint %s every %d iterations%s\n",
                S.opts.checkpoint, S.opts.checkpoint_every,
                S.opts.resume ? " (resuming when it exists)" : "");
    if (!S.quiet)
        fprintf(stderr, "distributed over %d MPI ranks\n", S.size);
    rec_status st =
        rec_train_als_mpi_ratings(out, MPI_COMM_WORLD, r, p, &S.opts, e);
    S.trained = true;
    S.mpi_failed = is_mpi_failure(st, e);
    return st;
}

int cli_mpi_ranks(void)
{
    return S.on ? S.size : 1;
}

int cli_mpi_end(int rc)
{
    if (!S.on)
        return rc;
    if (!S.trained && S.rank == 0) {
        /* rank 0 failed before training (bad data, usage): the others wait
           in the first collective; a NULL dataset releases them */
        rec_model *m = NULL;
        rec_train_als_mpi_ratings(&m, MPI_COMM_WORLD, NULL, NULL, &S.opts,
                                  NULL);
        rec_model_free(m);
    }
    if (S.mpi_failed)
        MPI_Abort(MPI_COMM_WORLD, rc ? rc : EXIT_FAIL);
    MPI_Finalize();
    return rc;
}
