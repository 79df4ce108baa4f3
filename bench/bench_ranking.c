/*
 * bench_ranking.c - what the served list is worth (issue 15): nDCG@10,
 * precision, recall, MAP and AUC of rec_top_n's ranking, catalogue coverage
 * and the median training count of recommended movies, and test RMSE of
 * rec_predict, beside the popularity baseline on the same split.
 *
 *   bench_ranking DATA [--split random|lko] [--fraction F] [--k-out K]
 *                 [--seed S] [--mode hybrid|explicit|implicit]
 *                 [--rank R] [--iters N] [--reg X] [--bias-prior X]
 *                 [--pref-rank R] [--pref-reg X|auto] [--pref-alpha X]
 *                 [--blend X] [--blend-shrink X] [--weighting bm25|none]
 *                 [--k1 X] [--b X] [--pref-confidence linear|scaled]
 *                 [--alpha X] [--by-value 0|1] [--min-rating X]
 *                 [--solver 0|1] [--cg-steps N] [--pref-iters N]
 *                 [--bias-reg X] [--threads T] [--show USER]
 *
 * Everything not given keeps rec_als_params_init()'s default, so a run
 * without options measures the library's defaults. Prints one line of
 * key=value figures (and, with --show, the top 10 of one user with titles,
 * to look at the list as well as at its metrics).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Coverage and median training count of everybody's top 10. */
static void list_stats(double *coverage, double *median_count,
                       const rec_model *m, const rec_ratings *train)
{
    size_t nu = 0;
    int32_t *ids = bench_model_user_ids(m, &nu);
    size_t nm = rec_model_n_movies(m), with_ratings = 0;
    int32_t max_id = 0;
    for (size_t i = 0; i < nm; i++) {
        rec_movie_info info;
        rec_model_movie_at(&info, m, i, NULL);
        with_ratings += info.n_ratings > 0;
        if (info.movie_id > max_id)
            max_id = info.movie_id;
    }
    unsigned char *seen = calloc((size_t)max_id + 1, 1);
    uint32_t *counts = malloc((nu ? nu : 1) * 10 * sizeof *counts);
    size_t nc = 0, distinct = 0;
    for (size_t u = 0; ids && u < nu; u++) {
        rec_scored top[10];
        size_t n = 0;
        if (rec_top_n(top, 10, &n, m, ids[u], NULL) != REC_OK)
            continue;
        for (size_t i = 0; i < n; i++) {
            rec_movie_info info;
            rec_ratings_movie(&info, train, top[i].movie_id, NULL);
            counts[nc++] = info.n_ratings;
            if (!seen[top[i].movie_id]) {
                seen[top[i].movie_id] = 1;
                distinct++;
            }
        }
    }
    qsort(counts, nc, sizeof *counts, cmp_u32);
    *coverage = with_ratings ? (double)distinct / (double)with_ratings : 0.0;
    *median_count = nc ? (nc % 2 ? counts[nc / 2]
                                 : 0.5 * (counts[nc / 2 - 1] + counts[nc / 2]))
                       : 0.0;
    free(seen);
    free(counts);
    free(ids);
}

static const char *arg(int argc, char **argv, const char *name)
{
    for (int i = 2; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return argv[i + 1];
    return NULL;
}

static void set_d(double *v, int argc, char **argv, const char *name)
{
    const char *s = arg(argc, argv, name);
    if (s)
        *v = atof(s);
}

static void set_i(int *v, int argc, char **argv, const char *name)
{
    const char *s = arg(argc, argv, name);
    if (s)
        *v = atoi(s);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_ranking DATA [options]\n");
        return 2;
    }
    rec_error e;
    rec_ratings *all = NULL, *train = NULL, *test = NULL;
    double t0 = bench_now();
    if (rec_load_movielens(&all, argv[1], &e) != REC_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double load_s = bench_now() - t0;
    const char *split = arg(argc, argv, "--split");
    double fraction = 0.1;
    int k_out = 5, seed = 42;
    set_d(&fraction, argc, argv, "--fraction");
    set_i(&k_out, argc, argv, "--k-out");
    set_i(&seed, argc, argv, "--seed");
    rec_status st = split && strcmp(split, "lko") == 0
                        ? rec_ratings_split_per_user(&train, &test, all,
                                                     k_out, (uint64_t)seed, &e)
                        : rec_ratings_split(&train, &test, all, fraction,
                                            (uint64_t)seed, &e);
    if (st != REC_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    rec_als_params p;
    rec_als_params_init(&p);
    const char *mode = arg(argc, argv, "--mode");
    if (mode && strcmp(mode, "explicit") == 0)
        p.preference = 0;
    if (mode && strcmp(mode, "implicit") == 0)
        p.implicit = 1;
    const char *wt = arg(argc, argv, "--weighting");
    if (wt)
        p.preference_weighting = p.implicit_weighting =
            strcmp(wt, "none") == 0 ? REC_WEIGHT_NONE : REC_WEIGHT_BM25;
    set_i(&p.rank, argc, argv, "--rank");
    set_i(&p.iterations, argc, argv, "--iters");
    set_i(&p.preference_rank, argc, argv, "--pref-rank");
    set_i(&p.n_threads, argc, argv, "--threads");
    set_d(&p.reg, argc, argv, "--reg");
    set_d(&p.bias_prior, argc, argv, "--bias-prior");
    const char *pr = arg(argc, argv, "--pref-reg"); /* a value or "auto" */
    if (pr)
        p.preference_reg =
            strcmp(pr, "auto") == 0 ? REC_PREFERENCE_REG_AUTO : atof(pr);
    set_d(&p.preference_alpha, argc, argv, "--pref-alpha");
    const char *conf = arg(argc, argv, "--pref-confidence");
    if (conf)
        p.preference_confidence = strcmp(conf, "scaled") == 0
                                      ? REC_CONFIDENCE_SCALED
                                      : REC_CONFIDENCE_LINEAR;
    set_d(&p.blend, argc, argv, "--blend");
    set_d(&p.blend_shrink, argc, argv, "--blend-shrink");
    set_d(&p.bm25_k1, argc, argv, "--k1");
    set_d(&p.bm25_b, argc, argv, "--b");
    set_d(&p.alpha, argc, argv, "--alpha");
    set_i(&p.implicit_weight_by_value, argc, argv, "--by-value");
    set_i(&p.solver, argc, argv, "--solver");
    set_i(&p.cg_steps, argc, argv, "--cg-steps");
    set_i(&p.preference_iterations, argc, argv, "--pref-iters");
    set_d(&p.bias_reg, argc, argv, "--bias-reg");
    const char *mr = arg(argc, argv, "--min-rating");
    if (mr)
        p.implicit_min_rating = (float)atof(mr);

    rec_model *m = NULL;
    double c0 = bench_cpu_seconds();
    t0 = bench_now();
    if (rec_train_als(&m, train, &p, &e) != REC_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double train_s = bench_now() - t0;
    double train_cpu_s = bench_cpu_seconds() - c0;
    rec_eval_result ev, pop;
    t0 = bench_now();
    if (rec_evaluate(&ev, m, test, 10, 4.0f, &e) != REC_OK ||
        rec_evaluate_popularity(&pop, train, test, 10, 4.0f, &e) != REC_OK) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    double eval_s = bench_now() - t0;
    double coverage, median_count;
    list_stats(&coverage, &median_count, m, train);
    printf("split=%s ratings=%zu load_s=%.3f train_s=%.3f train_cpu_s=%.3f "
           "eval_s=%.3f "
           "rmse=%.4f ndcg10=%.4f p10=%.4f r10=%.4f map10=%.4f auc=%.4f "
           "coverage=%.4f median_count=%.1f users=%zu pop_ndcg10=%.4f "
           "pop_rmse=%.4f ndcg_vs_pop=%.2f pref_reg=%.3f\n",
           split ? split : "random", rec_ratings_n_ratings(all), load_s,
           train_s, train_cpu_s, eval_s, ev.rmse, ev.ndcg_at_k, ev.precision_at_k,
           ev.recall_at_k, ev.map_at_k, ev.auc, coverage, median_count,
           ev.n_users_ranked, pop.ndcg_at_k, pop.rmse,
           pop.ndcg_at_k > 0 ? ev.ndcg_at_k / pop.ndcg_at_k : 0.0,
           rec_model_preference_reg(m));
    const char *show = arg(argc, argv, "--show");
    if (show) {
        rec_scored top[10];
        size_t n = 0;
        if (rec_top_n(top, 10, &n, m, atoi(show), &e) != REC_OK) {
            fprintf(stderr, "%s\n", e.msg);
            return 1;
        }
        for (size_t i = 0; i < n; i++) {
            rec_movie_info info;
            rec_model_movie(&info, m, top[i].movie_id, NULL);
            printf("  %6.3f  %.1f stars  %5u ratings  %s\n", top[i].score,
                   top[i].rating, info.n_ratings, info.title);
        }
    }
    rec_model_free(m);
    rec_ratings_free(train);
    rec_ratings_free(test);
    rec_ratings_free(all);
    return 0;
}
