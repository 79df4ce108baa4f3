/*
 * cli_mpi.h - `movieme train --mpi`: the MPI side of the command (built only
 * with MOVIEME_WITH_MPI). Rank 0 runs the ordinary train command (load,
 * split, evaluate, save, print); the other ranks only join the training.
 */
#ifndef MOVIEME_CLI_MPI_H
#define MOVIEME_CLI_MPI_H

#include "cli.h"
#include "movieme.h"

/* The train options this adds (before OPT_JSON in train_opts). */
#define CLI_MPI_OPTS                                                         \
    {"--mpi", NULL, NULL,                                                    \
     "distributed training: run under mpirun -np N (docs/distributed.md)",   \
     false},                                                                 \
    {"--checkpoint", NULL, "FILE",                                           \
     "with --mpi: write a checkpoint to FILE every few iterations", false},  \
    {"--checkpoint-every", NULL, "N",                                        \
     "with --checkpoint: iterations between checkpoints (default 5)",        \
     false},                                                                 \
    {"--resume", NULL, NULL,                                                 \
     "with --checkpoint: start from FILE when it exists", false},            \
    {"--mpi-timeout", NULL, "S",                                             \
     "with --mpi: fail when the other ranks do not answer within S seconds " \
     "(a hung rank; default 0 = wait forever)", false}

/* Returned by cli_mpi_begin when --mpi is absent. */
#define CLI_MPI_OFF (-1)

/* Parse the MPI options and, with --mpi, initialise MPI. Returns
   CLI_MPI_OFF, EXIT_OK (*rank set), or an exit code after an error. */
int cli_mpi_begin(int *rank, const cli_cmd *cmd, const cli_args *a);
/* Rank != 0: join the training started by rank 0 (no output), with the
   --threads of the command line. Always joins, even when rank 0 fails. */
int cli_mpi_worker(const cli_args *a);
/* Train: distributed after cli_mpi_begin, else rec_train_als. */
rec_status cli_mpi_train(rec_model **out, const rec_ratings *r,
                         const rec_als_params *p, rec_error *e);
/* Number of ranks (1 without --mpi). */
int cli_mpi_ranks(void);
/* Finish MPI: release the other ranks if rank 0 failed before training,
   MPI_Abort after an MPI failure, else MPI_Finalize. Returns rc. */
int cli_mpi_end(int rc);

#endif
