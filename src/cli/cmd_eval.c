/*
 * cmd_eval.c - `movieme eval`: a saved model's metrics on test ratings.
 */
#include "cli.h"


const cli_opt eval_opts[] = {
    {"--model", "-m", "MODEL", "a model saved by 'movieme train'", false},
    {"--test", NULL, "PATH", "test ratings: a MovieLens directory or file",
     false},
    {"--k", "-k", "K", "cut-off of the ranking metrics (default 10)", false},
    {"--relevant", NULL, "R",
     "least rating of a relevant test movie (default 4)", false},
    {"--train", NULL, "PATH",
     "the model's training ratings: also evaluate the popularity baseline",
     false},
    OPT_JSON, OPT_QUIET, OPT_END,
};

int cmd_eval(ctx *c)
{
    const char *model = need(c, "--model", "MODEL");
    const char *test = model ? need(c, "--test", "PATH") : NULL;
    long k;
    double relevant;
    if (!test || !opt_long(&k, c, "--k", 10, 1, 1000000) ||
        !opt_double(&relevant, c, "--relevant", 4.0, -1e9, 1e9))
        return EXIT_USAGE;

    rec_error e = {0};
    rec_model *m = NULL;
    rec_ratings *t = NULL, *tr = NULL;
    const char *train = cli_get(&c->args, "--train");
    rec_eval_result ev, pop;
    int rc;
    if (load_model(&m, c, model, &e) != REC_OK ||
        load_data(&t, c, test, &e) != REC_OK ||
        (train && load_data(&tr, c, train, &e) != REC_OK)) {
        rc = fail(c, &e);
        goto out;
    }
    progress(c, "evaluating ...\n");
    if (rec_evaluate(&ev, m, t, (int)k, (float)relevant, &e) != REC_OK ||
        (tr && rec_evaluate_popularity(&pop, tr, t, (int)k, (float)relevant,
                                       &e) != REC_OK)) {
        rc = fail(c, &e);
        goto out;
    }
    if (c->json) {
        begin_json(c);
        json_str(&c->j, "model", model);
        json_str(&c->j, "test", test);
        json_num(&c->j, "relevant_min", relevant);
        json_num(&c->j, "rmse", ev.rmse);
        json_num(&c->j, "mae", ev.mae);
        json_num(&c->j, "precision_at_k", ev.precision_at_k);
        json_num(&c->j, "recall_at_k", ev.recall_at_k);
        json_num(&c->j, "ndcg_at_k", ev.ndcg_at_k);
        json_num(&c->j, "map_at_k", ev.map_at_k);
        json_int(&c->j, "k", ev.k);
        json_int(&c->j, "n_predictions", (long long)ev.n_predictions);
        json_int(&c->j, "n_users_ranked", (long long)ev.n_users_ranked);
        json_num(&c->j, "auc", ev.auc);
        json_num(&c->j, "coverage", ev.coverage);
        json_num(&c->j, "median_train_count", ev.median_train_count);
        json_bool(&c->j, "implicit", rec_model_implicit(m) != 0);
        if (tr)
            json_eval(&c->j, "popularity", &pop);
    } else {
        printf("%s on %s:\n", model, test);
        text_eval(&ev, "  ");
        if (tr) {
            printf("popularity baseline (trained on %s):\n", train);
            text_eval(&pop, "  ");
        }
    }
    rc = done(c);
out:
    rec_model_free(m);
    rec_ratings_free(t);
    rec_ratings_free(tr);
    return rc;
}
