-- busted: movieme.tune_als(ds, opts) searches ALS parameters on a
-- validation split and returns every point and the best parameters.
local movieme = require("movieme")

local data = os.getenv("MOVIEME_DATA") or "../../data/ml-latest-small"

describe("tune_als", function()
  local ds = movieme.load_movielens(data)

  it("returns the points and the best, ready for train_als", function()
    local t = movieme.tune_als(ds, {base = {rank = 6, iterations = 5,
                                            n_threads = 2},
                                    regs = {0.1, 0.3}, path_patience = 0,
                                    auto_blend = false})
    assert.are.equal(2, #t.points)
    assert.are.equal(0.3, t.points[1].reg) -- strong to weak
    assert.is_false(t.points[1].warm)
    assert.is_true(t.points[2].warm)
    local best = t.points[t.best_index]
    assert.are.equal(best.reg, t.best.reg)
    assert.are.equal(best.rmse, t.rmse)
    assert.is_true(t.ndcg >= 0 and t.ndcg <= 1)
    assert.are.equal(-1, t.points[1].ndcg)
    local m = movieme.train_als(ds, t.best)
    assert.are.equal(6, m:rank())
  end)

  it("searches ranks on nDCG with folds", function()
    local t = movieme.tune_als(ds, {base = {rank = 4, iterations = 3,
                                            n_threads = 2},
                                    metric = "ndcg", validation = "folds",
                                    folds = 2, regs = {0.2}, ranks = {2, 4}})
    assert.are.equal(2, #t.points)
    assert.are.equal(2, t.points[1].rank)
    assert.are.equal(t.metric, t.ndcg)
  end)

  it("searches the hybrid's bias prior, then its blend by nDCG", function()
    local t = movieme.tune_als(ds, {base = {rank = 4, iterations = 3,
                                            n_threads = 2},
                                    regs = {0.1}, bias_priors = {0.5, 4},
                                    blends = {0, 2}})
    assert.are.equal(4, #t.points)
    assert.are.equal(0.5, t.points[1].bias_prior)
    assert.are.equal(4, t.points[2].bias_prior)
    assert.is_false(t.points[1].reranked)
    assert.is_true(t.points[3].reranked and t.points[4].reranked)
    assert.are.equal(0, t.points[3].blend)
    assert.are.equal(2, t.points[4].blend)
    local best = t.points[t.best_index]
    assert.is_true(best.reranked)
    assert.are.equal(math.max(t.points[3].ndcg, t.points[4].ndcg), t.ndcg)
    assert.are.equal(best.blend, t.best.blend)
    assert.are.equal(best.bias_prior, t.best.bias_prior)
    assert.is_true(t.best.preference)
    assert.are.equal("scaled", t.best.preference_confidence)
    local m = movieme.train_als(ds, t.best)
    assert.is_true(m:hybrid())
  end)

  it("searches the preference model on nDCG only", function()
    local t = movieme.tune_als(ds, {base = {rank = 4, iterations = 3,
                                            n_threads = 2},
                                    metric = "ndcg", regs = {0.1},
                                    preference_regs = {1, 10},
                                    blend_shrinks = {0, 50}})
    assert.are.equal(4, #t.points)
    assert.are.equal(1, t.points[1].preference_reg)
    assert.are.equal(50, t.points[2].blend_shrink)
    assert.are.equal(10, t.points[3].preference_reg)
    assert.are.equal(t.metric, t.ndcg)
    local ok, err = pcall(movieme.tune_als, ds, {preference_regs = {1}})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("NDCG"))
    ok, err = pcall(movieme.tune_als, ds, {base = {preference = false},
                                           blends = {1}})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("hybrid"))
  end)

  it("fits the preference term of predicted ratings", function()
    local opts = {base = {rank = 6, iterations = 5, n_threads = 2},
                  regs = {0.2, 0.1}, path_patience = 0}
    local fit = movieme.tune_als(ds, opts)
    opts.fit_rating_pref = false
    local plain = movieme.tune_als(ds, opts)
    for i, p in ipairs(fit.points) do
      local q = plain.points[i]
      assert.is_true(p.rating_pref_weight > 0.1)
      assert.is_true(p.rating_pref_shift < 0)
      assert.are.equal(0, q.rating_pref_weight)
      assert.is_true(p.rmse < q.rmse - 0.002)
    end
    assert.are.equal(fit.points[fit.best_index].rating_pref_weight,
                     fit.best.rating_pref_weight)
    -- the best point ranked again at the automatic blends
    local blends = {}
    for _, p in ipairs(fit.points) do
      if p.reranked then blends[#blends + 1] = p.blend end
    end
    assert.are.same({0.2, 0.1, 0.05, 0}, blends)
    local m = movieme.train_als(ds, fit.best)
    assert.are.equal(fit.best.rating_pref_weight, m:rating_pref_weight())
    assert.are.equal(fit.best.rating_pref_shift, m:rating_pref_shift())
    local plain_model = movieme.train_als(ds, plain.best)
    assert.are.equal(0, plain_model:rating_pref_weight())
    local ok, err = pcall(movieme.train_als, ds, {preference = false,
                                                  rating_pref_weight = 1})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("hybrid"))
  end)

  it("rejects bad options with a message", function()
    local ok, err = pcall(movieme.tune_als, ds, {validation = "folds",
                                                 folds = 1})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("folds"))
    ok, err = pcall(movieme.tune_als, ds, {metric = "mae"})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("metric"))
    ok, err = pcall(movieme.tune_als, ds, {regs = {0.1, "x"}})
    assert.is_false(ok)
    ok, err = pcall(movieme.tune_als, ds, {bogus = 1})
    assert.is_false(ok)
    assert.truthy(tostring(err):find("bogus"))
  end)
end)
