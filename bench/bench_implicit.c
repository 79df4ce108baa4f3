/*
 * bench_implicit - seconds per iteration of implicit-feedback ALS against
 * rank (issue 7), and its ranking quality against the popularity baseline.
 *
 *   bench_implicit speed DATA [--ranks 32,64,128] [--solvers cg,cholesky]
 *                  [--threads T] [--iters N] [--md FILE]
 *   bench_implicit quality DATA [--k-out K] [--rank R] [--iters N]
 *                  [--alpha A] [--threads T]
 *
 * speed: for each rank and solver, trains 1 and 1 + N iterations (no
 * progress callback, which would add the loss computation) and reports
 * (t(1 + N) - t(1)) / N, wall and CPU seconds, so loading, the model copy
 * and the allocation are not counted. Markdown table on stdout (and in
 * FILE with --md). DATA is a MovieLens directory, e.g. the output of
 * gen_movielens (bench/data/synth-20M-seed1: MovieLens-20M shape).
 *
 * quality: leave-K-out split (default 5), nDCG/precision/MAP@10 and AUC of
 * the implicit model and of the popularity baseline (relevant: rating >= 4).
 */
#include "bench_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_implicit speed DATA [--ranks 32,64,128] "
            "[--solvers cg,cholesky] [--threads T] [--iters N] [--md FILE]\n"
            "       bench_implicit quality DATA [--k-out K] [--rank R] "
            "[--iters N] [--alpha A] [--threads T]\n");
    exit(2);
}

typedef struct opts {
    const char *cmd, *data, *md;
    int ranks[16], n_ranks;
    int solvers[2], n_solvers;
    int threads, iters, k_out, rank;
    double alpha;
} opts;

static void parse(opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->threads = 2;
    o->iters = 2;
    o->k_out = 5;
    o->rank = 32;
    o->alpha = 1.0;
    int r[3] = {32, 64, 128};
    memcpy(o->ranks, r, sizeof r);
    o->n_ranks = 3;
    o->solvers[0] = REC_SOLVER_CG;
    o->solvers[1] = REC_SOLVER_CHOLESKY;
    o->n_solvers = 2;
    if (argc < 3)
        usage();
    o->cmd = argv[1];
    o->data = argv[2];
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--ranks")) {
            o->n_ranks = 0;
            for (char *s = (char *)v; *s && o->n_ranks < 16;) {
                o->ranks[o->n_ranks++] = (int)strtol(s, &s, 10);
                if (*s == ',')
                    s++;
                else if (*s)
                    usage();
            }
        } else if (!strcmp(a, "--solvers")) {
            o->n_solvers = 0;
            if (strstr(v, "cg"))
                o->solvers[o->n_solvers++] = REC_SOLVER_CG;
            if (strstr(v, "cholesky"))
                o->solvers[o->n_solvers++] = REC_SOLVER_CHOLESKY;
            if (!o->n_solvers)
                usage();
        } else if (!strcmp(a, "--threads"))
            o->threads = atoi(v);
        else if (!strcmp(a, "--iters"))
            o->iters = atoi(v);
        else if (!strcmp(a, "--k-out"))
            o->k_out = atoi(v);
        else if (!strcmp(a, "--rank"))
            o->rank = atoi(v);
        else if (!strcmp(a, "--alpha"))
            o->alpha = atof(v);
        else if (!strcmp(a, "--md"))
            o->md = v;
        else
            usage();
    }
    if (o->iters < 1 || o->threads < 0 || o->k_out < 1 || o->rank < 1)
        usage();
}

static rec_ratings *load(const char *path)
{
    rec_ratings *r = NULL;
    rec_error e = {0};
    double t0 = bench_now();
    if (rec_load_movielens(&r, path, &e) != REC_OK) {
        fprintf(stderr, "bench_implicit: %s\n", e.msg);
        exit(1);
    }
    fprintf(stderr, "loaded %s: %zu ratings, %zu users, %zu movies (%.1f s)\n",
            path, rec_ratings_n_ratings(r), rec_ratings_n_users(r),
            rec_ratings_n_movies(r), bench_now() - t0);
    return r;
}

/* Wall and CPU seconds of one training. */
static void train_once(double *wall, double *cpu, const rec_ratings *r,
                       const rec_als_params *p)
{
    rec_model *m = NULL;
    rec_error e = {0};
    double w0 = bench_now(), c0 = bench_cpu_seconds();
    if (rec_train_als(&m, r, p, &e) != REC_OK) {
        fprintf(stderr, "bench_implicit: training failed: %s\n", e.msg);
        exit(1);
    }
    *wall = bench_now() - w0;
    *cpu = bench_cpu_seconds() - c0;
    rec_model_free(m);
}

static int cmd_speed(const opts *o)
{
    rec_ratings *r = load(o->data);
    FILE *md = o->md ? fopen(o->md, "w") : NULL;
    if (o->md && !md) {
        perror(o->md);
        return 1;
    }
    char head[512];
    snprintf(head, sizeof head,
             "%zu ratings, %zu users, %zu movies; %d threads; alpha 1, "
             "3 CG steps; (t(1+%d) - t(1)) / %d iterations\n\n"
             "| rank | solver | s/iteration (wall) | CPU s/iteration |\n"
             "|-----:|:-------|-------------------:|----------------:|\n",
             rec_ratings_n_ratings(r), rec_ratings_n_users(r),
             rec_ratings_n_movies(r), o->threads, o->iters, o->iters);
    fputs(head, stdout);
    if (md)
        fputs(head, md);
    for (int i = 0; i < o->n_ranks; i++) {
        for (int s = 0; s < o->n_solvers; s++) {
            rec_als_params p;
            rec_als_params_init(&p);
            p.implicit = 1;
            p.rank = o->ranks[i];
            p.solver = o->solvers[s];
            p.n_threads = o->threads;
            double w1, c1, w2, c2;
            p.iterations = 1;
            train_once(&w1, &c1, r, &p);
            p.iterations = 1 + o->iters;
            train_once(&w2, &c2, r, &p);
            char line[160];
            snprintf(line, sizeof line, "| %d | %s | %.2f | %.2f |\n",
                     p.rank, p.solver == REC_SOLVER_CG ? "cg" : "cholesky",
                     (w2 - w1) / o->iters, (c2 - c1) / o->iters);
            fputs(line, stdout);
            fflush(stdout);
            if (md) {
                fputs(line, md);
                fflush(md);
            }
        }
    }
    if (md)
        fclose(md);
    rec_ratings_free(r);
    return 0;
}

static void row(const char *name, const rec_eval_result *ev)
{
    printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %zu |\n", name,
           ev->ndcg_at_k, ev->precision_at_k, ev->recall_at_k, ev->map_at_k,
           ev->auc, ev->n_users_ranked);
}

static int cmd_quality(const opts *o)
{
    rec_ratings *all = load(o->data), *tr = NULL, *te = NULL;
    rec_error e = {0};
    if (rec_ratings_split_per_user(&tr, &te, all, o->k_out, 1, &e) != REC_OK) {
        fprintf(stderr, "bench_implicit: %s\n", e.msg);
        return 1;
    }
    rec_eval_result pop, ev;
    rec_evaluate_popularity(&pop, tr, te, 10, 4.0f, NULL);
    printf("leave-%d-out (seed 1), relevant >= 4, k = 10\n\n"
           "| model | nDCG@10 | P@10 | R@10 | MAP@10 | AUC | users |\n"
           "|:------|--------:|-----:|-----:|-------:|----:|------:|\n",
           o->k_out);
    row("popularity", &pop);
    for (int solver = 0; solver < 2; solver++) {
        rec_als_params p;
        rec_als_params_init(&p);
        p.implicit = 1;
        p.rank = o->rank;
        p.iterations = o->iters;
        p.alpha = o->alpha;
        p.solver = solver;
        p.n_threads = o->threads;
        rec_model *m = NULL;
        if (rec_train_als(&m, tr, &p, &e) != REC_OK ||
            rec_evaluate(&ev, m, te, 10, 4.0f, &e) != REC_OK) {
            fprintf(stderr, "bench_implicit: %s\n", e.msg);
            return 1;
        }
        char name[96];
        snprintf(name, sizeof name, "implicit %s, rank %d, alpha %g",
                 solver == REC_SOLVER_CG ? "CG" : "Cholesky", p.rank,
                 p.alpha);
        row(name, &ev);
        rec_model_free(m);
    }
    rec_ratings_free(tr);
    rec_ratings_free(te);
    rec_ratings_free(all);
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    parse(&o, argc, argv);
    if (!strcmp(o.cmd, "speed"))
        return cmd_speed(&o);
    if (!strcmp(o.cmd, "quality"))
        return cmd_quality(&o);
    usage();
    return 2;
}
