/*
 * movieme_mpi.h - distributed ALS training on MPI (libmovieme built with
 * -DMOVIEME_WITH_MPI=ON). Include it after <mpi.h> is reachable (build with
 * mpicc, or with the include directories of CMake's MPI::MPI_C).
 *
 * The calls below are collective: every rank of `comm` calls the same one,
 * with the same parameters. The caller initialises MPI (MPI_Init_thread with
 * MPI_THREAD_FUNNELED is enough: only the calling thread talks to MPI, the
 * OpenMP workers never do) and finalises it.
 *
 * How it works (see docs/distributed.md): the root rank holds the dataset and
 * sends every rank its shard, a contiguous range of users (CSR rows) and a
 * contiguous range of movies (CSC columns), balanced by ratings. Each
 * half-iteration every rank solves its own rows with the kernels of
 * rec_train_als() and the updated rows are exchanged with MPI_Allgatherv, so
 * every rank holds all factors for the next half. The result is the model
 * rec_train_als() gives for the same data and parameters (bit-identical on
 * ranks with the same CPU features); the root gets it, the others get NULL.
 */
#ifndef MOVIEME_MPI_H
#define MOVIEME_MPI_H

#include "movieme.h"

#include <mpi.h>

#ifdef __cplusplus
extern "C" {
#endif

#define REC_MPI_OPTIONS_VERSION 1

/**
 * Options of distributed training. Fill with rec_mpi_options_init(); fields
 * are only ever added at the end. Significant on the root rank only (the
 * root broadcasts them), except `version`, `root` and `timeout`, which every
 * rank reads from its own.
 */
typedef struct rec_mpi_options {
    uint32_t version;       /**< REC_MPI_OPTIONS_VERSION */
    int root;               /**< rank holding the data, writing checkpoints
                                 and receiving the model (default 0) */
    const char *checkpoint; /**< checkpoint file, NULL for none (default) */
    int checkpoint_every;   /**< write it every N iterations (counted over
                                 both phases of a hybrid model) and after
                                 the last one of each phase (default 5) */
    int resume;             /**< non-zero: when `checkpoint` exists, start
                                 from it (it must come from the same data and
                                 parameters; `iterations` may be larger while
                                 it is of the rating phase, and
                                 `preference_iterations` while of the
                                 preference phase or of implicit mode) */
    double timeout;         /**< seconds any one exchange may wait for the
                                 other ranks before this rank fails with
                                 REC_EIO ("no answer"), 0 = wait forever
                                 (default). Each rank's own value. Set it
                                 well above one iteration's time. */
} rec_mpi_options;

/** Fill `o` with the defaults (including `version`). Since 0.1. */
REC_API void rec_mpi_options_init(rec_mpi_options *o);

/**
 * Train an ALS model across the ranks of `comm` from a dataset held by the
 * root rank: the model rec_train_als() gives for the same dataset and
 * parameters, bit for bit, whatever the number of ranks - the hybrid
 * default, explicit-only and implicit models, with or without BM25
 * weighting (since 0.2: the hybrid model and BM25 weighting).
 *
 * @param[out] out  on the root: the model, to free with rec_model_free();
 *                  on the other ranks: NULL
 * @param comm      the communicator (duplicated inside; not changed)
 * @param r         the dataset on the root rank; ignored (may be NULL)
 *                  elsewhere
 * @param params    as rec_train_als(); the root's values are used, except
 *                  n_threads (each rank's own) and the progress callback
 *                  (called on the root only, as by rec_train_als: rating
                  then preference iterations, one count; cancelling stops
                  every rank and no model is made)
 * @param opts      NULL for the defaults; see rec_mpi_options
 * @return the same status on every rank: REC_OK; REC_EINVAL (bad parameter,
 *         no dataset on the root, incompatible checkpoint), REC_ENOMEM,
 *         REC_ECANCELED, REC_EIO (checkpoint unreadable or unwritable;
 *         messages starting "MPI: ": an MPI call failed or timed out, e.g.
 *         a rank died or hangs: the ranks may then disagree and the caller
 *         should MPI_Abort),
 *         REC_EFORMAT (corrupt checkpoint).
 * A rank that dies makes the job fail (Open MPI's mpirun then stops every
 * rank); no model is ever produced from a partial exchange.
 * Thread-safe as far as MPI allows: one collective at a time per `comm`.
 * Since 0.1.
 */
REC_API rec_status rec_train_als_mpi_ratings(rec_model **out, MPI_Comm comm,
                                             const rec_ratings *r,
                                             const rec_als_params *params,
                                             const rec_mpi_options *opts,
                                             rec_error *err);

/**
 * As rec_train_als_mpi_ratings(), the root loading the dataset with
 * rec_load_movielens(path) first (`path` is significant on the root only).
 * A load error is returned on every rank. Since 0.1.
 */
REC_API rec_status rec_train_als_mpi(rec_model **out, MPI_Comm comm,
                                     const char *path,
                                     const rec_als_params *params,
                                     const rec_mpi_options *opts,
                                     rec_error *err);

#ifdef __cplusplus
}
#endif

#endif /* MOVIEME_MPI_H */
