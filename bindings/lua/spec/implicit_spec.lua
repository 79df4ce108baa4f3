-- busted: implicit-feedback ALS and the ranking evaluation from Lua.
local movieme = require("movieme")

local DATA = os.getenv("MOVIEME_DATA") or "data/ml-latest-small"

describe("implicit ALS", function()
  local train, test
  setup(function()
    train, test = movieme.load_movielens(DATA):split_per_user(5, 1)
  end)

  it("beats the popularity baseline on nDCG@10", function()
    local m = movieme.train_als(train, {implicit = true, alpha = 1.0,
                                        iterations = 12, n_threads = 2,
                                        solver = "cg", cg_steps = 3})
    assert.is_true(m:implicit())
    local ev = m:evaluate(test, 10)
    local pop = train:evaluate_popularity(test, 10)
    assert.equals(ev.n_users_ranked, pop.n_users_ranked)
    assert.is_true(ev.ndcg_at_k > 1.5 * pop.ndcg_at_k)
    assert.is_true(ev.auc > pop.auc and pop.auc > 0.5)
  end)

  it("takes every implicit option and refuses bad ones", function()
    local m = movieme.train_als(train, {implicit = true, rank = 4,
                                        iterations = 2, solver = "cholesky",
                                        implicit_min_rating = 4,
                                        implicit_weight_by_value = true})
    assert.is_true(m:implicit())
    assert.is_false(movieme.train_als(train, {rank = 2, iterations = 1})
                    :implicit())
    assert.is_false(pcall(movieme.train_als, train,
                          {implicit = true, solver = "qr"}))
    assert.is_false(pcall(movieme.train_als, train,
                          {implicit = true, alpha = 0}))
    assert.is_false(pcall(train.split_per_user, train, 0))
  end)
end)
