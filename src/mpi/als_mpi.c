/*
 * als_mpi.c - distributed explicit ALS on MPI (built with MOVIEME_WITH_MPI).
 *
 * 1-D sharding, twice: the root holds the dataset and sends rank q a
 * contiguous range of users (their CSR rows) and a contiguous range of
 * movies (their CSC columns), the ranges balanced by ratings plus a per-row
 * share of the k^3/3 solve. The ratings never move again; only factors do.
 *
 * Every rank keeps all factors (users and movies, k floats + a bias per row).
 * A half-iteration is the single-machine one on the rank's own rows
 * (rec__als_half_step: the same OpenMP region, the same rec__solve_row),
 * followed by MPI_Allgatherv of the updated rows (in place, a row datatype
 * of k floats, so counts are rows and fit an int up to 2^31 rows), so every
 * rank sees the whole side for the next half.
 *
 * Exactness: the initial user factors (rec__init_factors, keyed by
 * (seed, row)), the global mean (rec__train_fill_model on the root) and every
 * row's solve are those of rec_train_als; a row's result depends only on the
 * other side's factors, so the model is bit-identical to the single-machine
 * one whatever the number of ranks (on ranks with the same CPU features:
 * the kernel picks AVX2/FMA at run time). Only the progress report's loss is
 * summed in another order (partial sums reduced over ranks).
 *
 * Implicit mode (params->implicit): the same scheme; each half-iteration is
 * rec__implicit_half_run on the rank's rows, whose Y^T Y every rank computes
 * from its full copy of the fixed side (no communication, the same bits);
 * no biases are exchanged, and a failed row fails every rank.
 *
 * The hybrid model (the default) trains in two phases on the same shards:
 * the explicit phase (rating factors and biases), then the implicit loop
 * again on the preference factors (rank pk). Its interaction values, like
 * those of implicit mode with BM25 weighting, are the weights of
 * rec__weigh_dataset, computed once on the root (which also keeps what the
 * model needs of them: n_users, avg_len, the per-movie counts) and shipped
 * with the shards in both orders, beside the ratings. Progress counts the
 * iterations of both phases as rec_train_als does.
 *
 * Checkpoints (root only): the phase, the iteration within it and the
 * factors and biases of both sides (and the preference factors of a hybrid
 * model) after a full iteration, so resuming gives exactly the
 * uninterrupted result.
 * Native byte order (a checkpoint stays on its cluster), CRC-32 checked,
 * written to a temporary file, fsync'ed and renamed.
 *
 * Faults: the communicator is duplicated with MPI_ERRORS_RETURN and every
 * MPI call is checked; a failure becomes REC_EIO "MPI: ... failed on rank r".
 * Every call is non-blocking and completed by wait_for, so that with
 * opts->timeout a rank that hangs (stopped, swapping, a silent network)
 * fails the others after that many seconds instead of never.
 * A rank that dies is normally noticed by mpirun first, which stops the job
 * with its own message. Errors found on one rank outside MPI (memory, bad
 * checkpoint, cancel) are agreed on by every rank, so all return the same
 * status and no rank waits forever in a collective.
 */
#include "internal.h"
#include "movieme_mpi.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define TAG_SHARD 7101
#define SEND_CHUNK ((size_t)1 << 30)
#define CKPT_MAGIC "MVMCKPT"
#define CKPT_VERSION 3u
#define PHASE_EXPLICIT 0
#define PHASE_IMPLICIT 1 /* implicit mode, or the preference phase */

void rec_mpi_options_init(rec_mpi_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->version = REC_MPI_OPTIONS_VERSION;
    o->root = 0;
    o->checkpoint = NULL;
    o->checkpoint_every = 5;
    o->resume = 0;
    o->timeout = 0.0;
}

/* What the root broadcasts first (homogeneous ranks: sent as bytes). */
typedef struct setup {
    int32_t status;
    int32_t k, iterations, biases, nonneg, has_progress, ckpt_every;
    int32_t resume;
    int32_t implicit, solver, cg_steps, by_value; /* implicit mode */
    int32_t hybrid;          /* explicit phase, then the preference phase */
    int32_t wkind;           /* weighting of the implicit phase */
    int32_t weighted;        /* its values are weights, shipped with shards */
    uint64_t n_users, n_movies, nnz, seed;
    uint64_t max_row;        /* longest row or column (CG scratch) */
    double reg, bias_reg, alpha, bias_prior, bm25_k1, bm25_b;
    float mu, min_rating;
    /* the implicit phase (implicit mode or the preference model), as
       rec__train_implicit_cfg makes it */
    rec_implicit_cfg ph;
    char msg[REC_ERROR_MSG_SIZE];
} setup;

/* Per-rank state. */
typedef struct dist {
    MPI_Comm comm;
    int rank, size, root;
    MPI_Datatype row;        /* k floats */
    MPI_Datatype prow;       /* pk floats (the implicit phase) */
    setup s;
    uint64_t *ubound, *mbound; /* size + 1 row boundaries */
    uint64_t *unnz, *mnnz;   /* ratings of each rank's rows */
    int *ucount, *udispl, *mcount, *mdispl;
    /* all factors (the root: the model's arrays) */
    float *U, *bu, *M, *bm;
    float *PU, *PM;          /* preference factors (hybrid) */
    float *root_uw, *root_mw; /* root: the weights of every rating */
    /* own shard: rows [ubound[rank], ubound[rank+1]), offsets rebased */
    uint64_t *uoff, *moff;
    int32_t *uidx, *midx;
    float *uval, *mval;
    float *uw, *mw;          /* weights of the own shard (when weighted) */
    bool own_shard;          /* shard arrays are ours to free */
    double *scratch, *sse, *pen, *mpen;
    int nt;
    rec_implicit_half *imp; /* implicit mode: buffers of the half-steps */
    double timeout;          /* seconds a collective may wait, 0: forever */
} dist;

static rec_status mpi_fail(rec_error *err, const dist *d, const char *call,
                           int rc)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, s, &len) != MPI_SUCCESS)
        snprintf(s, sizeof s, "error %d", rc);
    return rec__fail(err, REC_EIO,
                     "MPI: %s failed on rank %d of %d: %s (a rank died or "
                     "the network failed)",
                     call, d->rank, d->size, s);
}

/* Complete the non-blocking call whose start returned rc: wait at most
   d->timeout seconds (0: MPI_Wait, forever), testing every 100 us. A rank
   that hangs without dying, which MPI never reports, then fails the others
   with a message instead of a job that waits forever. */
static rec_status wait_for(dist *d, const char *name, int rc,
                           MPI_Request *req, rec_error *err)
{
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, d, name, rc);
    if (!(d->timeout > 0)) {
        rc = MPI_Wait(req, MPI_STATUS_IGNORE);
        return rc == MPI_SUCCESS ? REC_OK : mpi_fail(err, d, name, rc);
    }
    double t0 = MPI_Wtime();
    for (;;) {
        int done = 0;
        rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, d, name, rc);
        if (done)
            return REC_OK;
        if (MPI_Wtime() - t0 > d->timeout)
            return rec__fail(err, REC_EIO,
                             "MPI: %s on rank %d of %d: no answer from the "
                             "other ranks within %g s (a rank hangs or the "
                             "network is down)",
                             name, d->rank, d->size, d->timeout);
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

/* Start a non-blocking MPI call (its last argument &req_) and complete it
   with wait_for; return on failure. */
#define MPI_NB(name, start)                                                  \
    do {                                                                     \
        MPI_Request req_ = MPI_REQUEST_NULL;                                 \
        rec_status st_ = wait_for(d, name, (start), &req_, err);             \
        if (st_ != REC_OK)                                                   \
            return st_;                                                      \
    } while (0)

/* Every rank learns the worst status; a rank that was fine takes the
   failing rank's code with a message saying so. MPI failures pass through. */
static rec_status agree(dist *d, rec_status st, rec_error *err)
{
    int mine = st, worst = st;
    MPI_NB("MPI_Allreduce", MPI_Iallreduce(&mine, &worst, 1, MPI_INT,
                                           MPI_MIN, d->comm, &req_));
    if (worst != REC_OK && st == REC_OK)
        return rec__fail(err, worst, "distributed training: another rank "
                         "failed (%s)", rec_strerror(worst));
    return worst == REC_OK ? REC_OK : st;
}

/* Send (or receive) n bytes to (from) a peer, in chunks an int counts. */
static rec_status move_bytes(dist *d, void *buf, size_t n, int peer,
                             bool send, rec_error *err)
{
    char *p = buf;
    do {
        size_t len = n > SEND_CHUNK ? SEND_CHUNK : n;
        if (send)
            MPI_NB("MPI_Send", MPI_Isend(p, (int)len, MPI_BYTE, peer,
                                         TAG_SHARD, d->comm, &req_));
        else
            MPI_NB("MPI_Recv", MPI_Irecv(p, (int)len, MPI_BYTE, peer,
                                         TAG_SHARD, d->comm, &req_));
        p += len;
        n -= len;
    } while (n > 0);
    return REC_OK;
}

/* Contiguous ranges of rows [b[q], b[q+1]) of about equal cost: ratings
   (k^2 each for the normal equations) plus w per row (its k^3/3 solve). */
static void partition(uint64_t *b, const uint64_t *off, size_t n, int parts,
                      int k)
{
    double w = (double)k / 3.0 + 1.0;
    double total = (double)off[n] + w * (double)n;
    size_t i = 0;
    b[0] = 0;
    for (int q = 1; q < parts; q++) {
        double target = total * q / parts;
        while (i < n && (double)off[i] + w * (double)i < target)
            i++;
        b[q] = i;
    }
    b[parts] = n;
}

/* ---- checkpoints -------------------------------------------------------- */

typedef struct ckpt_head {
    char magic[8];
    uint32_t version, k;
    uint64_t n_users, n_movies, nnz, seed;
    uint32_t iteration, biases, nonneg, data_crc;
    double reg, bias_reg;
    uint32_t implicit, solver, cg_steps, by_value;
    double alpha;
    float min_rating;
    /* version 3: the phase, and the implicit phase's parameters */
    uint32_t phase;
    uint32_t done_before;    /* iterations of the phases before this one */
    uint32_t hybrid, pk, p_by_value, wkind, weighted;
    uint64_t p_seed;
    double p_lambda, p_alpha, bm25_k1, bm25_b, bias_prior;
    float p_min_rating;
    uint32_t p_scaled; /* the preference model's REC_CONFIDENCE_SCALED */
} ckpt_head;

static uint32_t crc_buf(uint32_t crc, const void *p, size_t n)
{
    return (uint32_t)crc32_z(crc, p, n);
}

/* A fingerprint of the dataset, so a checkpoint never resumes other data. */
static uint32_t data_crc(const rec_ratings *r)
{
    uint32_t c = (uint32_t)crc32_z(0L, Z_NULL, 0);
    c = crc_buf(c, r->user_ids, r->n_users * sizeof *r->user_ids);
    c = crc_buf(c, r->movie_ids, r->n_movies * sizeof *r->movie_ids);
    c = crc_buf(c, r->user_off, (r->n_users + 1) * sizeof *r->user_off);
    c = crc_buf(c, r->user_items, r->nnz * sizeof *r->user_items);
    c = crc_buf(c, r->user_vals, r->nnz * sizeof *r->user_vals);
    return c;
}

static void ckpt_fill_head(ckpt_head *h, const setup *s, uint32_t dcrc,
                           int phase, int iteration)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, CKPT_MAGIC, sizeof CKPT_MAGIC);
    h->version = CKPT_VERSION;
    h->k = (uint32_t)s->k;
    h->n_users = s->n_users;
    h->n_movies = s->n_movies;
    h->nnz = s->nnz;
    h->seed = s->seed;
    h->iteration = (uint32_t)iteration;
    h->biases = (uint32_t)s->biases;
    h->nonneg = (uint32_t)s->nonneg;
    h->data_crc = dcrc;
    h->reg = s->reg;
    h->bias_reg = s->bias_reg;
    h->implicit = (uint32_t)s->implicit;
    h->solver = (uint32_t)s->solver;
    h->cg_steps = (uint32_t)s->cg_steps;
    h->by_value = (uint32_t)s->by_value;
    h->alpha = s->alpha;
    h->min_rating = s->min_rating;
    h->phase = (uint32_t)phase;
    /* a preference phase continues exactly this many rating iterations */
    h->done_before = phase == PHASE_IMPLICIT && s->hybrid
                         ? (uint32_t)s->iterations
                         : 0;
    h->hybrid = (uint32_t)s->hybrid;
    h->pk = (uint32_t)s->ph.k;
    h->p_by_value = (uint32_t)s->ph.by_value;
    h->wkind = (uint32_t)s->wkind;
    h->weighted = (uint32_t)s->weighted;
    h->p_seed = s->ph.seed;
    h->p_lambda = s->ph.lambda;
    h->p_alpha = s->ph.alpha;
    h->bm25_k1 = s->bm25_k1;
    h->bm25_b = s->bm25_b;
    h->bias_prior = s->bias_prior;
    h->p_min_rating = s->ph.min_rating;
    h->p_scaled = s->ph.conf_base == 0.0;
}

/* The arrays a checkpoint holds after its header: the factors and biases
   of both sides, then the preference factors of a hybrid model. */
static int ckpt_parts(const dist *d, void **parts, size_t *lens)
{
    size_t k = (size_t)d->s.k, pk = (size_t)d->s.ph.k;
    size_t nu = d->s.n_users, nm = d->s.n_movies;
    int n = 0;
    parts[n] = d->U, lens[n++] = nu * k * sizeof(float);
    parts[n] = d->bu, lens[n++] = nu * sizeof(float);
    parts[n] = d->M, lens[n++] = nm * k * sizeof(float);
    parts[n] = d->bm, lens[n++] = nm * sizeof(float);
    if (d->s.hybrid) {
        parts[n] = d->PU, lens[n++] = nu * pk * sizeof(float);
        parts[n] = d->PM, lens[n++] = nm * pk * sizeof(float);
    }
    return n;
}

static rec_status ckpt_write(const dist *d, const char *path, uint32_t dcrc,
                             int phase, int iteration, rec_error *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp)
        return rec__fail(err, REC_ENOMEM, "checkpoint: out of memory");
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        rec_status st = rec__fail(err, REC_EIO, "%s: cannot write: %s", tmp,
                                  strerror(errno));
        free(tmp);
        return st;
    }
    ckpt_head h;
    ckpt_fill_head(&h, &d->s, dcrc, phase, iteration);
    void *parts[7] = {&h};
    size_t lens[7] = {sizeof h};
    int n = 1 + ckpt_parts(d, parts + 1, lens + 1);
    uint32_t crc = (uint32_t)crc32_z(0L, Z_NULL, 0);
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        crc = crc_buf(crc, parts[i], lens[i]);
        ok = fwrite(parts[i], 1, lens[i], f) == lens[i];
    }
    ok = ok && fwrite(&crc, sizeof crc, 1, f) == 1 && fflush(f) == 0 &&
         fsync(fileno(f)) == 0;
    int saved = errno;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, path) != 0) {
        saved = errno;
        ok = false;
    }
    rec_status st = REC_OK;
    if (!ok) {
        remove(tmp);
        st = rec__fail(err, REC_EIO, "%s: cannot write the checkpoint: %s",
                       path, strerror(saved));
    }
    free(tmp);
    return st;
}

/* Iterations of a phase this training runs (0: it has no such phase). */
static int phase_iterations(const setup *s, int phase)
{
    if (phase == PHASE_EXPLICIT)
        return s->implicit ? 0 : s->iterations;
    return s->implicit || s->hybrid ? s->ph.iterations : 0;
}

/* Read a checkpoint into the factors; *phase_out and *iteration_out: the
   phase it was written in and the iterations of that phase done. */
static rec_status ckpt_read(dist *d, const char *path, uint32_t dcrc,
                            int *phase_out, int *iteration_out,
                            rec_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return rec__fail(err, errno == ENOENT ? REC_ENOTFOUND : REC_EIO,
                         "%s: cannot open the checkpoint: %s", path,
                         strerror(errno));
    ckpt_head h, want;
    rec_status st = REC_OK;
    uint32_t crc = (uint32_t)crc32_z(0L, Z_NULL, 0), stored = 0;
    if (fread(&h, sizeof h, 1, f) != 1 ||
        memcmp(h.magic, CKPT_MAGIC, sizeof CKPT_MAGIC) != 0 ||
        h.version != CKPT_VERSION) {
        st = rec__fail(err, REC_EFORMAT, "%s: not a movieme checkpoint "
                       "(or another version)", path);
        goto out;
    }
    ckpt_fill_head(&want, &d->s, dcrc, (int)h.phase, (int)h.iteration);
    if (h.phase == PHASE_IMPLICIT && d->s.hybrid &&
        h.done_before != want.done_before) {
        st = rec__fail(err, REC_EINVAL,
                       "%s: checkpoint in the preference phase after %u "
                       "rating iterations, but %d asked for; remove it or "
                       "train with the same ones",
                       path, (unsigned)h.done_before, d->s.iterations);
        goto out;
    }
    if (memcmp(&h, &want, sizeof h) != 0) {
        st = rec__fail(err, REC_EINVAL,
                       "%s: checkpoint of other data or parameters (rank %u, "
                       "%llu users, %llu movies, %llu ratings, seed %llu); "
                       "remove it or train with the same ones",
                       path, (unsigned)h.k, (unsigned long long)h.n_users,
                       (unsigned long long)h.n_movies,
                       (unsigned long long)h.nnz, (unsigned long long)h.seed);
        goto out;
    }
    int have = h.phase <= PHASE_IMPLICIT
                   ? phase_iterations(&d->s, (int)h.phase)
                   : 0;
    if (h.iteration < 1 || h.iteration > (uint32_t)have) {
        st = rec__fail(err, REC_EINVAL, "%s: checkpoint after %s iteration "
                       "%u, but only %d iterations asked for", path,
                       h.phase == PHASE_EXPLICIT ? "rating" : "preference",
                       (unsigned)h.iteration, have);
        goto out;
    }
    crc = crc_buf(crc, &h, sizeof h);
    void *parts[6];
    size_t lens[6];
    int n = ckpt_parts(d, parts, lens);
    for (int i = 0; i < n; i++) {
        if (fread(parts[i], 1, lens[i], f) != lens[i]) {
            st = rec__fail(err, REC_EFORMAT, "%s: truncated checkpoint",
                           path);
            goto out;
        }
        crc = crc_buf(crc, parts[i], lens[i]);
    }
    if (fread(&stored, sizeof stored, 1, f) != 1 || stored != crc ||
        fgetc(f) != EOF) {
        st = rec__fail(err, REC_EFORMAT, "%s: checkpoint fails its checksum",
                       path);
        goto out;
    }
    *phase_out = (int)h.phase;
    *iteration_out = (int)h.iteration;
out:
    fclose(f);
    return st;
}

/* ---- set-up -------------------------------------------------------------- */

static void dist_free(dist *d)
{
    if (d->row != MPI_DATATYPE_NULL)
        MPI_Type_free(&d->row);
    if (d->prow != MPI_DATATYPE_NULL)
        MPI_Type_free(&d->prow);
    free(d->ubound);
    free(d->ucount);
    free(d->udispl);
    free(d->mcount);
    free(d->mdispl);
    if (d->rank != d->root) {
        free(d->U);
        free(d->bu);
        free(d->M);
        free(d->bm);
        free(d->PU);
        free(d->PM);
    }
    free(d->root_uw);
    free(d->root_mw);
    if (d->own_shard) {
        free(d->uoff);
        free(d->moff);
        free(d->uidx);
        free(d->midx);
        free(d->uval);
        free(d->mval);
        free(d->uw);
        free(d->mw);
    }
    free(d->scratch);
    free(d->sse);
    free(d->pen);
    free(d->mpen);
    rec__implicit_half_free(d->imp);
    if (d->comm != MPI_COMM_NULL)
        MPI_Comm_free(&d->comm);
}

/* Root: the setup record from the parameters and the dataset. */
static rec_status root_setup(setup *s, const rec_ratings *r,
                             const rec_als_params *p,
                             const rec_mpi_options *o, rec_error *err)
{
    memset(s, 0, sizeof *s);
    if (!r)
        return rec__fail(err, REC_EINVAL, "rec_train_als_mpi: no dataset on "
                         "the root rank");
    rec_status st = rec__train_check(r, p, err);
    if (st != REC_OK)
        return st;
    if (o->checkpoint && o->checkpoint_every < 1)
        return rec__fail(err, REC_EINVAL, "checkpoint_every %d must be >= 1",
                         o->checkpoint_every);
    if (r->n_users > INT_MAX || r->n_movies > INT_MAX)
        return rec__fail(err, REC_EINVAL, "too many rows for MPI counts");
    s->k = p->rank;
    s->iterations = p->iterations;
    s->biases = p->biases != 0;
    s->nonneg = p->nonnegative != 0;
    s->has_progress = p->progress != NULL;
    s->ckpt_every = o->checkpoint ? o->checkpoint_every : 0;
    s->resume = o->checkpoint && o->resume;
    s->n_users = r->n_users;
    s->n_movies = r->n_movies;
    s->nnz = r->nnz;
    s->seed = p->seed;
    s->reg = p->reg;
    s->bias_reg = p->bias_reg;
    s->bias_prior = p->version >= 3 && s->biases ? p->bias_prior : 0.0;
    if (p->version >= 2 && p->implicit) {
        s->implicit = 1;
        s->biases = 0;
        s->nonneg = 0;
        s->bias_reg = 0.0;
        s->solver = p->solver;
        s->cg_steps = p->cg_steps;
        s->by_value = p->implicit_weight_by_value != 0;
        s->alpha = p->alpha;
        s->min_rating = p->implicit_min_rating;
    }
    s->hybrid = rec__train_hybrid(p);
    if (p->version >= 3) {
        s->bm25_k1 = p->bm25_k1;
        s->bm25_b = p->bm25_b;
    }
    if (s->implicit || s->hybrid) {
        for (size_t u = 0; u < r->n_users; u++)
            if (r->user_off[u + 1] - r->user_off[u] > s->max_row)
                s->max_row = r->user_off[u + 1] - r->user_off[u];
        for (size_t j = 0; j < r->n_movies; j++)
            if (r->movie_off[j + 1] - r->movie_off[j] > s->max_row)
                s->max_row = r->movie_off[j + 1] - r->movie_off[j];
    }
    return REC_OK;
}

/* Allocate counts, factors (non-root) and scratch. */
static rec_status dist_alloc(dist *d, rec_error *err)
{
    size_t P = (size_t)d->size, k = (size_t)d->s.k;
    size_t pk = d->s.hybrid ? (size_t)d->s.ph.k : 0;
    /* one block: ubound (P+1), mbound (P+1), unnz (P), mnnz (P) */
    d->ubound = calloc(4 * P + 2, sizeof *d->ubound);
    if (d->ubound) {
        d->mbound = d->ubound + P + 1;
        d->unnz = d->mbound + P + 1;
        d->mnnz = d->unnz + P;
    }
    d->ucount = calloc(P, sizeof(int));
    d->udispl = calloc(P, sizeof(int));
    d->mcount = calloc(P, sizeof(int));
    d->mdispl = calloc(P, sizeof(int));
    if (d->rank != d->root) {
        size_t nu = d->s.n_users, nm = d->s.n_movies;
        if (k + pk > SIZE_MAX / sizeof(float) / (nu + nm + 1))
            return rec__fail(err, REC_ENOMEM, "factors: out of memory");
        d->U = calloc(nu * k, sizeof(float));
        d->bu = calloc(nu, sizeof(float));
        d->M = calloc(nm * k, sizeof(float));
        d->bm = calloc(nm, sizeof(float));
        if (pk) {
            d->PU = calloc(nu * pk, sizeof(float));
            d->PM = calloc(nm * pk, sizeof(float));
        }
        if (!d->U || !d->bu || !d->M || !d->bm ||
            (pk && (!d->PU || !d->PM)))
            return rec__fail(err, REC_ENOMEM, "factors: out of memory");
    }
    if (!d->ubound || !d->ucount || !d->udispl || !d->mcount ||
        !d->mdispl)
        return rec__fail(err, REC_ENOMEM, "distributed training: out of "
                         "memory");
    return REC_OK;
}

static void counts_from_bounds(int *count, int *displ, const uint64_t *b,
                               int parts)
{
    for (int q = 0; q < parts; q++) {
        count[q] = (int)(b[q + 1] - b[q]);
        displ[q] = (int)b[q];
    }
}

/* Whether the shards carry the ratings: the explicit phase solves on them,
   and so does an unweighted implicit phase. */
static bool ships_ratings(const setup *s)
{
    return !(s->implicit && s->weighted);
}

/* Root: send rank q its rows [b[q], b[q+1]) of one side: offsets and
   indices, then the ratings and the weights (each when not NULL). */
static rec_status send_shard(dist *d, const uint64_t *off,
                             const int32_t *idx, const float *vals,
                             const float *w, const uint64_t *b, int q,
                             rec_error *err)
{
    uint64_t lo = b[q], hi = b[q + 1];
    uint64_t a = off[lo], z = off[hi];
    rec_status st = move_bytes(d, (void *)(off + lo),
                               (hi - lo + 1) * sizeof *off, q, true, err);
    if (st == REC_OK)
        st = move_bytes(d, (void *)(idx + a), (z - a) * sizeof *idx, q, true,
                        err);
    if (st == REC_OK && vals)
        st = move_bytes(d, (void *)(vals + a), (z - a) * sizeof *vals, q,
                        true, err);
    if (st == REC_OK && w)
        st = move_bytes(d, (void *)(w + a), (z - a) * sizeof *w, q, true,
                        err);
    return st;
}

/* Worker: memory for its rows of one side (ratings and weights when
   asked for). */
static bool alloc_shard(uint64_t **off, int32_t **idx, float **vals,
                        float **w, uint64_t rows, uint64_t n, bool with_vals,
                        bool with_w)
{
    size_t len = n ? n : 1;
    *off = malloc((rows + 1) * sizeof **off);
    *idx = malloc(len * sizeof **idx);
    *vals = with_vals ? malloc(len * sizeof **vals) : NULL;
    *w = with_w ? malloc(len * sizeof **w) : NULL;
    return *off && *idx && (*vals || !with_vals) && (*w || !with_w);
}

/* Worker: receive its rows of one side (offsets rebased to 0); vals and w
   NULL when not shipped. */
static rec_status recv_shard(dist *d, uint64_t *off, int32_t *idx,
                             float *vals, float *w, uint64_t rows, uint64_t n,
                             rec_error *err)
{
    rec_status st = move_bytes(d, off, (rows + 1) * sizeof *off, d->root,
                               false, err);
    if (st != REC_OK)
        return st;
    uint64_t base = off[0];
    if (off[rows] - base != n)
        return rec__fail(err, REC_EIO, "shard: %llu ratings received, %llu "
                         "announced", (unsigned long long)(off[rows] - base),
                         (unsigned long long)n);
    for (uint64_t i = 0; i <= rows; i++)
        off[i] -= base;
    st = move_bytes(d, idx, n * sizeof *idx, d->root, false, err);
    if (st == REC_OK && vals)
        st = move_bytes(d, vals, n * sizeof *vals, d->root, false, err);
    if (st == REC_OK && w)
        st = move_bytes(d, w, n * sizeof *w, d->root, false, err);
    return st;
}

/* Exchange one side's updated rows: factors (rows of `row`) and biases
   (xb, NULL: none). */
static rec_status exchange(dist *d, float *x, float *xb, MPI_Datatype row,
                           const int *count, const int *displ,
                           rec_error *err)
{
    MPI_NB("MPI_Allgatherv",
           MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, x, count,
                           displ, row, d->comm, &req_));
    if (xb)
        MPI_NB("MPI_Allgatherv",
               MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, xb, count,
                               displ, MPI_FLOAT, d->comm, &req_));
    return REC_OK;
}

/* Distribute the shards and the factors of a checkpoint, and allocate the
   scratch. first[phase] = the first iteration of each phase to run (1: from
   the seed; past the phase's end: nothing left to do in it). */
static rec_status dist_prepare(dist *d, const rec_ratings *r,
                               const rec_mpi_options *o, int n_threads,
                               uint32_t dcrc, int *first, rec_error *err)
{
    int P = d->size, me = d->rank;
    rec_status st = dist_alloc(d, err);
    if (st == REC_OK && me == d->root) {
        partition(d->ubound, r->user_off, r->n_users, P, d->s.k);
        partition(d->mbound, r->movie_off, r->n_movies, P, d->s.k);
        for (int q = 0; q < P; q++) {
            d->unnz[q] = r->user_off[d->ubound[q + 1]] -
                         r->user_off[d->ubound[q]];
            d->mnnz[q] = r->movie_off[d->mbound[q + 1]] -
                         r->movie_off[d->mbound[q]];
        }
    }
    st = agree(d, st, err);
    if (st != REC_OK)
        return st;
    MPI_NB("MPI_Bcast", MPI_Ibcast(d->ubound, (4 * P + 2) * 8, MPI_BYTE,
                                   d->root, d->comm, &req_));
    counts_from_bounds(d->ucount, d->udispl, d->ubound, P);
    counts_from_bounds(d->mcount, d->mdispl, d->mbound, P);

    /* memory first, agreed on, then the transfer: nobody is left sending
       to a rank that gave up */
    uint64_t nu = (uint64_t)d->ucount[me], nm = (uint64_t)d->mcount[me];
    bool rv = ships_ratings(&d->s), wv = d->s.weighted != 0;
    if (me != d->root) {
        d->own_shard = true;
        if (!alloc_shard(&d->uoff, &d->uidx, &d->uval, &d->uw, nu,
                         d->unnz[me], rv, wv) ||
            !alloc_shard(&d->moff, &d->midx, &d->mval, &d->mw, nm,
                         d->mnnz[me], rv, wv))
            st = rec__fail(err, REC_ENOMEM, "shard: out of memory (%llu + "
                           "%llu ratings)", (unsigned long long)d->unnz[me],
                           (unsigned long long)d->mnnz[me]);
    }
    d->nt = n_threads > 0 ? n_threads : omp_get_max_threads();
    if (d->nt < 1)
        d->nt = 1;
    d->scratch = malloc((size_t)d->nt * rec__row_scratch(d->s.k) *
                        sizeof(double));
    d->sse = malloc((size_t)(nu + 1) * sizeof(double));
    d->pen = malloc((size_t)(nu + 1) * sizeof(double));
    d->mpen = malloc((size_t)(nm + 1) * sizeof(double));
    if (st == REC_OK && (!d->scratch || !d->sse || !d->pen || !d->mpen))
        st = rec__fail(err, REC_ENOMEM, "scratch: out of memory");
    if (st == REC_OK && (d->s.implicit || d->s.hybrid))
        st = rec__implicit_half_new(&d->imp, &d->s.ph, (size_t)d->s.max_row,
                                    d->nt, err);
    st = agree(d, st, err);
    if (st != REC_OK)
        return st;

    /* shards */
    if (me == d->root) {
        for (int q = 0; q < P; q++) {
            if (q == d->root)
                continue;
            st = send_shard(d, r->user_off, r->user_items,
                            rv ? r->user_vals : NULL, d->root_uw, d->ubound,
                            q, err);
            if (st == REC_OK)
                st = send_shard(d, r->movie_off, r->movie_users,
                                rv ? r->movie_vals : NULL, d->root_mw,
                                d->mbound, q, err);
            if (st != REC_OK)
                return st;
        }
        /* the root's shard is its own slice of the dataset, not rebased:
           the offsets index the whole arrays */
        d->uoff = r->user_off + d->ubound[me];
        d->uidx = r->user_items;
        d->uval = r->user_vals;
        d->uw = d->root_uw;
        d->moff = r->movie_off + d->mbound[me];
        d->midx = r->movie_users;
        d->mval = r->movie_vals;
        d->mw = d->root_mw;
    } else {
        st = recv_shard(d, d->uoff, d->uidx, d->uval, d->uw, nu, d->unnz[me],
                        err);
        if (st == REC_OK)
            st = recv_shard(d, d->moff, d->midx, d->mval, d->mw, nm,
                            d->mnnz[me], err);
        if (st != REC_OK)
            return st;
    }

    /* starting point: a checkpoint (status, phase, iteration), or the seed
       (the same on every rank) */
    int32_t start[3] = {REC_OK, -1, 0};
    if (d->rank == d->root && d->s.resume) {
        FILE *f = fopen(o->checkpoint, "rb");
        if (f) {
            fclose(f);
            int phase = -1, done = 0;
            start[0] = ckpt_read(d, o->checkpoint, dcrc, &phase, &done, err);
            start[1] = phase;
            start[2] = done;
        }
    }
    MPI_NB("MPI_Bcast",
           MPI_Ibcast(start, 3, MPI_INT32_T, d->root, d->comm, &req_));
    if (start[0] != REC_OK) {
        if (d->rank != d->root)
            return rec__fail(err, start[0], "rank %d could not read the "
                             "checkpoint (%s)", d->root,
                             rec_strerror(start[0]));
        return start[0];
    }
    if (start[1] >= 0) {
        MPI_NB("MPI_Bcast", MPI_Ibcast(d->U, (int)d->s.n_users, d->row,
                                       d->root, d->comm, &req_));
        MPI_NB("MPI_Bcast", MPI_Ibcast(d->bu, (int)d->s.n_users, MPI_FLOAT,
                                       d->root, d->comm, &req_));
        MPI_NB("MPI_Bcast", MPI_Ibcast(d->M, (int)d->s.n_movies, d->row,
                                       d->root, d->comm, &req_));
        MPI_NB("MPI_Bcast", MPI_Ibcast(d->bm, (int)d->s.n_movies, MPI_FLOAT,
                                       d->root, d->comm, &req_));
    }
    if (start[1] >= 0 && d->s.hybrid) {
        MPI_NB("MPI_Bcast", MPI_Ibcast(d->PU, (int)d->s.n_users, d->prow,
                                       d->root, d->comm, &req_));
        MPI_NB("MPI_Bcast", MPI_Ibcast(d->PM, (int)d->s.n_movies, d->prow,
                                       d->root, d->comm, &req_));
    }
    /* a checkpoint of the implicit phase: the explicit one is complete */
    first[PHASE_EXPLICIT] = start[1] == PHASE_EXPLICIT   ? start[2] + 1
                            : start[1] == PHASE_IMPLICIT ? d->s.iterations + 1
                                                         : 1;
    first[PHASE_IMPLICIT] = start[1] == PHASE_IMPLICIT ? start[2] + 1 : 1;
    return REC_OK;
}

/* ---- training ------------------------------------------------------------ */

/* One phase of training on the shards: explicit (the rating model), or
   implicit (implicit mode, or the preference model of a hybrid). */
typedef struct phase {
    int id, k, iterations, first;
    int base, total;          /* iterations before this phase, in all */
    MPI_Datatype row;         /* k floats */
    float *X, *Y, *xb, *yb;   /* users, movies, their biases (NULL: none) */
    const float *uval, *mval; /* own shard's values: ratings or weights */
    const float *all_uval;    /* root: every user's values (progress) */
} phase;

/* The progress report of implicit training, as rec__implicit_fit makes
   it: sum = {squared error, weighted loss} over all users. */
static void implicit_progress(rec_progress *pr, const dist *d,
                              const phase *ph, const double *sum)
{
    size_t k = (size_t)ph->k, nobs = 0;
    double nx = 0.0, ny = 0.0;
    for (size_t i = 0; i < d->s.n_users * k; i++)
        nx += (double)ph->X[i] * ph->X[i];
    for (size_t i = 0; i < d->s.n_movies * k; i++)
        ny += (double)ph->Y[i] * ph->Y[i];
    for (size_t t = 0; t < d->s.nnz; t++)
        nobs += rec__implicit_weight(ph->all_uval[t], d->s.ph.min_rating,
                                     d->s.ph.by_value) > 0.0;
    pr->train_rmse = nobs ? sqrt(sum[0] / (double)nobs) : 0.0;
    pr->loss = sum[1] + d->s.ph.lambda * (nx + ny);
}

/* Root: report iteration `it` of the phase; every rank learns whether the
   caller cancels. */
static rec_status report(dist *d, const phase *ph, int it,
                         const rec_als_params *p, double t0, rec_error *err)
{
    bool imp = ph->id == PHASE_IMPLICIT;
    size_t nu = (size_t)d->ucount[d->rank], nm = (size_t)d->mcount[d->rank];
    /* explicit: squared error, penalties; implicit: squared error,
       weighted loss (the norms are the root's) */
    double part[2] = {0, 0}, sum[2] = {0, 0};
    for (size_t i = 0; i < nu; i++) {
        part[0] += d->sse[i];
        part[1] += d->pen[i];
    }
    for (size_t j = 0; j < nm && !imp; j++)
        part[1] += d->mpen[j];
    MPI_NB("MPI_Reduce", MPI_Ireduce(part, sum, 2, MPI_DOUBLE, MPI_SUM,
                                     d->root, d->comm, &req_));
    int32_t cancel = 0;
    if (d->rank == d->root) {
        rec_progress pr = {.iteration = ph->base + it,
                           .iterations = ph->total,
                           .seconds = omp_get_wtime() - t0};
        if (imp)
            implicit_progress(&pr, d, ph, sum);
        else {
            pr.train_rmse = sqrt(sum[0] / (double)d->s.nnz);
            pr.loss = sum[0] + sum[1];
        }
        cancel = p->progress(p->progress_userdata, &pr) != 0;
    }
    MPI_NB("MPI_Bcast",
           MPI_Ibcast(&cancel, 1, MPI_INT32_T, d->root, d->comm, &req_));
    if (cancel)
        return rec__fail(err, REC_ECANCELED, "training cancelled at "
                         "iteration %d of %d", ph->base + it, ph->total);
    return REC_OK;
}

static rec_status run_phase(dist *d, const phase *ph,
                            const rec_als_params *p,
                            const rec_mpi_options *o, uint32_t dcrc,
                            double t0, rec_error *err)
{
    bool imp = ph->id == PHASE_IMPLICIT;
    int k = ph->k;
    rec_row_ctx movies_ctx = {
        .k = k, .biases = d->s.biases, .nonnegative = d->s.nonneg,
        .reg = d->s.reg, .bias_reg = d->s.bias_reg,
        .bias_prior = d->s.bias_prior, .mu = d->s.mu,
        .other = ph->X, .other_bias = ph->xb};
    rec_row_ctx users_ctx = movies_ctx;
    users_ctx.other = ph->Y;
    users_ctx.other_bias = ph->yb;
    size_t sl = rec__row_scratch(k);
    int me = d->rank;
    size_t u0 = (size_t)d->ubound[me], m0 = (size_t)d->mbound[me];
    size_t nu = (size_t)d->ucount[me], nm = (size_t)d->mcount[me];
    bool prog = d->s.has_progress != 0;
    rec_status st;

    for (int it = ph->first; it <= ph->iterations; it++) {
        int failed = 0;
        if (imp)
            failed |= rec__implicit_half_run(
                d->imp, ph->Y + m0 * (size_t)k, nm, d->s.n_movies, d->moff,
                d->midx, ph->mval, ph->X, d->s.n_users, NULL, NULL);
        else
            failed |= rec__als_half_step(ph->Y + m0 * (size_t)k,
                               ph->yb ? ph->yb + m0 : NULL, nm, d->moff,
                               d->midx, ph->mval, &movies_ctx, d->nt,
                               d->scratch, sl, NULL, d->mpen) != 0;
        st = exchange(d, ph->Y, ph->yb, ph->row, d->mcount, d->mdispl, err);
        if (st != REC_OK)
            return st;
        if (imp)
            failed |= rec__implicit_half_run(
                d->imp, ph->X + u0 * (size_t)k, nu, d->s.n_users, d->uoff,
                d->uidx, ph->uval, ph->Y, d->s.n_movies,
                prog ? d->pen : NULL, prog ? d->sse : NULL);
        else
            failed |= rec__als_half_step(ph->X + u0 * (size_t)k,
                               ph->xb ? ph->xb + u0 : NULL, nu, d->uoff,
                               d->uidx, ph->uval, &users_ctx, d->nt,
                               d->scratch, sl, d->sse, d->pen) != 0;
        st = exchange(d, ph->X, ph->xb, ph->row, d->ucount, d->udispl, err);
        if (st != REC_OK)
            return st;
        { /* as rec_train_als: a row that could not be solved is an error */
            int any = 0;
            MPI_NB("MPI_Allreduce", MPI_Iallreduce(&failed, &any, 1, MPI_INT,
                                                   MPI_LOR, d->comm, &req_));
            if (any)
                return rec__fail(err, REC_ELAPACK,
                                 "%s: a row could not be solved at "
                                 "iteration %d (try a larger reg)",
                                 imp ? "implicit ALS" : "ALS", it);
        }
        if (prog && (st = report(d, ph, it, p, t0, err)) != REC_OK)
            return st;
        if (d->s.ckpt_every && ((ph->base + it) % d->s.ckpt_every == 0 ||
                                it == ph->iterations)) {
            int32_t cst = REC_OK;
            if (me == d->root)
                cst = ckpt_write(d, o->checkpoint, dcrc, ph->id, it, err);
            MPI_NB("MPI_Bcast", MPI_Ibcast(&cst, 1, MPI_INT32_T, d->root,
                                           d->comm, &req_));
            if (cst != REC_OK)
                return me == d->root
                           ? cst
                           : rec__fail(err, cst, "rank %d could not write "
                                       "the checkpoint (%s)", d->root,
                                       rec_strerror(cst));
        }
    }
    return REC_OK;
}

/* The explicit phase (unless implicit mode), then the implicit one
   (implicit mode, or the preference model of a hybrid), as rec_train_als. */
static rec_status run(dist *d, const rec_ratings *r,
                      const rec_als_params *p, const rec_mpi_options *o,
                      int n_threads, rec_error *err)
{
    double t0 = omp_get_wtime();
    uint32_t dcrc = (d->rank == d->root && o->checkpoint) ? data_crc(r) : 0;
    int first[2] = {1, 1};
    rec_status st = dist_prepare(d, r, o, n_threads, dcrc, first, err);
    if (st != REC_OK)
        return st;
    int ne = phase_iterations(&d->s, PHASE_EXPLICIT);
    int ni = phase_iterations(&d->s, PHASE_IMPLICIT);
    if (ne) {
        phase e = {.id = PHASE_EXPLICIT, .k = d->s.k, .iterations = ne,
                   .first = first[PHASE_EXPLICIT], .base = 0,
                   .total = ne + ni, .row = d->row, .X = d->U, .Y = d->M,
                   .xb = d->s.biases ? d->bu : NULL,
                   .yb = d->s.biases ? d->bm : NULL, .uval = d->uval,
                   .mval = d->mval};
        if (e.first == 1)
            rec__init_factors(d->U, d->s.n_users, d->s.k, d->s.seed,
                              d->s.nonneg);
        if ((st = run_phase(d, &e, p, o, dcrc, t0, err)) != REC_OK)
            return st;
    }
    if (ni) {
        bool w = d->s.weighted != 0;
        phase g = {.id = PHASE_IMPLICIT, .k = d->s.ph.k, .iterations = ni,
                   .first = first[PHASE_IMPLICIT], .base = ne,
                   .total = ne + ni, .row = d->prow,
                   .X = d->s.hybrid ? d->PU : d->U,
                   .Y = d->s.hybrid ? d->PM : d->M,
                   .uval = w ? d->uw : d->uval, .mval = w ? d->mw : d->mval,
                   .all_uval = w ? d->root_uw : r ? r->user_vals : NULL};
        if (g.first == 1)
            rec__implicit_init_factors(g.X, d->s.n_users, g.Y, d->s.n_movies,
                                       g.k, d->s.ph.seed);
        if ((st = run_phase(d, &g, p, o, dcrc, t0, err)) != REC_OK)
            return st;
    }
    return REC_OK;
}

/* Root: the implicit phase's configuration from the filled model and, with
   a weighting, the weights of every rating in both orders (rec__weigh_
   dataset also leaves what the model keeps of them: n_users, avg_len and
   the per-movie interaction counts), as rec_train_als. */
static rec_status root_implicit_phase(dist *d, rec_model *m,
                                      const rec_als_params *p,
                                      const rec_ratings *r, rec_error *err)
{
    rec__train_implicit_cfg(&d->s.ph, p, m);
    d->s.wkind = m->weighting.kind;
    d->s.weighted = m->weighting.kind != REC_WEIGHT_NONE;
    rec_status st =
        d->s.weighted ? rec__weigh_dataset(&d->root_uw, &d->root_mw,
                                           &m->interactions, &m->weighting,
                                           r, err)
                      : REC_OK;
    if (st == REC_OK && !m->implicit) {
        /* the lambda from the whole dataset, as rec_train_als */
        d->s.ph.lambda = rec__pref_reg_resolve(
            p, r, d->s.weighted ? d->root_uw : r->user_vals, &d->s.ph);
        m->pref_reg = d->s.ph.lambda;
    }
    return st;
}

static rec_status train(rec_model **out, MPI_Comm comm, const rec_ratings *r,
                        rec_status root_status, const rec_error *root_err,
                        const rec_als_params *params,
                        const rec_mpi_options *opts, rec_error *err)
{
    if (!out)
        return rec__fail(err, REC_EINVAL, "rec_train_als_mpi: NULL argument");
    *out = NULL;
    rec_mpi_options defaults;
    rec_mpi_options_init(&defaults);
    const rec_mpi_options *o = opts ? opts : &defaults;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited)
        return rec__fail(err, REC_EINVAL, "rec_train_als_mpi: MPI is not "
                         "initialised (call MPI_Init_thread first)");
    if (o->version < 1 || o->version > REC_MPI_OPTIONS_VERSION)
        return rec__fail(err, REC_EINVAL, "rec_mpi_options: unknown version "
                         "%u (use rec_mpi_options_init)", (unsigned)o->version);

    dist d0 = {.comm = MPI_COMM_NULL, .row = MPI_DATATYPE_NULL,
               .prow = MPI_DATATYPE_NULL},
         *d = &d0;
    int rc = MPI_Comm_dup(comm, &d->comm);
    if (rc != MPI_SUCCESS) {
        d->comm = MPI_COMM_NULL;
        return mpi_fail(err, d, "MPI_Comm_dup", rc);
    }
    MPI_Comm_set_errhandler(d->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(d->comm, &d->rank);
    MPI_Comm_size(d->comm, &d->size);
    d->root = o->root;
    d->timeout = o->timeout;
    rec_status st = REC_OK;
    rec_model *m = NULL;
    /* every rank checks the root the same way: no Bcast from a bad root */
    if (d->root < 0 || d->root >= d->size) {
        st = rec__fail(err, REC_EINVAL, "root rank %d out of range 0..%d",
                       d->root, d->size - 1);
        goto done;
    }

    if (d->rank == d->root) {
        if (root_status != REC_OK) {
            memset(&d->s, 0, sizeof d->s);
            d->s.status = root_status;
            if (root_err)
                memcpy(d->s.msg, root_err->msg, sizeof d->s.msg);
            if (err && root_err && err != root_err)
                *err = *root_err;
        } else {
            rec_error e = {0};
            d->s.status = root_setup(&d->s, r, params, o, &e);
            if (d->s.status == REC_OK) {
                d->s.status = rec__model_alloc(&m, params->rank, r->n_users,
                                               r->n_movies, r->nnz, &e);
                if (d->s.status == REC_OK)
                    d->s.status = rec__train_fill_model(m, r, params, &e);
                if (d->s.status == REC_OK)
                    d->s.mu = m->global_mean;
                if (d->s.status == REC_OK &&
                    (d->s.implicit || d->s.hybrid))
                    d->s.status = root_implicit_phase(d, m, params, r, &e);
            }
            memcpy(d->s.msg, e.msg, sizeof d->s.msg);
            if (d->s.status != REC_OK && err)
                *err = e;
        }
    }
    {
        MPI_Request req = MPI_REQUEST_NULL;
        st = wait_for(d, "MPI_Bcast",
                      MPI_Ibcast(&d->s, (int)sizeof d->s, MPI_BYTE, d->root,
                                 d->comm, &req),
                      &req, err);
        if (st != REC_OK)
            goto done;
    }
    if (d->s.status != REC_OK) {
        st = d->s.status;
        if (d->rank != d->root)
            rec__fail(err, st, "rank %d: %s", d->root, d->s.msg);
        goto done;
    }
    if (d->rank == d->root) {
        d->U = m->user_factors;
        d->bu = m->user_bias;
        d->M = m->movie_factors;
        d->bm = m->movie_bias;
        d->PU = m->pref_user;
        d->PM = m->pref_movie;
    }
    rc = MPI_Type_contiguous(d->s.k, MPI_FLOAT, &d->row);
    if (rc == MPI_SUCCESS)
        rc = MPI_Type_commit(&d->row);
    if (rc == MPI_SUCCESS && (d->s.implicit || d->s.hybrid)) {
        rc = MPI_Type_contiguous(d->s.ph.k, MPI_FLOAT, &d->prow);
        if (rc == MPI_SUCCESS)
            rc = MPI_Type_commit(&d->prow);
    }
    if (rc != MPI_SUCCESS) {
        st = mpi_fail(err, d, "MPI_Type_commit", rc);
        goto done;
    }
    int nt = params ? params->n_threads : 0;
    st = run(d, r, params, o, nt, err);
    /* what serving derives from the factors (Y^T Y, ranking vectors) */
    if (st == REC_OK && m)
        st = rec__model_finish(m, err);

done:
    dist_free(d);
    if (st != REC_OK) {
        rec_model_free(m);
        return st;
    }
    *out = m; /* NULL on the non-root ranks */
    return REC_OK;
}

rec_status rec_train_als_mpi_ratings(rec_model **out, MPI_Comm comm,
                                     const rec_ratings *r,
                                     const rec_als_params *params,
                                     const rec_mpi_options *opts,
                                     rec_error *err)
{
    return train(out, comm, r, REC_OK, NULL, params, opts, err);
}

rec_status rec_train_als_mpi(rec_model **out, MPI_Comm comm, const char *path,
                             const rec_als_params *params,
                             const rec_mpi_options *opts, rec_error *err)
{
    if (!out)
        return rec__fail(err, REC_EINVAL, "rec_train_als_mpi: NULL argument");
    *out = NULL;
    int inited = 0, rank = 0, root = opts ? opts->root : 0;
    MPI_Initialized(&inited);
    if (!inited)
        return rec__fail(err, REC_EINVAL, "rec_train_als_mpi: MPI is not "
                         "initialised (call MPI_Init_thread first)");
    MPI_Comm_rank(comm, &rank);
    rec_ratings *r = NULL;
    rec_error e = {0};
    rec_status st = REC_OK;
    if (rank == root) {
        st = path ? rec_load_movielens(&r, path, &e)
                  : rec__fail(&e, REC_EINVAL, "rec_train_als_mpi: NULL path");
    }
    st = train(out, comm, r, st, &e, params, opts, err);
    rec_ratings_free(r);
    return st;
}
