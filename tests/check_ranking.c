/* check_ranking.c - the served ranking (issue 15): the hybrid default,
   candidate options, cold start, the shown rating, explanations, and the
   quality of the default list on ml-latest-small against popularity. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "als_fixture.h"

static rec_ratings *small_train, *small_test;
static rec_model *hybrid, *explicit_only, *implicit_only;

/* kind 0 hybrid (default), 1 explicit-only, 2 implicit, 3 hybrid with the
   scaled confidence */
static rec_model *train_kind(const rec_ratings *r, int kind)
{
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 16;
    p.iterations = 6;
    p.n_threads = 2;
    if (kind == 1)
        p.preference = 0;
    if (kind == 2)
        p.implicit = 1;
    if (kind == 3) /* the default is REC_CONFIDENCE_SCALED */
        p.preference_confidence = REC_CONFIDENCE_LINEAR;
    rec_model *m = NULL;
    rec_error e;
    ck_assert_ok(rec_train_als(&m, r, &p, &e), &e);
    return m;
}

static void setup(void)
{
    fx_small_split(&small_train, &small_test);
    hybrid = train_kind(small_train, 0);
    explicit_only = train_kind(small_train, 1);
    implicit_only = train_kind(small_train, 2);
}

static void teardown(void)
{
    rec_model_free(hybrid);
    rec_model_free(explicit_only);
    rec_model_free(implicit_only);
    rec_ratings_free(small_train);
    rec_ratings_free(small_test);
}

static uint32_t count_of(const rec_model *m, int32_t movie)
{
    rec_movie_info info;
    ck_assert_ok(rec_model_movie(&info, m, movie, NULL), (rec_error *)NULL);
    return info.n_ratings;
}

static int has_genre(const rec_model *m, int32_t movie, const char *g)
{
    rec_movie_info info;
    ck_assert_ok(rec_model_movie(&info, m, movie, NULL), (rec_error *)NULL);
    return strstr(info.genres, g) != NULL;
}

START_TEST(test_default_is_hybrid)
{
    ck_assert(rec_model_hybrid(hybrid));
    ck_assert(!rec_model_implicit(hybrid));
    ck_assert(!rec_model_hybrid(explicit_only));
    ck_assert(!rec_model_hybrid(implicit_only));
}
END_TEST

/* Every result: score descending, a rating inside the training range that
   is rec_predict's, a movie with training ratings the user did not rate. */
START_TEST(test_results_carry_score_and_rating)
{
    const rec_model *models[] = {hybrid, explicit_only};
    for (int i = 0; i < 2; i++) {
        const rec_model *m = models[i];
        for (int32_t user = 1; user <= 40; user++) {
            rec_scored out[20];
            size_t n;
            rec_error e;
            ck_assert_ok(rec_top_n(out, 20, &n, m, user, &e), &e);
            ck_assert_uint_eq(n, 20);
            rec_rating rated[3000];
            size_t nr;
            ck_assert_ok(rec_ratings_user(rated, 3000, &nr, small_train, user,
                                          &e),
                         &e);
            for (size_t k = 0; k < n; k++) {
                if (k)
                    ck_assert(out[k].score <= out[k - 1].score);
                float p;
                ck_assert_ok(rec_predict(&p, m, user, out[k].movie_id, &e),
                             &e);
                ck_assert_float_eq(out[k].rating, p);
                ck_assert(out[k].rating >= 0.5f && out[k].rating <= 5.0f);
                ck_assert_uint_gt(count_of(m, out[k].movie_id), 0);
                for (size_t t = 0; t < nr; t++)
                    ck_assert_int_ne(rated[t].movie_id, out[k].movie_id);
            }
        }
    }
}
END_TEST

START_TEST(test_options_min_count_genre_deny)
{
    rec_top_n_options o;
    rec_top_n_options_init(&o);
    ck_assert_uint_eq(o.version, REC_TOP_N_OPTIONS_VERSION);
    o.min_count = 50;
    o.genre = "comedy"; /* case-insensitive */
    rec_scored out[30], plain[30];
    size_t n, np;
    rec_error e;
    ck_assert_ok(rec_top_n_ex(out, 30, &n, hybrid, 7, &o, &e), &e);
    ck_assert_uint_eq(n, 30);
    for (size_t k = 0; k < n; k++) {
        ck_assert_uint_ge(count_of(hybrid, out[k].movie_id), 50);
        ck_assert(has_genre(hybrid, out[k].movie_id, "Comedy"));
    }
    /* the same scores as without options, filtered */
    ck_assert_ok(rec_top_n_ex(plain, 30, &np, hybrid, 7, NULL, &e), &e);
    for (size_t k = 0; k < np; k++)
        for (size_t i = 0; i < n; i++)
            if (plain[k].movie_id == out[i].movie_id)
                ck_assert_float_eq(plain[k].score, out[i].score);
    /* deny the first three: the rest moves up */
    int32_t deny[3] = {out[0].movie_id, out[1].movie_id, out[2].movie_id};
    o.deny = deny;
    o.n_deny = 3;
    rec_scored out2[27];
    ck_assert_ok(rec_top_n_ex(out2, 27, &n, hybrid, 7, &o, &e), &e);
    ck_assert_uint_eq(n, 27);
    ck_assert_mem_eq(out2, out + 3, 27 * sizeof *out2);
    /* no such genre: nothing */
    o.genre = "Western|Comedy";
    ck_assert_ok(rec_top_n_ex(out, 30, &n, hybrid, 7, &o, &e), &e);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_options_allow_and_include_rated)
{
    rec_error e;
    rec_rating rated[3000];
    size_t nr;
    ck_assert_ok(rec_ratings_user(rated, 3000, &nr, small_train, 1, &e), &e);
    ck_assert_uint_gt(nr, 5);
    /* allow: two rated, two unrated, one unknown, one never rated */
    int32_t never = -1;
    for (size_t i = 0; i < rec_model_n_movies(hybrid) && never < 0; i++) {
        rec_movie_info info;
        rec_model_movie_at(&info, hybrid, i, NULL);
        if (info.n_ratings == 0)
            never = info.movie_id;
    }
    ck_assert_int_ge(never, 0); /* the 90% split leaves some unrated */
    rec_scored top[2];
    size_t nt;
    ck_assert_ok(rec_top_n(top, 2, &nt, hybrid, 1, &e), &e);
    int32_t allow[6] = {rated[0].movie_id, rated[1].movie_id, top[0].movie_id,
                        top[1].movie_id, 999999999, never};
    rec_top_n_options o;
    rec_top_n_options_init(&o);
    o.allow = allow;
    o.n_allow = 6;
    rec_scored out[10];
    size_t n;
    ck_assert_ok(rec_top_n_ex(out, 10, &n, hybrid, 1, &o, &e), &e);
    ck_assert_uint_eq(n, 3); /* the two unrated ones and the named one */
    ck_assert_int_eq(out[0].movie_id, top[0].movie_id);
    ck_assert_int_eq(out[1].movie_id, top[1].movie_id);
    ck_assert_int_eq(out[2].movie_id, never);
    /* include_rated: the rated ones come back too */
    o.include_rated = 1;
    ck_assert_ok(rec_top_n_ex(out, 10, &n, hybrid, 1, &o, &e), &e);
    ck_assert_uint_eq(n, 5);
    /* a minimum count also applies to allowed movies */
    o.min_count = 1;
    ck_assert_ok(rec_top_n_ex(out, 10, &n, hybrid, 1, &o, &e), &e);
    ck_assert_uint_eq(n, 4);
    /* without `allow`, a movie nobody rated never comes back */
    rec_top_n_options_init(&o);
    o.include_rated = 1;
    size_t all = 0;
    rec_scored *every = malloc(20000 * sizeof *every);
    ck_assert_ok(rec_top_n_ex(every, 20000, &all, hybrid, 1, &o, &e), &e);
    for (size_t k = 0; k < all; k++)
        ck_assert_uint_gt(count_of(hybrid, every[k].movie_id), 0);
    free(every);
}
END_TEST

START_TEST(test_options_bad)
{
    rec_top_n_options o;
    rec_top_n_options_init(&o);
    rec_scored out[3];
    size_t n;
    rec_error e = {0};
    o.version = 99;
    ck_assert_int_eq(rec_top_n_ex(out, 3, &n, hybrid, 1, &o, &e), REC_EINVAL);
    ck_assert_ptr_nonnull(strstr(e.msg, "version"));
    rec_top_n_options_init(&o);
    o.n_deny = 2; /* with a NULL list */
    ck_assert_int_eq(rec_top_n_ex(out, 3, &n, hybrid, 1, &o, &e), REC_EINVAL);
    ck_assert_int_eq(rec_recommend_for_ratings_ex(out, 3, &n, hybrid, NULL, 0,
                                                  &o, &e),
                     REC_EINVAL);
    ck_assert_int_eq(rec_similar_movies_ex(out, 3, &n, hybrid, 1, &o, &e),
                     REC_EINVAL);
}
END_TEST

/* No usable ratings: the Bayesian-average list, honouring the options, the
   same for every kind of model; never id order. */
START_TEST(test_cold_start)
{
    const rec_model *models[] = {hybrid, explicit_only, implicit_only};
    rec_scored first[10];
    for (int i = 0; i < 3; i++) {
        rec_scored out[10];
        size_t n;
        rec_error e;
        const rec_movie_rating unknown[] = {{999999999, 5.0f}};
        ck_assert_ok(rec_recommend_for_ratings(out, 10, &n, models[i],
                                               unknown, 1, &e),
                     &e);
        ck_assert_uint_eq(n, 10);
        for (size_t k = 1; k < n; k++) {
            ck_assert(out[k].score <= out[k - 1].score);
            ck_assert_int_ne(out[k].movie_id, out[k - 1].movie_id + 1);
        }
        if (i == 0)
            memcpy(first, out, sizeof out);
        else
            for (size_t k = 0; k < n; k++)
                ck_assert_int_eq(out[k].movie_id, first[k].movie_id);
        /* well-liked movies with support, not a 5.0 with one rating */
        for (size_t k = 0; k < n; k++) {
            ck_assert_uint_ge(count_of(models[i], out[k].movie_id), 10);
            ck_assert(out[k].score > 4.0f);
        }
    }
    /* the options hold for cold users too */
    rec_top_n_options o;
    rec_top_n_options_init(&o);
    o.genre = "Horror";
    rec_scored out[5];
    size_t n;
    ck_assert_ok(rec_recommend_for_ratings_ex(out, 5, &n, hybrid, NULL, 0, &o,
                                              NULL),
                 (rec_error *)NULL);
    ck_assert_uint_eq(n, 5);
    for (size_t k = 0; k < n; k++)
        ck_assert(has_genre(hybrid, out[k].movie_id, "Horror"));
    /* a user added without ratings is served the same list */
    rec_model *c = NULL;
    int32_t id;
    ck_assert_ok(rec_model_copy(&c, hybrid, NULL), (rec_error *)NULL);
    ck_assert_ok(rec_add_user(&id, c, REC_NEW_USER, NULL, 0, NULL),
                 (rec_error *)NULL);
    ck_assert_ok(rec_top_n(out, 5, &n, c, id, NULL), (rec_error *)NULL);
    for (size_t k = 0; k < n; k++)
        ck_assert_int_eq(out[k].movie_id, first[k].movie_id);
    rec_model_free(c);
}
END_TEST

/* A fold-in user's explanation adds up to the score rec_top_n serves. */
static void check_explained(const rec_model *m, const rec_movie_rating *r,
                            size_t nr)
{
    rec_scored top[5];
    size_t n;
    rec_error e;
    ck_assert_ok(rec_recommend_for_ratings(top, 5, &n, m, r, nr, &e), &e);
    ck_assert_uint_eq(n, 5);
    for (size_t k = 0; k < n; k++) {
        rec_reason why[256];
        size_t nw;
        float score, base;
        ck_assert_ok(rec_explain_for_ratings(why, 256, &nw, &score, &base, m,
                                             r, nr, top[k].movie_id, &e),
                     &e);
        ck_assert_uint_eq(nw, nr);
        double sum = base, shares = 0.0;
        for (size_t i = 0; i < nw; i++) {
            sum += why[i].weight;
            shares += fabs(why[i].share);
            if (i)
                ck_assert(why[i].weight <= why[i - 1].weight);
        }
        ck_assert_double_eq_tol(sum, score, 1e-4 * (1 + fabs(score)));
        ck_assert_double_eq_tol(shares, 1.0, 1e-5);
        ck_assert_msg(fabs(score - top[k].score) <= 2e-3 * (1 + fabs(score)),
                      "model %d: explained %g, served %g", rec_model_hybrid(m) * 2 + rec_model_implicit(m), score, top[k].score);
        /* the first `cap` reasons are the largest */
        rec_reason two[2];
        ck_assert_ok(rec_explain_for_ratings(two, 2, &nw, NULL, NULL, m, r,
                                             nr, top[k].movie_id, &e),
                     &e);
        ck_assert_uint_eq(nw, 2);
        ck_assert_mem_eq(two, why, sizeof two);
    }
}

/* classic science fiction, and a dislike */
static const rec_movie_rating scifi[] = {{260, 5.0f},  {1196, 5.0f},
                                         {1210, 4.5f}, {541, 5.0f},
                                         {1200, 4.0f}, {2571, 4.5f},
                                         {1, 1.0f}};

START_TEST(test_explanations_add_up)
{
    check_explained(implicit_only, scifi, 7);
    check_explained(explicit_only, scifi, 7);
    check_explained(hybrid, scifi, 7);
    /* the science fiction explains the science fiction recommendation */
    rec_scored top[1];
    size_t n;
    ck_assert_ok(rec_recommend_for_ratings(top, 1, &n, hybrid, scifi, 7, NULL),
                 (rec_error *)NULL);
    rec_reason why[7];
    ck_assert_ok(rec_explain_for_ratings(why, 7, &n, NULL, NULL, hybrid,
                                         scifi, 7, top[0].movie_id, NULL),
                 (rec_error *)NULL);
    ck_assert_int_ne(why[0].movie_id, 1);
    ck_assert(why[0].share > 0.0f);
}
END_TEST

START_TEST(test_explain_trained_user)
{
    rec_scored top[3];
    size_t n;
    rec_error e;
    ck_assert_ok(rec_top_n(top, 3, &n, explicit_only, 5, &e), &e);
    for (size_t k = 0; k < n; k++) {
        rec_reason why[8];
        size_t nw;
        float score, base;
        ck_assert_ok(rec_explain(why, 8, &nw, &score, &base, explicit_only, 5,
                                 top[k].movie_id, &e),
                     &e);
        /* the rating model's users are exact solves: the same score */
        ck_assert_double_eq_tol(score, top[k].score, 1e-3);
    }
    ck_assert_ok(rec_top_n(top, 3, &n, hybrid, 5, &e), &e);
    float score;
    rec_reason why[8];
    size_t nw;
    ck_assert_ok(rec_explain(why, 8, &nw, &score, NULL, hybrid, 5,
                             top[0].movie_id, &e),
                 &e);
    ck_assert_uint_eq(nw, 8);
    /* conjugate-gradient training: close to the served score */
    ck_assert_double_eq_tol(score, top[0].score, 0.1 * fabs(top[0].score));
    ck_assert_int_eq(rec_explain(why, 8, &nw, NULL, NULL, hybrid, 123456789,
                                 1, &e),
                     REC_ENOTFOUND);
    ck_assert_int_eq(rec_explain(why, 8, &nw, NULL, NULL, hybrid, 5,
                                 -3, &e),
                     REC_ENOTFOUND);
    ck_assert_int_eq(rec_explain(NULL, 8, &nw, NULL, NULL, hybrid, 5, 1, &e),
                     REC_EINVAL);
}
END_TEST

START_TEST(test_similar_with_options)
{
    rec_top_n_options o;
    rec_top_n_options_init(&o);
    o.min_count = 20;
    o.genre = "Sci-Fi";
    rec_scored out[10];
    size_t n;
    rec_error e;
    ck_assert_ok(rec_similar_movies_ex(out, 10, &n, hybrid, 260, &o, &e), &e);
    ck_assert_uint_eq(n, 10);
    for (size_t k = 0; k < n; k++) {
        ck_assert_int_ne(out[k].movie_id, 260);
        ck_assert(has_genre(hybrid, out[k].movie_id, "Sci-Fi"));
        ck_assert_uint_ge(count_of(hybrid, out[k].movie_id), 20);
        ck_assert(out[k].rating >= 0.5f && out[k].rating <= 5.0f);
    }
    /* Star Wars IV: V or VI among its most similar */
    int sequel = 0;
    for (size_t k = 0; k < n; k++)
        sequel |= out[k].movie_id == 1196 || out[k].movie_id == 1210;
    ck_assert(sequel);
}
END_TEST

/* Biases: a movie with one 5-star rating is shrunk toward the mean. */
START_TEST(test_biases_shrunk)
{
    int32_t single = -1;
    float top_mean = 0.0f;
    for (size_t i = 0; i < rec_model_n_movies(explicit_only); i++) {
        rec_movie_info info;
        rec_model_movie_at(&info, explicit_only, i, NULL);
        if (info.n_ratings == 1 && info.mean_rating == 5.0f) {
            single = info.movie_id;
            top_mean = info.mean_rating;
            break;
        }
    }
    ck_assert_int_ge(single, 0);
    float b, p;
    ck_assert_ok(rec_model_movie_factors(NULL, 0, &b, explicit_only, single,
                                         NULL),
                 (rec_error *)NULL);
    ck_assert_ok(rec_predict(&p, explicit_only, 123456789, single, NULL),
                 (rec_error *)NULL);
    float mu = rec_model_global_mean(explicit_only);
    /* at most half the way from the mean to the one rating */
    ck_assert(b < 0.5f * (top_mean - mu));
    ck_assert(p < mu + 0.5f * (top_mean - mu));
}
END_TEST

/* The point of the default: a list a person would pick, measured. */
START_TEST(test_default_ranks_well)
{
    rec_eval_result ev, pop;
    rec_error e;
    ck_assert_ok(rec_evaluate(&ev, hybrid, small_test, 10, 4.0f, &e), &e);
    ck_assert_ok(rec_evaluate_popularity(&pop, small_train, small_test, 10,
                                         4.0f, &e),
                 &e);
    ck_assert_msg(ev.ndcg_at_k > 1.5 * pop.ndcg_at_k,
                  "nDCG@10 %g, popularity %g", ev.ndcg_at_k, pop.ndcg_at_k);
    rec_eval_result ex;
    ck_assert_ok(rec_evaluate(&ex, explicit_only, small_test, 10, 4.0f, &e),
                 &e);
    /* the same rating model inside: the same RMSE */
    ck_assert_double_eq_tol(ev.rmse, ex.rmse, 1e-9);
    ck_assert(ex.ndcg_at_k < 0.5 * ev.ndcg_at_k);
}
END_TEST

/* Same data, seed and parameters: the same hybrid model whatever the
   thread count. */
START_TEST(test_hybrid_deterministic)
{
    rec_ratings *r = fx_ratings(60, 45, 0.3);
    rec_als_params p;
    rec_als_params_init(&p);
    p.rank = 6;
    rec_model *a = NULL, *b = NULL;
    p.n_threads = 1;
    ck_assert_ok(rec_train_als(&a, r, &p, NULL), (rec_error *)NULL);
    p.n_threads = 2;
    ck_assert_ok(rec_train_als(&b, r, &p, NULL), (rec_error *)NULL);
    ck_assert_int_eq(a->pref_rank, 128); /* the default */
    ck_assert_mem_eq(a->pref_user, b->pref_user,
                     a->n_users * 6 * sizeof(float));
    ck_assert_mem_eq(a->pref_movie, b->pref_movie,
                     a->n_movies * 6 * sizeof(float));
    ck_assert_mem_eq(a->rank_movie, b->rank_movie,
                     a->n_movies * (size_t)a->rank_dim * sizeof(float));
    rec_model_free(a);
    rec_model_free(b);
    rec_ratings_free(r);
}
END_TEST

/* REC_CONFIDENCE_SCALED (c = alpha w, below 1 for common interactions):
   its fold-in (the exact solve, whose normal matrix then has a part to
   subtract) agrees with the explanation's own closed form, the form
   survives a save and load, and the list still beats popularity. */
START_TEST(test_scaled_confidence)
{
    rec_ratings *tr, *te;
    fx_small_split(&tr, &te);
    rec_model *m = train_kind(tr, 0), *lin = train_kind(tr, 3), *back = NULL;
    rec_error e;
    rec_als_params p;
    rec_als_params_init(&p);
    /* a member who rated the 200 most rated movies 1 star: there BM25
       (length-normalised, b = 1) makes some interactions weigh less than
       an unseen pair */
    enum { NP = 200 };
    rec_movie_rating popular[NP];
    char *taken = calloc(m->n_movies, 1);
    ck_assert_ptr_nonnull(taken);
    for (int i = 0; i < NP; i++) {
        size_t best = 0;
        for (size_t j = 1; j < m->n_movies; j++)
            if (!taken[j] && (taken[best] ||
                              m->interactions[j] > m->interactions[best]))
                best = j;
        taken[best] = 1;
        popular[i].movie_id = m->movie_ids[best];
        popular[i].rating = 1.0f;
    }
    int32_t items[NP];
    float vals[NP], w[NP];
    size_t ni = 0;
    for (size_t j = 0; j < m->n_movies; j++) /* ascending dense indices */
        if (taken[j]) {
            items[ni] = (int32_t)j;
            vals[ni++] = 1.0f;
        }
    free(taken);
    rec__weigh_user(w, &m->weighting, m->interactions, items, vals, ni);
    size_t below = 0;
    for (size_t t = 0; t < ni; t++)
        below += p.preference_alpha * w[t] < 1.0;
    ck_assert_uint_gt(below, 0);
    check_explained(m, popular, NP);
    check_explained(m, scifi, 7);
    ck_assert(memcmp(m->pref_user, lin->pref_user,
                     m->n_users * (size_t)m->pref_rank * sizeof(float)) != 0);
    const char *path = tmp_path("scaled.model");
    ck_assert_ok(rec_model_save(m, path, &e), &e);
    ck_assert_ok(rec_model_load(&back, path, &e), &e);
    rec_scored a[10], b[10];
    size_t na, nb;
    ck_assert_ok(rec_recommend_for_ratings(a, 10, &na, m, scifi, 7, &e), &e);
    ck_assert_ok(rec_recommend_for_ratings(b, 10, &nb, back, scifi, 7, &e),
                 &e);
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(a, b, na * sizeof *a);
    rec_eval_result ev, pop;
    ck_assert_ok(rec_evaluate(&ev, m, te, 10, 4.0f, &e), &e);
    ck_assert_ok(rec_evaluate_popularity(&pop, tr, te, 10, 4.0f, &e), &e);
    ck_assert_msg(ev.ndcg_at_k > 1.5 * pop.ndcg_at_k,
                  "nDCG@10 %g, popularity %g", ev.ndcg_at_k, pop.ndcg_at_k);
    rec_model_free(m);
    rec_model_free(lin);
    rec_model_free(back);
    rec_ratings_free(tr);
    rec_ratings_free(te);
}
END_TEST

START_TEST(test_bad_params)
{
    rec_ratings *r = fx_ratings(20, 15, 0.4);
    rec_model *m = NULL;
    rec_error e = {0};
    rec_als_params p;
    const char *what[] = {"blend", "bias_prior", "preference_reg",
                          "preference_alpha", "preference_rank", "weighting",
                          "bm25_b", "preference_confidence"};
    for (int i = 0; i < 8; i++) {
        rec_als_params_init(&p);
        switch (i) {
        case 0: p.blend = -1; break;
        case 1: p.bias_prior = NAN; break;
        case 2: p.preference_reg = -2; break;
        case 3: p.preference_alpha = 0; break;
        case 4: p.preference_rank = 5000; break;
        case 5: p.preference_weighting = 9; break;
        case 6: p.bm25_b = 1.5; break;
        default: p.preference_confidence = 7; break;
        }
        ck_assert_int_eq(rec_train_als(&m, r, &p, &e), REC_EINVAL);
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(e.msg, what[i]) != NULL, "'%s' for %s", e.msg,
                      what[i]);
    }
    rec_ratings_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ranking");
    TCase *core = tcase_create("core");
    tcase_add_unchecked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 300);
    tcase_add_test(core, test_default_is_hybrid);
    tcase_add_test(core, test_results_carry_score_and_rating);
    tcase_add_test(core, test_options_min_count_genre_deny);
    tcase_add_test(core, test_options_allow_and_include_rated);
    tcase_add_test(core, test_options_bad);
    tcase_add_test(core, test_cold_start);
    tcase_add_test(core, test_explanations_add_up);
    tcase_add_test(core, test_explain_trained_user);
    tcase_add_test(core, test_similar_with_options);
    tcase_add_test(core, test_biases_shrunk);
    tcase_add_test(core, test_default_ranks_well);
    suite_add_tcase(s, core);
    TCase *more = tcase_create("params");
    tcase_set_timeout(more, 300);
    tcase_add_test(more, test_hybrid_deterministic);
    tcase_add_test(more, test_scaled_confidence);
    tcase_add_test(more, test_bad_params);
    suite_add_tcase(s, more);
    SRunner *sr = srunner_create(s);
    /* the models are trained once by the fixture; a forked child could not
       use the parent's OpenMP threads */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
