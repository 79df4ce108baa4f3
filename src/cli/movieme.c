/*
 * movieme.c - the `movieme` command: stats, train, eval, recommend, similar,
 * tune: the command table and main(); each command lives in cmd_NAME.c.
 *
 * Uses only the public header. Results go to stdout (human text, or one
 * JSON object with --json), progress to stderr (silenced by --quiet).
 * Exit codes: 0 success, 1 the job failed, 2 bad command line.
 */
#include "cli.h"

#include <string.h>

/* ---- main -------------------------------------------------------------- */

static const cli_cmd commands[] = {
    {"stats", "--data PATH [--top N] [--min-count M] [--prior W] [--genre G]",
     "Summarise a dataset and list its best movies by a Bayesian average.",
     stats_opts},
    {"train",
     "--data PATH --out MODEL [--rank K] [--iters N] [--lambda L] [--seed S] "
     "[--threads T] [--test-fraction F | --leave-out K] [--implicit "
     "[--alpha A] [--solver cg|cholesky] [--cg-steps N] [--min-rating R] "
     "[--weight-by-value]]",
     "Train an ALS model (explicit, or implicit feedback) and save it; with "
     "--test-fraction or --leave-out, report the RMSE and ranking metrics on "
     "held-out ratings beside the popularity baseline.",
     train_opts},
    {"eval", "--model MODEL --test PATH [--k K] [--train PATH]",
     "RMSE, MAE, precision@k, recall@k, nDCG@k, MAP@k and AUC of a saved "
     "model on test ratings; with --train, the popularity baseline too.",
     eval_opts},
    {"recommend",
     "--model MODEL (--user ID | --rate MOVIE=RATING ... | --all [--users "
     "FILE] --out FILE) [-n N]",
     "The best movies for a known user, or for a new user from their ratings "
     "(folded in on the spot, the model file is not changed); with --all, "
     "for every user at once.",
     recommend_opts},
    {"similar", "--model MODEL --movie ID [-n N]",
     "The movies closest to a movie by the cosine of their factors.",
     similar_opts},
    {"tune",
     "--data PATH [--metric rmse|ndcg] [--folds K | --validation F | "
     "--tune-leave-out K] [--grid NAME=V1,V2,... ...] [--rank K] [--iters N]",
     "Search ALS parameters on a validation split of the data (warm starts "
     "along each regularisation path) and print every point tried and the "
     "best (docs/tuning.md).",
     tune_opts},
};

static int (*const runners[])(ctx *) = {
    cmd_stats, cmd_train, cmd_eval, cmd_recommend, cmd_similar, cmd_tune,
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "Usage: movieme COMMAND [OPTIONS]\n\n"
               "Movie recommendations with ALS (libmovieme %s).\n\n"
               "Commands:\n",
            rec_version_string());
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].synopsis);
    fprintf(f, "\nEvery command takes --json (one JSON object on stdout) and "
               "--help.\n'movieme --version' prints the version.\n"
               "Exit status: 0 success, 1 failure, 2 bad command line.\n");
}

int main(int argc, char **argv)
{
    train_help_init();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        strcmp(name, "help") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0)
            for (size_t i = 0; i < N_COMMANDS; i++)
                if (strcmp(argv[2], commands[i].name) == 0) {
                    cli_help(stdout, &commands[i]);
                    return EXIT_OK;
                }
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("movieme %s (libmovieme %s)\n", REC_VERSION_STRING,
               rec_version_string());
        return EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(name, commands[i].name) != 0)
            continue;
        ctx c = {.cmd = &commands[i]};
        if (!cli_parse(&c.args, c.cmd, argc - 2, argv + 2)) {
            cli_args_free(&c.args);
            return EXIT_USAGE;
        }
        int rc;
        if (c.args.help) {
            cli_help(stdout, c.cmd);
            rc = EXIT_OK;
        } else {
            c.json = cli_get(&c.args, "--json") != NULL;
            c.quiet = cli_get(&c.args, "--quiet") != NULL;
            rc = runners[i](&c);
        }
        cli_args_free(&c.args);
        return rc;
    }
    fprintf(stderr, "movieme: unknown command '%s'\n", name);
    usage(stderr);
    return EXIT_USAGE;
}
