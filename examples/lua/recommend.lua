-- Load MovieLens, train ALS, and recommend movies to a new user.
--
--     lua5.4 examples/lua/recommend.lua [data/ml-latest-small]
local movieme = require("movieme")

local path = arg[1] or "data/ml-latest-small"
local ratings = movieme.load_movielens(path)
print(ratings)

-- Hold out 10% of the ratings to see how well the model predicts them.
local train, test = ratings:split(0.1, 42)
local model = movieme.train_als(train, {
  rank = 16, iterations = 10, reg = 0.1,
  progress = function(p)
    print(("  iteration %2d/%d  train RMSE %.4f")
          :format(p.iteration, p.iterations, p.train_rmse))
  end,
})
local result = model:evaluate(test, 10)
print(("%s: test RMSE %.3f, precision@10 %.3f")
      :format(tostring(model), result.rmse, result.precision_at_k))

-- A new user who loves Star Wars and The Matrix, and hated Titanic.
-- Arrays are 1-based; the numbers inside are MovieLens movie ids.
local me = {{260, 5.0}, {1196, 5.0}, {2571, 5.0}, {1210, 4.5}, {1721, 1.0}}
print("\nBecause you rated:")
for _, r in ipairs(me) do
  print(("  %.1f  %s"):format(r[2], model:movie(r[1]).title))
end

-- Fold the user into the model, then ask for their top 10.
local user = model:add_user(me)
print(("\nRecommended for you (user %d):"):format(user))
for _, rec in ipairs(model:top_n(user, 10)) do
  print(("  %.2f  %s"):format(rec.score, rec.title))
end

print(("\nSimilar to %s:"):format(model:movie(260).title))
for _, rec in ipairs(model:similar_movies(260, 5)) do
  print(("  %.3f  %s"):format(rec.score, rec.title))
end

-- Errors are Lua errors carrying the library's message.
local ok, err = pcall(model.top_n, model, 99999999, 5)
print("\nUnknown user -> " .. tostring(err))
assert(not ok)
