/*
 * pref_reg.c - the automatic lambda of a hybrid's preference model
 * (rec_als_params.preference_reg = REC_PREFERENCE_REG_AUTO, the default).
 *
 * Implicit ALS minimises sum c_ui (p_ui - x_u . y_i)^2 + lambda (|X|^2 +
 * |Y|^2). Over all factorisations of one score matrix M = X Y^T the penalty
 * is at least 2 lambda |M|_* (nuclear norm), and separate lambdas for the
 * two sides give 2 sqrt(lambda_u lambda_i) |M|_* after rescaling X and Y,
 * which leaves every score unchanged: one lambda is all there is. It
 * shrinks the singular values of the fit by about lambda, so it has to
 * grow with those of the confidence-weighted interaction matrix C o P. A
 * matrix holding a total S spread over n_users x n_movies has a leading
 * singular value of S / sqrt(n_users n_movies) (exactly so for a constant
 * one), hence
 *
 *   lambda = REC__PREF_REG_SCALE * alpha * sum_ui w_ui / sqrt(n_users n_movies)
 *
 * with w the interaction weights (BM25 or the ratings), the sum over the
 * interactions and n_movies counting movies with at least one. The constant
 * was fitted on ml-latest-small and checked on synthetic sets of 1M and 2M
 * ratings (docs/ranking.md); the rules lambda ~ users or ~ interactions
 * overshoot the 1M set by 3x.
 *
 * Only statistics of the whole dataset enter, so the MPI trainer (which
 * weighs on the root) gets the same value.
 */
#include "internal.h"

#include <math.h>

double rec__pref_reg_auto(const rec_ratings *r, const float *user_vals,
                          const rec_implicit_cfg *g)
{
    double sum = 0.0, movies = 0.0;
    for (uint64_t t = 0; t < r->nnz; t++)
        sum += rec__implicit_weight(user_vals[t], g->min_rating, g->by_value);
    for (size_t j = 0; j < r->n_movies; j++)
        movies += r->movie_off[j + 1] > r->movie_off[j];
    double cells = (double)r->n_users * movies;
    if (!(sum > 0.0) || !(cells > 0.0))
        return 0.0;
    return REC__PREF_REG_SCALE * g->alpha * sum / sqrt(cells);
}

double rec__pref_reg_resolve(const rec_als_params *p, const rec_ratings *r,
                             const float *user_vals,
                             const rec_implicit_cfg *g)
{
    return p->preference_reg == REC_PREFERENCE_REG_AUTO
               ? rec__pref_reg_auto(r, user_vals, g)
               : p->preference_reg;
}
