-- busted: movieme.tune_als(ds, opts) searches ALS parameters on a
-- validation split and returns every point and the best parameters.
local movieme = require("movieme")

local data = os.getenv("MOVIEME_DATA") or "../../data/ml-latest-small"

describe("tune_als", function()
  local ds = movieme.load_movielens(data)

  it("returns the points and the best, ready for train_als", function()
    local t = movieme.tune_als(ds, {base = {rank = 6, iterations = 5,
                                            n_threads = 2},
                                    regs = {0.1, 0.3}, path_patience = 0})
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
