/*
 * cmd_train.c - `movieme train`: train, optionally evaluate on a held-out
 * split, and save a model (with --mpi, distributed: src/mpi/cli_mpi.c).
 */
#include "cli.h"

#ifdef MOVIEME_WITH_MPI
#include "cli_mpi.h" /* train --mpi (src/mpi/cli_mpi.c) */
#endif

#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>


/* The help shows the library's own defaults (rec_als_params_init). */
static char rank_help[64], iters_help[64], lambda_help[64], seed_help[96];

void train_help_init(void)
{
    rec_als_params p;
    rec_als_params_init(&p);
    snprintf(rank_help, sizeof rank_help, "latent factors (default %d)",
             p.rank);
    snprintf(iters_help, sizeof iters_help, "ALS iterations (default %d)",
             p.iterations);
    snprintf(lambda_help, sizeof lambda_help,
             "regularisation, ALS-WR scaled (default %g)", p.reg);
    snprintf(seed_help, sizeof seed_help,
             "seed of the initialisation and the split (default %llu)",
             (unsigned long long)p.seed);
}

const cli_opt train_opts[] = {
    {"--data", NULL, "PATH", "MovieLens directory or ratings file", false},
    {"--out", "-o", "MODEL", "where to save the model", false},
    {"--rank", NULL, "K", rank_help, false},
    {"--iters", NULL, "N", iters_help, false},
    {"--lambda", NULL, "L", lambda_help, false},
    {"--seed", NULL, "S", seed_help, false},
    {"--threads", NULL, "T", "OpenMP threads, 0 = all cores (default 0)",
     false},
    {"--test-fraction", NULL, "F",
     "hold out this fraction of ratings, 0 <= F < 1, and report test RMSE",
     false},
    {"--leave-out", NULL, "K",
     "hold out K ratings of each user with more than K (instead of "
     "--test-fraction) and report ranking metrics and the popularity "
     "baseline", false},
    {"--implicit", NULL, NULL,
     "implicit-feedback ALS: ratings are interactions (docs/implicit.md)",
     false},
    {"--alpha", NULL, "A", "implicit: confidence 1 + A * r (default 1)",
     false},
    {"--solver", NULL, "cg|cholesky", "implicit: row solver (default cg)",
     false},
    {"--cg-steps", NULL, "N", "implicit: CG steps per row (default 3)", false},
    {"--min-rating", NULL, "R",
     "implicit: ratings below R are no interaction (default 0)", false},
    {"--weight-by-value", NULL, NULL,
     "implicit: r = the rating (default: r = 1)", false},
    {"--explicit-only", NULL, NULL,
     "a rating model alone, ranked by predicted rating (0.1 behaviour; "
     "default: the hybrid model of docs/ranking.md)", false},
    {"--blend", NULL, "B",
     "hybrid: weight of the predicted rating in the ranking (default 0.2)",
     false},
    {"--bias-prior", NULL, "P",
     "shrink rare movies' and users' biases: penalty + P (default 0.5)",
     false},
    {"--pref-rank", NULL, "K",
     "hybrid: factors of the preference model (default 128; 0: --rank)", false},
    {"--pref-lambda", NULL, "L|auto",
     "hybrid: regularisation of the preference model (default auto: grown "
     "with the data, docs/ranking.md)", false},
    {"--pref-alpha", NULL, "A",
     "hybrid: confidence slope of the preference model (default 0.3)", false},
    {"--pref-confidence", NULL, "linear|scaled",
     "hybrid: confidence A w (scaled, default: more of the catalogue in "
     "the lists, docs/ranking.md) or 1 + A w (linear)", false},
    {"--blend-shrink", NULL, "S",
     "hybrid: the predicted rating counts n / (n + S) for a movie with n "
     "ratings (default 10)", false},
    {"--rating-pref-weight", NULL, "W",
     "hybrid: predicted ratings add W times the preference score (default "
     "0; --tune fits it)", false},
    {"--rating-pref-shift", NULL, "S",
     "hybrid: ... and S (default 0; --tune fits it)", false},
    {"--bm25-k1", NULL, "K1", "BM25 saturation (default 100)", false},
    {"--bm25-b", NULL, "B", "BM25 length normalisation, 0..1 (default 1)",
     false},
    {"--weighting", NULL, "bm25|none",
     "interaction weights of the preference model, or with --implicit of "
     "the implicit model (defaults bm25, none)", false},
    {"--tune", NULL, NULL,
     "first tune the parameters on a validation split of the training "
     "ratings (the tune: options, docs/tuning.md), then train with the best",
     false},
    TUNE_OPTS,
#ifdef MOVIEME_WITH_MPI
    CLI_MPI_OPTS,
#endif
    OPT_JSON, OPT_QUIET, OPT_END,
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

typedef struct train_state {
    const ctx *c;
    int rating_iters;  /* the rating model's iterations come first */
    rec_progress last; /* the last of those */
    bool any;
} train_state;

static int on_progress(void *userdata, const rec_progress *p)
{
    train_state *ts = userdata;
    bool rating = p->iteration <= ts->rating_iters;
    if (rating) {
        ts->last = *p;
        ts->any = true;
    }
    progress(ts->c, "iteration %d/%d: %s RMSE %.4f, loss %.6g (%.2f s)\n",
             p->iteration, p->iterations,
             rating ? "train" : "preference", p->train_rmse, p->loss,
             p->seconds);
    return interrupted ? 1 : 0;
}

/* Implicit-feedback options of train (params version 2). */
static bool parse_implicit_params(rec_als_params *p, const ctx *c)
{
    long steps;
    double min_rating;
    const char *solver = cli_get(&c->args, "--solver");
    p->implicit = cli_get(&c->args, "--implicit") != NULL;
    p->implicit_weight_by_value =
        cli_get(&c->args, "--weight-by-value") != NULL;
    if (!opt_double(&p->alpha, c, "--alpha", p->alpha, 1e-12, 1e12) ||
        !opt_long(&steps, c, "--cg-steps", p->cg_steps, 1, 1000) ||
        !opt_double(&min_rating, c, "--min-rating", 0, -1e9, 1e9))
        return false;
    p->cg_steps = (int)steps;
    p->implicit_min_rating = (float)min_rating;
    if (solver && strcmp(solver, "cg") && strcmp(solver, "cholesky")) {
        cli_usage_error(c->cmd, "--solver: '%s' is not cg or cholesky",
                        solver);
        return false;
    }
    if (solver)
        p->solver = solver[1] == 'g' ? REC_SOLVER_CG : REC_SOLVER_CHOLESKY;
    return true;
}

/* The hybrid model's options (params version 3). */
static bool parse_ranking_params(rec_als_params *p, const ctx *c)
{
    long kp;
    const char *w = cli_get(&c->args, "--weighting");
    const char *lambda = cli_get(&c->args, "--pref-lambda");
    bool auto_lambda = lambda && strcmp(lambda, "auto") == 0;
    if (!opt_double(&p->blend, c, "--blend", p->blend, 0, 1e6) ||
        !opt_double(&p->bias_prior, c, "--bias-prior", p->bias_prior, 0,
                    1e9) ||
        !opt_long(&kp, c, "--pref-rank", p->preference_rank, 0, 1024) ||
        (!auto_lambda && !opt_double(&p->preference_reg, c, "--pref-lambda",
                                     p->preference_reg, 0, 1e9)) ||
        !opt_double(&p->preference_alpha, c, "--pref-alpha",
                    p->preference_alpha, 1e-12, 1e12) ||
        !opt_double(&p->blend_shrink, c, "--blend-shrink", p->blend_shrink,
                    0, 1e9) ||
        !opt_double(&p->bm25_k1, c, "--bm25-k1", p->bm25_k1, 0, 1e9) ||
        !opt_double(&p->bm25_b, c, "--bm25-b", p->bm25_b, 0, 1) ||
        !opt_double(&p->rating_pref_weight, c, "--rating-pref-weight",
                    p->rating_pref_weight, -1e6, 1e6) ||
        !opt_double(&p->rating_pref_shift, c, "--rating-pref-shift",
                    p->rating_pref_shift, -1e6, 1e6))
        return false;
    const char *conf = cli_get(&c->args, "--pref-confidence");
    if (conf && strcmp(conf, "linear") && strcmp(conf, "scaled")) {
        cli_usage_error(c->cmd, "--pref-confidence: '%s' is not linear or "
                        "scaled", conf);
        return false;
    }
    if (conf)
        p->preference_confidence = conf[0] == 's' ? REC_CONFIDENCE_SCALED
                                                  : REC_CONFIDENCE_LINEAR;
    p->preference_rank = (int)kp;
    p->preference = cli_get(&c->args, "--explicit-only") == NULL;
    if (w && strcmp(w, "bm25") && strcmp(w, "none")) {
        cli_usage_error(c->cmd, "--weighting: '%s' is not bm25 or none", w);
        return false;
    }
    if (w && p->implicit)
        p->implicit_weighting = w[0] == 'b' ? REC_WEIGHT_BM25
                                            : REC_WEIGHT_NONE;
    else if (w)
        p->preference_weighting = w[0] == 'b' ? REC_WEIGHT_BM25
                                              : REC_WEIGHT_NONE;
    return true;
}

static bool parse_train_params(rec_als_params *p, double *test_fraction,
                               const ctx *c)
{
    rec_als_params_init(p);
    long rank, iters, threads;
    const char *seed = cli_get(&c->args, "--seed");
    if (!opt_long(&rank, c, "--rank", p->rank, 1, 4096) ||
        !opt_long(&iters, c, "--iters", p->iterations, 1, 100000) ||
        !opt_double(&p->reg, c, "--lambda", p->reg, 0, 1e6) ||
        !opt_long(&threads, c, "--threads", p->n_threads, 0, 4096) ||
        !opt_double(test_fraction, c, "--test-fraction", 0, 0, 1) ||
        (seed && !cli_u64(&p->seed, c->cmd, "--seed", seed)))
        return false;
    if (*test_fraction >= 1) {
        cli_usage_error(c->cmd, "--test-fraction: %s is out of range "
                        "(0 <= F < 1)", cli_get(&c->args, "--test-fraction"));
        return false;
    }
    p->rank = (int)rank;
    p->iterations = (int)iters;
    p->n_threads = (int)threads;
    return parse_implicit_params(p, c) && parse_ranking_params(p, c);
}

static int run_train(ctx *c)
{
    const char *data = need(c, "--data", "PATH");
    const char *out = data ? need(c, "--out", "MODEL") : NULL;
    rec_als_params p;
    double test_fraction;
    long leave_out;
    if (!out || !parse_train_params(&p, &test_fraction, c) ||
        !opt_long(&leave_out, c, "--leave-out", 0, 0, 1000000))
        return EXIT_USAGE;
    if (leave_out > 0 && test_fraction > 0) {
        cli_usage_error(c->cmd, "give --test-fraction or --leave-out, not "
                                "both");
        return EXIT_USAGE;
    }

    rec_error e = {0};
    rec_ratings *all = NULL, *train = NULL, *test = NULL;
    rec_model *m = NULL;
    tune_outcome tuned = {0};
    bool tuning = cli_get(&c->args, "--tune") != NULL;
    int rc;
    if (load_data(&all, c, data, &e) != REC_OK)
        return fail(c, &e);
    if (test_fraction > 0 || leave_out > 0) {
        if ((leave_out > 0
                 ? rec_ratings_split_per_user(&train, &test, all,
                                              (int)leave_out, p.seed, &e)
                 : rec_ratings_split(&train, &test, all, test_fraction,
                                     p.seed, &e)) != REC_OK) {
            rc = fail(c, &e);
            goto out;
        }
        progress(c, "split: %zu training, %zu test ratings\n",
                 rec_ratings_n_ratings(train), rec_ratings_n_ratings(test));
    }
    const rec_ratings *tr = train ? train : all;

    /* --tune: the search sees the training ratings only, never the test */
    if (tuning) {
        rc = tune_run(&tuned, c, tr, &p, &e);
        if (rc != EXIT_OK)
            goto out;
        p = tuned.result.best;
    }

    train_state ts = {.c = c, .rating_iters = p.iterations};
    p.progress = on_progress;
    p.progress_userdata = &ts;
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    progress(c, "training: rank %d, %d iterations, lambda %g, seed %llu, "
                "threads %d%s\n",
             p.rank, p.iterations, p.reg, (unsigned long long)p.seed,
             p.n_threads, p.n_threads ? "" : " (all cores)");
    double t0 = now();
#ifdef MOVIEME_WITH_MPI
    rec_status st = cli_mpi_train(&m, tr, &p, &e); /* --mpi or not */
#else
    rec_status st = rec_train_als(&m, tr, &p, &e);
#endif
    double secs = now() - t0;
    sigaction(SIGINT, &old, NULL);
    if (st != REC_OK) {
        rc = fail(c, &e);
        goto out;
    }
    progress(c, "trained in %.2f s\n", secs);

    rec_eval_result ev = {0}, pop = {0};
    if (test) {
        progress(c, "evaluating on %zu test ratings ...\n",
                 rec_ratings_n_ratings(test));
        if (rec_evaluate(&ev, m, test, 10, 4.0f, &e) != REC_OK ||
            rec_evaluate_popularity(&pop, tr, test, 10, 4.0f, &e) != REC_OK) {
            rc = fail(c, &e);
            goto out;
        }
    }
    if (rec_model_save(m, out, &e) != REC_OK) {
        rc = fail(c, &e);
        goto out;
    }
    struct stat sb;
    long long bytes = stat(out, &sb) == 0 ? (long long)sb.st_size : -1;
    double train_rmse = ts.any ? ts.last.train_rmse : NAN;

    if (c->json) {
        begin_json(c);
        json_str(&c->j, "data", data);
        json_str(&c->j, "model", out);
        json_int(&c->j, "model_bytes", bytes);
        json_object(&c->j, "params");
        json_int(&c->j, "rank", p.rank);
        json_int(&c->j, "iterations", p.iterations);
        json_num(&c->j, "lambda", p.reg);
        json_num(&c->j, "bias_reg", p.bias_reg);
        json_int(&c->j, "seed", (long long)p.seed);
        json_int(&c->j, "threads", p.n_threads);
#ifdef MOVIEME_WITH_MPI
        json_int(&c->j, "mpi_ranks", cli_mpi_ranks());
#endif
        json_num(&c->j, "test_fraction", test_fraction);
        json_int(&c->j, "leave_out", leave_out);
        json_bool(&c->j, "implicit", p.implicit != 0);
        if (p.implicit) {
            json_num(&c->j, "alpha", p.alpha);
            json_str(&c->j, "solver",
                     p.solver == REC_SOLVER_CG ? "cg" : "cholesky");
            json_int(&c->j, "cg_steps", p.cg_steps);
            json_num(&c->j, "min_rating", p.implicit_min_rating);
            json_bool(&c->j, "weight_by_value",
                      p.implicit_weight_by_value != 0);
        }
        json_bool(&c->j, "hybrid", rec_model_hybrid(m) != 0);
        if (rec_model_hybrid(m)) {
            json_int(&c->j, "pref_rank",
                     p.preference_rank ? p.preference_rank : p.rank);
            /* the value training used (the automatic one by default) */
            json_num(&c->j, "pref_lambda", rec_model_preference_reg(m));
            json_bool(&c->j, "pref_lambda_auto",
                      p.preference_reg == REC_PREFERENCE_REG_AUTO);
            json_num(&c->j, "pref_alpha", p.preference_alpha);
            json_num(&c->j, "blend", p.blend);
            json_num(&c->j, "blend_shrink", p.blend_shrink);
            double pw, ps;
            rec_model_rating_pref(m, &pw, &ps);
            json_num(&c->j, "rating_pref_weight", pw);
            json_num(&c->j, "rating_pref_shift", ps);
            json_str(&c->j, "pref_confidence",
                     p.preference_confidence == REC_CONFIDENCE_SCALED
                         ? "scaled"
                         : "linear");
            json_str(&c->j, "weighting",
                     p.preference_weighting == REC_WEIGHT_BM25 ? "bm25"
                                                               : "none");
        }
        json_num(&c->j, "bias_prior", p.bias_prior);
        json_end_object(&c->j);
        json_int(&c->j, "users", (long long)rec_model_n_users(m));
        json_int(&c->j, "movies", (long long)rec_model_n_movies(m));
        json_int(&c->j, "train_ratings", (long long)rec_ratings_n_ratings(tr));
        json_num(&c->j, "train_seconds", secs);
        json_num(&c->j, "train_rmse", train_rmse);
        if (test) {
            json_int(&c->j, "test_ratings",
                     (long long)rec_ratings_n_ratings(test));
            json_num(&c->j, "test_rmse", ev.rmse);
            json_eval(&c->j, "test", &ev);
            json_eval(&c->j, "popularity", &pop);
        }
        if (tuning)
            tune_emit(c, &tuned);
    } else {
        if (tuning)
            tune_emit(c, &tuned);
        printf("trained rank %d, %d iterations, lambda %g on %zu ratings "
               "(%zu users, %zu movies) in %.2f s\n",
               p.rank, p.iterations, p.reg, rec_ratings_n_ratings(tr),
               rec_model_n_users(m), rec_model_n_movies(m), secs);
        double pw, ps;
        rec_model_rating_pref(m, &pw, &ps);
        if (pw != 0.0 || ps != 0.0)
            printf("predicted ratings add %.4g x the preference score %+.4g\n",
                   pw, ps);
        printf("train RMSE %.4f\n", train_rmse);
        if (test) {
            if (leave_out > 0)
                printf("test RMSE %.4f on %zu held-out ratings (%ld per "
                       "user)\n",
                       ev.rmse, ev.n_predictions, leave_out);
            else
                printf("test RMSE %.4f on %zu held-out ratings (fraction "
                       "%g)\n",
                       ev.rmse, ev.n_predictions, test_fraction);
            if (p.implicit)
                printf("  (implicit model: scores are preferences, so its "
                       "RMSE/MAE against ratings mean little)\n");
            text_eval(&ev, "  ");
            printf("popularity baseline:\n");
            text_eval(&pop, "  ");
        }
        printf("saved %s (%lld bytes)\n", out, bytes);
    }
    rc = done(c);
out:
    tune_free(&tuned);
    rec_model_free(m);
    rec_ratings_free(train);
    rec_ratings_free(test);
    rec_ratings_free(all);
    return rc;
}

#ifdef MOVIEME_WITH_MPI
/* train --mpi: rank 0 runs the command above, the other ranks only join
   the training; MPI is finished (or the job aborted) on the way out. */
int cmd_train(ctx *c)
{
    int rank = 0;
    int rc = cli_mpi_begin(&rank, c->cmd, &c->args);
    if (rc == CLI_MPI_OFF)
        return run_train(c);
    if (rc != EXIT_OK)
        return rc;
    if (rank == 0)
        rc = run_train(c);
    else
        rc = cli_mpi_worker(&c->args);
    return cli_mpi_end(rc);
}
#else
int cmd_train(ctx *c)
{
    return run_train(c);
}
#endif
