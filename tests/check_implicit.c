/* check_implicit.c - implicit-feedback ALS and ranking evaluation:
   parameters (v1 structs still accepted), determinism across threads, CG
   against Cholesky, fold-in against training and against a full retrain,
   model files, progress and cancel, the leave-k-out split, AUC, the
   popularity baseline, and the headline: on ml-latest-small the implicit
   model beats popularity by a clear margin in nDCG@10. */
#include <check.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "als_fixture.h"

static rec_als_params imp_params(int rank, int solver, int threads)
{
    rec_als_params p;
    rec_als_params_init(&p);
    p.implicit = 1;
    p.rank = rank;
    p.solver = solver;
    p.n_threads = threads;
    p.iterations = 8;
    return p;
}

static rec_model *imp_train(const rec_ratings *r, const rec_als_params *p)
{
    rec_model *m = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_train_als(&m, r, p, &e), &e);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_ne(rec_model_implicit(m), 0);
    return m;
}

static int same_factors(const rec_model *a, const rec_model *b)
{
    size_t k = (size_t)a->rank;
    return a->rank == b->rank && a->n_users == b->n_users &&
           a->n_movies == b->n_movies &&
           memcmp(a->user_factors, b->user_factors,
                  a->n_users * k * sizeof(float)) == 0 &&
           memcmp(a->movie_factors, b->movie_factors,
                  a->n_movies * k * sizeof(float)) == 0;
}

START_TEST(test_params_v2_defaults)
{
    rec_als_params p;
    memset(&p, 0xab, sizeof p);
    rec_als_params_init(&p);
    ck_assert_uint_eq(p.version, 4);
    ck_assert_int_eq(p.implicit, 0);
    /* version 4: no preference term in predicted ratings until tuned */
    ck_assert(p.rating_pref_weight == 0.0 && p.rating_pref_shift == 0.0);
    /* version 3: the hybrid model, with its preference part */
    ck_assert_int_eq(p.preference, 1);
    ck_assert_int_eq(p.preference_rank, 128);
    ck_assert_int_eq(p.preference_weighting, REC_WEIGHT_BM25);
    ck_assert_int_eq(p.implicit_weighting, REC_WEIGHT_NONE);
    ck_assert(p.blend > 0.0 && p.bias_prior > 0.0);
    ck_assert(p.preference_reg == REC_PREFERENCE_REG_AUTO);
    ck_assert_double_eq_tol(p.alpha, 1.0, 1e-12);
    ck_assert_int_eq(p.solver, REC_SOLVER_CG);
    ck_assert_int_eq(p.cg_steps, 3);
    ck_assert_float_eq(p.implicit_min_rating, 0.0f);
    ck_assert_int_eq(p.implicit_weight_by_value, 0);
}
END_TEST

/* A caller built against version 1 passes a shorter struct: the library
   must not read the new fields. */
START_TEST(test_params_v1_struct)
{
    rec_ratings *r = fx_ratings(25, 18, 0.5);
    size_t v1 = offsetof(rec_als_params, implicit);
    unsigned char *buf = malloc(v1); /* exactly a v1 struct (ASan sees) */
    ck_assert_ptr_nonnull(buf);
    rec_als_params full;
    rec_als_params_init(&full);
    full.rank = 4;
    full.n_threads = 1;
    memcpy(buf, &full, v1);
    uint32_t one = 1;
    memcpy(buf + offsetof(rec_als_params, version), &one, sizeof one);
    rec_model *a = NULL, *b = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_train_als(&a, r, (const rec_als_params *)(void *)buf,
                               &e),
                 &e);
    /* a full struct that says version 1 with implicit set: explicit */
    full.version = 1;
    full.implicit = 1;
    full.alpha = -5.0; /* would be rejected if read */
    ck_assert_ok(rec_train_als(&b, r, &full, &e), &e);
    ck_assert_int_eq(rec_model_implicit(a), 0);
    ck_assert_int_eq(rec_model_implicit(b), 0);
    ck_assert(same_factors(a, b));
    ck_assert_int_ne(a->has_biases, 0);
    rec_model_free(a);
    rec_model_free(b);
    free(buf);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_deterministic_threads)
{
    rec_ratings *r = fx_ratings(120, 70, 0.2);
    for (int solver = 0; solver < 2; solver++) {
        rec_als_params p = imp_params(13, solver, 1); /* odd rank: tails */
        rec_model *m1 = imp_train(r, &p);
        p.n_threads = 2;
        rec_model *m2 = imp_train(r, &p);
        p.n_threads = 3;
        rec_model *m3 = imp_train(r, &p);
        rec_model *m4 = imp_train(r, &p);
        ck_assert_msg(same_factors(m1, m2), "solver %d: 1 vs 2 threads",
                      solver);
        ck_assert(same_factors(m1, m3));
        ck_assert(same_factors(m3, m4));
        ck_assert(memcmp(m1->yty, m2->yty, 13 * 13 * sizeof(double)) == 0);
        p.seed = 7;
        rec_model *m5 = imp_train(r, &p);
        ck_assert(!same_factors(m1, m5));
        rec_model_free(m1);
        rec_model_free(m2);
        rec_model_free(m3);
        rec_model_free(m4);
        rec_model_free(m5);
    }
    rec_ratings_free(r);
}
END_TEST

/* Mean and largest |difference| of the preference scores of two models
   over every (user, movie). */
static void score_diff(const rec_model *a, const rec_model *b, double *mean,
                       double *max)
{
    double s = 0.0, mx = 0.0;
    size_t n = 0;
    for (size_t u = 0; u < a->n_users; u++)
        for (size_t j = 0; j < a->n_movies; j++) {
            float pa, pb;
            ck_assert_ok(rec_predict(&pa, a, a->user_ids[u], a->movie_ids[j],
                                     NULL),
                         (rec_error *)NULL);
            ck_assert_ok(rec_predict(&pb, b, a->user_ids[u], a->movie_ids[j],
                                     NULL),
                         (rec_error *)NULL);
            double d = fabs((double)pa - pb);
            s += d;
            if (d > mx)
                mx = d;
            n++;
        }
    *mean = s / (double)n;
    *max = mx;
}

START_TEST(test_cg_matches_cholesky)
{
    rec_ratings *r = fx_ratings(150, 80, 0.15);
    rec_als_params p = imp_params(8, REC_SOLVER_CHOLESKY, 2);
    p.iterations = 15;
    p.alpha = 2.0;
    p.reg = 0.5;
    rec_model *ch = imp_train(r, &p);
    p.solver = REC_SOLVER_CG;
    rec_model *cg = imp_train(r, &p);
    double mean, max;
    score_diff(ch, cg, &mean, &max);
    ck_assert_msg(mean < 0.01 && max < 0.1,
                  "CG vs Cholesky (3 steps): mean |d| %g, max %g", mean, max);
    p.cg_steps = 20; /* more steps: closer still */
    rec_model *cg20 = imp_train(r, &p);
    double mean20, max20;
    score_diff(ch, cg20, &mean20, &max20);
    ck_assert_msg(mean20 < 1e-3 && mean20 <= mean,
                  "CG 20 steps: mean |d| %g (3 steps %g)", mean20, mean);
    rec_model_free(ch);
    rec_model_free(cg);
    rec_model_free(cg20);
    rec_ratings_free(r);
}
END_TEST

/* The eigenbasis of Y^T Y (als_implicit.c): the same model up to rounding
   as the plain basis (CG's iterates are those of an orthogonal change of
   basis), on both sides and with an odd rank; bit-identical whatever the
   thread count; and the Y^T Y kept for fold-in is that of the movie
   factors returned (in the basis they end in). */
static void fit_basis(float **X, float **Y, double **yty, const rec_ratings *r,
                      int eigenbasis, int nt)
{
    rec_implicit_cfg g = {.k = 13, .iterations = 8, .solver = REC_SOLVER_CG,
                          .cg_steps = 3, .lambda = 0.5, .alpha = 2.0,
                          .conf_base = 1.0, .seed = 42,
                          .eigenbasis = eigenbasis};
    *X = malloc(r->n_users * 13 * sizeof **X);
    *Y = malloc(r->n_movies * 13 * sizeof **Y);
    rec_error e = {0};
    ck_assert_ok(rec__implicit_fit(*X, *Y, yty, r, r->user_vals,
                                   r->movie_vals, &g, nt, NULL, NULL, &e),
                 &e);
}

START_TEST(test_eigenbasis)
{
    /* more movies than users, then more users than movies: each side in
       turn is the one that turns */
    size_t shapes[2][2] = {{40, 300}, {300, 40}};
    for (int sh = 0; sh < 2; sh++) {
        rec_ratings *r = fx_ratings(shapes[sh][0], shapes[sh][1], 0.2);
        float *X0, *Y0, *X1, *Y1, *X2, *Y2;
        double *g0, *g1, *g2, *want;
        fit_basis(&X0, &Y0, &g0, r, -1, 2);
        fit_basis(&X1, &Y1, &g1, r, 1, 2);
        fit_basis(&X2, &Y2, &g2, r, 1, 1);
        ck_assert(memcmp(X1, X2, r->n_users * 13 * sizeof *X1) == 0);
        ck_assert(memcmp(Y1, Y2, r->n_movies * 13 * sizeof *Y1) == 0);
        ck_assert(memcmp(X0, X1, r->n_users * 13 * sizeof *X1) != 0);
        double mean = 0.0, max = 0.0;
        for (size_t u = 0; u < r->n_users; u++)
            for (size_t j = 0; j < r->n_movies; j++) {
                double a = 0.0, b = 0.0;
                for (int f = 0; f < 13; f++) {
                    a += (double)X0[u * 13 + f] * Y0[j * 13 + f];
                    b += (double)X1[u * 13 + f] * Y1[j * 13 + f];
                }
                mean += fabs(a - b);
                max = fmax(max, fabs(a - b));
            }
        mean /= (double)(r->n_users * r->n_movies);
        ck_assert_msg(mean < 1e-5 && max < 1e-4,
                      "shape %d: eigenbasis vs plain: mean |d| %g, max %g",
                      sh, mean, max);
        rec_error e = {0};
        ck_assert_ok(rec__gram_of(&want, Y1, r->n_movies, 13, &e), &e);
        ck_assert(memcmp(want, g1, 13 * 13 * sizeof *want) == 0);
        free(want);
        free(X0), free(Y0), free(X1), free(Y1), free(X2), free(Y2);
        free(g0), free(g1), free(g2);
        rec_ratings_free(r);
    }
}
END_TEST

/* rec_predict is the preference x.y: not clamped, no biases; unknown ids
   score 0. Top-n ranks by it. */
START_TEST(test_predict_is_preference)
{
    rec_ratings *r = fx_ratings(40, 30, 0.3);
    rec_als_params p = imp_params(5, REC_SOLVER_CHOLESKY, 1);
    rec_model *m = imp_train(r, &p);
    ck_assert_float_eq(rec_model_global_mean(m), 0.0f);
    int32_t uid = m->user_ids[3];
    rec_scored top[5];
    size_t got;
    rec_error e = {0};
    ck_assert_ok(rec_top_n(top, 5, &got, m, uid, &e), &e);
    ck_assert_uint_eq(got, 5);
    for (size_t i = 0; i < got; i++) {
        float pr, x[5], y[5], bias;
        ck_assert_ok(rec_predict(&pr, m, uid, top[i].movie_id, &e), &e);
        ck_assert_float_eq(pr, top[i].score);
        ck_assert_ok(rec_model_user_factors(x, 5, &bias, m, uid, &e), &e);
        ck_assert_float_eq(bias, 0.0f);
        ck_assert_ok(rec_model_movie_factors(y, 5, NULL, m, top[i].movie_id,
                                             &e),
                     &e);
        double d = 0.0;
        for (int f = 0; f < 5; f++)
            d += (double)x[f] * y[f];
        ck_assert_double_eq_tol(pr, d, 1e-5);
        ck_assert(pr < 2.0f); /* a preference, not a rating */
    }
    float pr;
    ck_assert_ok(rec_predict(&pr, m, 999999, m->movie_ids[0], &e), &e);
    ck_assert_float_eq(pr, 0.0f);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

/* The user half-step runs last, with the final movie factors: folding in
   a trained user's own ratings gives back their factors (Cholesky). */
START_TEST(test_foldin_matches_training)
{
    rec_ratings *r = fx_ratings(60, 40, 0.3);
    rec_als_params p = imp_params(6, REC_SOLVER_CHOLESKY, 2);
    p.implicit_min_rating = 3.0f; /* some ratings are not interactions */
    p.implicit_weight_by_value = 1;
    p.alpha = 3.0;
    rec_model *m = imp_train(r, &p);
    rec_error e = {0};
    for (size_t u = 0; u < m->n_users; u += 7) {
        const int32_t *items;
        const float *vals;
        size_t n;
        rec__model_user_rated(m, u, &items, &vals, &n);
        rec_movie_rating *mr = malloc((n ? n : 1) * sizeof *mr);
        for (size_t i = 0; i < n; i++) {
            mr[i].movie_id = m->movie_ids[items[i]];
            mr[i].rating = vals[i];
        }
        rec_model *c = NULL;
        ck_assert_ok(rec_model_copy(&c, m, &e), &e);
        int32_t id;
        ck_assert_ok(rec_add_user(&id, c, REC_NEW_USER, mr, n, &e), &e);
        float x[6], y[6];
        ck_assert_ok(rec_model_user_factors(x, 6, NULL, c, id, &e), &e);
        ck_assert_ok(rec_model_user_factors(y, 6, NULL, m, m->user_ids[u],
                                            &e),
                     &e);
        for (int f = 0; f < 6; f++)
            ck_assert_msg(fabsf(x[f] - y[f]) <= 1e-4f * (1.0f + fabsf(y[f])),
                          "user %zu factor %d: fold-in %g, trained %g", u, f,
                          (double)x[f], (double)y[f]);
        /* rec_recommend_for_ratings ranks the same vector */
        rec_scored a[10], b[10];
        size_t na, nb;
        ck_assert_ok(rec_recommend_for_ratings(a, 10, &na, m, mr, n, &e), &e);
        ck_assert_ok(rec_top_n(b, 10, &nb, c, id, &e), &e);
        ck_assert_uint_eq(na, nb);
        for (size_t i = 0; i < na; i++)
            ck_assert_int_eq(a[i].movie_id, b[i].movie_id);
        rec_model_free(c);
        free(mr);
    }
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

/* Fold-in against a full retrain: train without the last user, fold them
   in; train with them; their scores over every movie agree closely. */
START_TEST(test_foldin_matches_retrain)
{
    rec_ratings *all = fx_ratings(200, 60, 0.25);
    size_t last = all->n_users - 1;
    int32_t uid = all->user_ids[last];
    rec_ratings *without = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_ratings_new(&without, &e), &e);
    size_t n_rows = (size_t)all->user_off[last];
    rec_rating *rows = malloc(n_rows * sizeof *rows);
    size_t w = 0;
    for (size_t u = 0; u < last; u++)
        for (uint64_t t = all->user_off[u]; t < all->user_off[u + 1]; t++) {
            rows[w].user_id = all->user_ids[u];
            rows[w].movie_id = all->movie_ids[all->user_items[t]];
            rows[w++].rating = all->user_vals[t];
        }
    ck_assert_ok(rec_ratings_add(without, rows, w, &e), &e);
    free(rows);
    ck_assert_uint_eq(without->n_movies, all->n_movies);
    size_t n = (size_t)(all->user_off[last + 1] - all->user_off[last]);
    rec_movie_rating *mr = malloc(n * sizeof *mr);
    for (size_t i = 0; i < n; i++) {
        uint64_t t = all->user_off[last] + i;
        mr[i].movie_id = all->movie_ids[all->user_items[t]];
        mr[i].rating = all->user_vals[t];
    }
    /* the data is of rank about 3: a larger rank leaves directions free
       to differ between two trainings */
    rec_als_params p = imp_params(3, REC_SOLVER_CHOLESKY, 2);
    p.iterations = 40;
    p.reg = 1.0;
    rec_model *full = imp_train(all, &p);
    rec_model *part = imp_train(without, &p);
    int32_t got_id;
    ck_assert_ok(rec_add_user(&got_id, part, uid, mr, n, &e), &e);
    ck_assert_int_eq(got_id, uid);
    double s = 0.0, mx = 0.0;
    for (size_t j = 0; j < all->n_movies; j++) {
        float a, b;
        ck_assert_ok(rec_predict(&a, full, uid, all->movie_ids[j], &e), &e);
        ck_assert_ok(rec_predict(&b, part, uid, all->movie_ids[j], &e), &e);
        double d = fabs((double)a - b);
        s += d;
        mx = d > mx ? d : mx;
    }
    s /= (double)all->n_movies;
    ck_assert_msg(s < 0.03 && mx < 0.08,
                  "fold-in vs retrain: mean |d| %g, max %g", s, mx);
    rec_model_free(full);
    rec_model_free(part);
    free(mr);
    rec_ratings_free(without);
    rec_ratings_free(all);
}
END_TEST

START_TEST(test_model_file)
{
    rec_ratings *r = fx_ratings(50, 30, 0.3);
    rec_als_params p = imp_params(7, REC_SOLVER_CG, 2);
    p.alpha = 4.5;
    p.implicit_min_rating = 2.5f;
    p.implicit_weight_by_value = 1;
    rec_model *m = imp_train(r, &p);
    const char *path = tmp_path("implicit.model");
    rec_error e = {0};
    ck_assert_ok(rec_model_save(m, path, &e), &e);
    rec_model *l = NULL;
    ck_assert_ok(rec_model_load(&l, path, &e), &e);
    ck_assert_int_ne(rec_model_implicit(l), 0);
    ck_assert_double_eq(l->alpha, 4.5);
    ck_assert_float_eq(l->implicit_min_rating, 2.5f);
    ck_assert_int_eq(l->implicit_weight_by_value, 1);
    ck_assert(same_factors(m, l));
    /* Y^T Y recomputed on load equals the training's, bit for bit */
    ck_assert(memcmp(m->yty, l->yty, 7 * 7 * sizeof(double)) == 0);
    rec_movie_rating mr[] = {{m->movie_ids[0], 4.0f},
                             {m->movie_ids[3], 5.0f},
                             {m->movie_ids[5], 2.0f}};
    rec_scored a[8], b[8];
    size_t na, nb;
    ck_assert_ok(rec_recommend_for_ratings(a, 8, &na, m, mr, 3, &e), &e);
    ck_assert_ok(rec_recommend_for_ratings(b, 8, &nb, l, mr, 3, &e), &e);
    ck_assert_uint_eq(na, nb);
    ck_assert(memcmp(a, b, na * sizeof *a) == 0);
    /* a copy keeps Y^T Y */
    rec_model *c = NULL;
    ck_assert_ok(rec_model_copy(&c, l, &e), &e);
    ck_assert(memcmp(c->yty, l->yty, 7 * 7 * sizeof(double)) == 0);
    ck_assert_int_ne(rec_model_implicit(c), 0);
    rec_model_free(c);
    rec_model_free(l);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

typedef struct plog {
    int calls, cancel_at;
    double loss[32];
} plog;

static int on_progress(void *ud, const rec_progress *pr)
{
    plog *l = ud;
    if (l->calls < 32)
        l->loss[l->calls] = pr->loss;
    l->calls++;
    ck_assert(isfinite(pr->train_rmse) && isfinite(pr->loss));
    return l->cancel_at && l->calls >= l->cancel_at;
}

START_TEST(test_progress_and_cancel)
{
    rec_ratings *r = fx_ratings(60, 40, 0.3);
    rec_als_params p = imp_params(5, REC_SOLVER_CHOLESKY, 2);
    plog log = {0};
    p.progress = on_progress;
    p.progress_userdata = &log;
    rec_model *m = imp_train(r, &p);
    ck_assert_int_eq(log.calls, 8);
    for (int i = 1; i < 8; i++) /* exact ALS never increases the loss */
        ck_assert_msg(log.loss[i] <= log.loss[i - 1] * (1 + 1e-6),
                      "loss rose at %d: %g -> %g", i, log.loss[i - 1],
                      log.loss[i]);
    rec_model_free(m);
    plog stop = {.cancel_at = 3};
    p.progress_userdata = &stop;
    p.solver = REC_SOLVER_CG;
    m = (rec_model *)&stop;
    rec_error e = {0};
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_ECANCELED);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(stop.calls, 3);
    ck_assert_int_eq(e.code, REC_ECANCELED);
    rec_ratings_free(r);
}
END_TEST

/* Ratings that do not count: below the threshold they are no interaction;
   a user without one gets zero factors; the threshold changes the model. */
START_TEST(test_interactions_from_ratings)
{
    rec_ratings *r = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_ratings_new(&r, &e), &e);
    rec_rating rows[] = {{1, 10, 5.0f}, {1, 11, 4.0f}, {2, 10, 4.5f},
                         {2, 12, 1.0f}, {3, 12, 2.0f}, {3, 11, 1.5f},
                         {4, 10, 4.0f}, {4, 11, 5.0f}, {4, 12, 0.0f}};
    ck_assert_ok(rec_ratings_add(r, rows, 9, &e), &e);
    rec_als_params p = imp_params(3, REC_SOLVER_CHOLESKY, 1);
    p.implicit_min_rating = 3.5f;
    rec_model *m = imp_train(r, &p);
    float x[3];
    ck_assert_ok(rec_model_user_factors(x, 3, NULL, m, 3, &e), &e);
    ck_assert(x[0] == 0.0f && x[1] == 0.0f && x[2] == 0.0f);
    ck_assert_ok(rec_model_movie_factors(x, 3, NULL, m, 12, &e), &e);
    ck_assert(x[0] == 0.0f && x[1] == 0.0f && x[2] == 0.0f);
    p.implicit_min_rating = 0.0f;
    rec_model *all = imp_train(r, &p);
    ck_assert_ok(rec_model_user_factors(x, 3, NULL, all, 3, &e), &e);
    ck_assert(x[0] != 0.0f || x[1] != 0.0f || x[2] != 0.0f);
    p.implicit_weight_by_value = 1;
    rec_model *byv = imp_train(r, &p);
    ck_assert(!same_factors(all, byv));
    for (int solver = 0; solver < 2; solver++) { /* all ratings below */
        p.solver = solver;
        p.implicit_min_rating = 9.0f;
        rec_model *none = imp_train(r, &p);
        for (size_t i = 0; i < none->n_users * 3; i++)
            ck_assert(none->user_factors[i] == 0.0f);
        rec_model_free(none);
    }
    rec_model_free(m);
    rec_model_free(all);
    rec_model_free(byv);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_split_per_user)
{
    rec_ratings *r = fx_ratings(80, 40, 0.2);
    rec_ratings *tr = NULL, *te = NULL, *tr2 = NULL, *te2 = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_ratings_split_per_user(&tr, &te, r, 3, 11, &e), &e);
    ck_assert_uint_eq(tr->nnz + te->nnz, r->nnz);
    size_t expect = 0;
    for (size_t u = 0; u < r->n_users; u++) {
        size_t n = (size_t)(r->user_off[u + 1] - r->user_off[u]);
        int32_t tu = rec__idmap_get(&te->user_map, r->user_ids[u]);
        int32_t ru = rec__idmap_get(&tr->user_map, r->user_ids[u]);
        ck_assert_int_ge(ru, 0); /* every user keeps training ratings */
        size_t nt = tu < 0 ? 0
                           : (size_t)(te->user_off[tu + 1] - te->user_off[tu]);
        ck_assert_uint_eq(nt, n > 3 ? 3 : 0);
        expect += n > 3 ? 3 : 0;
    }
    ck_assert_uint_eq(te->nnz, expect);
    /* same seed, same split; another seed, another split */
    ck_assert_ok(rec_ratings_split_per_user(&tr2, &te2, r, 3, 11, &e), &e);
    ck_assert_uint_eq(te2->nnz, te->nnz);
    ck_assert(memcmp(te->user_items, te2->user_items,
                     te->nnz * sizeof(int32_t)) == 0);
    rec_ratings_free(tr2);
    rec_ratings_free(te2);
    ck_assert_ok(rec_ratings_split_per_user(&tr2, &te2, r, 3, 12, &e), &e);
    ck_assert(memcmp(te->user_items, te2->user_items,
                     te->nnz * sizeof(int32_t)) != 0);
    ck_assert_uint_eq(rec_ratings_n_movies(tr), rec_ratings_n_movies(r));
    rec_ratings_free(tr2);
    rec_ratings_free(te2);
    rec_ratings_free(tr);
    rec_ratings_free(te);
    rec_ratings_free(r);
}
END_TEST

/* Popularity on a hand-checked case, with the AUC by hand. Movies 1..5
   with training counts 4, 3, 2, 1, 0 (movie 5 has metadata only). */
START_TEST(test_popularity_and_auc)
{
    rec_ratings *tr = NULL, *te = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_ratings_new(&tr, &e), &e);
    ck_assert_ok(rec_ratings_new(&te, &e), &e);
    rec_rating rows[] = {{1, 1, 5}, {2, 1, 4}, {3, 1, 3}, {4, 1, 2},
                         {2, 2, 4}, {3, 2, 4}, {4, 2, 4}, {3, 3, 1},
                         {4, 3, 2}, {4, 4, 5}};
    ck_assert_ok(rec_ratings_add(tr, rows, 10, &e), &e);
    ck_assert_ok(rec_ratings_set_movie(tr, 5, "Five (2000)", NULL, &e), &e);
    /* user 1 rated movie 1 in training; in test: 3 (relevant) and 4 (not) */
    rec_rating test[] = {{1, 3, 5}, {1, 4, 1}, {9, 2, 5}};
    ck_assert_ok(rec_ratings_add(te, test, 3, &e), &e);
    rec_eval_result ev;
    ck_assert_ok(rec_evaluate_popularity(&ev, tr, te, 2, 4.0f, &e), &e);
    /* user 1's ranking: 2 (3), 3 (2), 4 (1); movie 5 has no training
       rating, so it is no candidate; relevant {3} */
    ck_assert_uint_eq(ev.n_users_ranked, 1); /* user 9 unknown */
    ck_assert_double_eq_tol(ev.precision_at_k, 0.5, 1e-12);
    ck_assert_double_eq_tol(ev.recall_at_k, 1.0, 1e-12);
    ck_assert_double_eq_tol(ev.ndcg_at_k, 1.0 / log2(3.0), 1e-12);
    /* movie 3 against the other candidates {2, 4}: above 4, below 2 */
    ck_assert_double_eq_tol(ev.auc, 0.5, 1e-12);
    /* predictions are movie means: 3 -> 1.5 (true 5), 4 -> 5 (1), 2 -> 4 */
    ck_assert_double_eq_tol(ev.rmse,
                            sqrt((3.5 * 3.5 + 4.0 * 4.0 + 1.0) / 3.0), 1e-6);
    ck_assert_uint_eq(ev.n_predictions, 3);
    rec_ratings_free(tr);
    rec_ratings_free(te);
}
END_TEST

/* The headline number: leave-5-out on ml-latest-small, relevant = rated
   4 or more, nDCG@10 of the implicit model vs the popularity baseline. */
START_TEST(test_beats_popularity_movielens)
{
    rec_ratings *all = NULL, *tr = NULL, *te = NULL;
    rec_error e = {0};
    ck_assert_ok(rec_load_movielens(&all, repo_data("ml-latest-small"), &e),
                 &e);
    ck_assert_ok(rec_ratings_split_per_user(&tr, &te, all, 5, 1, &e), &e);
    rec_eval_result pop, imp;
    ck_assert_ok(rec_evaluate_popularity(&pop, tr, te, 10, 4.0f, &e), &e);
    rec_als_params p = imp_params(32, REC_SOLVER_CG, 2);
    p.iterations = 15;
    rec_model *m = imp_train(tr, &p);
    ck_assert_ok(rec_evaluate(&imp, m, te, 10, 4.0f, &e), &e);
    printf("ml-latest-small leave-5-out, %zu users: nDCG@10 implicit %.4f "
           "vs popularity %.4f; P@10 %.4f vs %.4f; MAP@10 %.4f vs %.4f; "
           "AUC %.4f vs %.4f\n",
           imp.n_users_ranked, imp.ndcg_at_k, pop.ndcg_at_k,
           imp.precision_at_k, pop.precision_at_k, imp.map_at_k,
           pop.map_at_k, imp.auc, pop.auc);
    ck_assert_uint_eq(imp.n_users_ranked, pop.n_users_ranked);
    ck_assert_msg(imp.ndcg_at_k >= 1.5 * pop.ndcg_at_k,
                  "nDCG@10 implicit %.4f, popularity %.4f", imp.ndcg_at_k,
                  pop.ndcg_at_k);
    ck_assert(imp.map_at_k > 1.5 * pop.map_at_k);
    ck_assert(imp.auc > pop.auc && pop.auc > 0.5);
    rec_model_free(m);
    rec_ratings_free(tr);
    rec_ratings_free(te);
    rec_ratings_free(all);
}
END_TEST

START_TEST(test_bad_params)
{
    rec_ratings *r = fx_ratings(20, 10, 0.5);
    rec_model *m = NULL;
    rec_error e = {0};
    rec_als_params p = imp_params(4, REC_SOLVER_CG, 1);
    p.alpha = 0.0;
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "alpha"));
    p.alpha = NAN;
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
    p = imp_params(4, 7, 1);
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "solver"));
    p = imp_params(4, REC_SOLVER_CG, 1);
    p.cg_steps = 0;
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
    p = imp_params(4, REC_SOLVER_CG, 1);
    p.nonnegative = 1;
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
    p = imp_params(4, REC_SOLVER_CG, 1);
    p.implicit_min_rating = INFINITY;
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
    p = imp_params(4, REC_SOLVER_CG, 1);
    p.version = REC_ALS_PARAMS_VERSION + 1;
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
    p = imp_params(4, REC_SOLVER_CG, 1);
    p.implicit_weighting = 7;
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "weighting"));
    p = imp_params(4, REC_SOLVER_CG, 1);
    p.rank = 0; /* the shared checks run first */
    ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
    ck_assert_ptr_null(m);
    rec_ratings_free(r);
}
END_TEST

START_TEST(test_eval_errors)
{
    rec_ratings *r = fx_ratings(20, 10, 0.5), *empty = NULL, *a, *b;
    rec_error e = {0};
    rec_eval_result ev;
    ck_assert_ok(rec_ratings_new(&empty, &e), &e);
    ck_assert_int_eq(rec_ratings_split_per_user(&a, &b, r, 0, 1, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_ratings_split_per_user(NULL, &b, r, 1, 1, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_ratings_split_per_user(&a, &b, NULL, 1, 1, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_evaluate_popularity(NULL, r, r, 10, 4, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_evaluate_popularity(&ev, r, NULL, 10, 4, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_evaluate_popularity(&ev, r, r, 0, 4, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_evaluate_popularity(&ev, r, r, 5, NAN, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_evaluate_popularity(&ev, empty, r, 5, 4, &e),
                     REC_EINVAL);
    /* empty dataset: splits into two empty ones */
    ck_assert_ok(rec_ratings_split_per_user(&a, &b, empty, 2, 1, &e), &e);
    ck_assert_uint_eq(rec_ratings_n_ratings(a) + rec_ratings_n_ratings(b), 0);
    rec_ratings_free(a);
    rec_ratings_free(b);
    rec_ratings_free(empty);
    rec_ratings_free(r);
}
END_TEST

/* A corrupt IMPL section is refused (the checksum fixed up). */
START_TEST(test_model_file_bad_impl)
{
    rec_ratings *r = fx_ratings(20, 10, 0.5);
    rec_als_params p = imp_params(3, REC_SOLVER_CG, 1);
    rec_model *m = imp_train(r, &p);
    const char *path = tmp_path("bad_impl.model");
    rec_error e = {0};
    ck_assert_ok(rec_model_save(m, path, &e), &e);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    size_t len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(len);
    ck_assert_uint_eq(fread(b, 1, len, f), len);
    fclose(f);
    ck_assert_int_eq(b[8], 2); /* format version 2 */
    /* IMPL is the last section: 16-byte head + 24 bytes before the CRC */
    unsigned char *impl = b + len - 4 - 24;
    ck_assert(memcmp(impl - 16, "IMPL", 4) == 0);
    double neg = -1.0;
    memcpy(impl + 8, &neg, 8); /* alpha < 0 (little-endian host) */
    rec_model *l = NULL;
    ck_assert_int_eq(rec__model_load_mem(&l, b, len, "x", &e), REC_EFORMAT);
    ck_assert_ptr_nonnull(strstr(e.msg, "checksum"));
    uLong crc = crc32_z(crc32_z(0, Z_NULL, 0), b, len - 4);
    for (int i = 0; i < 4; i++)
        b[len - 4 + i] = (unsigned char)(crc >> (8 * i));
    ck_assert_int_eq(rec__model_load_mem(&l, b, len, "x", &e), REC_EFORMAT);
    ck_assert_msg(strstr(e.msg, "IMPL") != NULL, "%s", e.msg);
    ck_assert_ptr_null(l);
    free(b);
    rec_model_free(m);
    rec_ratings_free(r);
}
END_TEST

static Suite *implicit_suite(void)
{
    Suite *s = suite_create("implicit");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 300);
    tcase_add_test(core, test_params_v2_defaults);
    tcase_add_test(core, test_params_v1_struct);
    tcase_add_test(core, test_deterministic_threads);
    tcase_add_test(core, test_cg_matches_cholesky);
    tcase_add_test(core, test_eigenbasis);
    tcase_add_test(core, test_predict_is_preference);
    tcase_add_test(core, test_foldin_matches_training);
    tcase_add_test(core, test_foldin_matches_retrain);
    tcase_add_test(core, test_model_file);
    tcase_add_test(core, test_progress_and_cancel);
    tcase_add_test(core, test_interactions_from_ratings);
    tcase_add_test(core, test_split_per_user);
    tcase_add_test(core, test_popularity_and_auc);
    tcase_add_test(core, test_beats_popularity_movielens);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_bad_params);
    tcase_add_test(errors, test_eval_errors);
    tcase_add_test(errors, test_model_file_bad_impl);
    suite_add_tcase(s, errors);
    return s;
}

int main(void)
{
    return run_suite(implicit_suite());
}
