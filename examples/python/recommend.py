#!/usr/bin/env python3
"""Load MovieLens, train ALS, and recommend movies to a new user.

    python3 examples/python/recommend.py [data/ml-latest-small]
"""
import os
import sys

import movieme

here = os.path.dirname(os.path.abspath(__file__))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    here, "..", "..", "data", "ml-latest-small")

ratings = movieme.load_movielens(path)
print(ratings)

# Hold out 10% of the ratings to see how well the model predicts them.
train, test = ratings.split(test_fraction=0.1, seed=42)
model = movieme.train_als(
    train, rank=16, iterations=10, reg=0.1,
    progress=lambda p: print("  iteration %2d/%d  train RMSE %.4f"
                             % (p.iteration, p.iterations, p.train_rmse)))
result = model.evaluate(test, k=10)
print("%r: test RMSE %.3f, precision@10 %.3f"
      % (model, result.rmse, result.precision_at_k))

# A new user who loves Star Wars and The Matrix, and hated Titanic.
me = {260: 5.0, 1196: 5.0, 2571: 5.0, 1210: 4.5, 1721: 1.0}
print("\nBecause you rated:")
for movie_id, rating in me.items():
    print("  %.1f  %s" % (rating, model.movie(movie_id).title))

print("\nRecommended for you:")
for rec in model.recommend_for_ratings(me, n=10):
    print("  %.2f  %s" % (rec.score, rec.title))

print("\nSimilar to %s:" % model.movie(260).title)
for rec in model.similar_movies(260, n=5):
    print("  %.3f  %s" % (rec.score, rec.title))
