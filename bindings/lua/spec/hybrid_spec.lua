-- busted: the 0.2 ranking API from Lua (issue 15): the hybrid default, the
-- predicted rating of each recommendation, the version 3 training options,
-- the top-N options table, cold start and explanations.
local movieme = require("movieme")

local DATA = os.getenv("MOVIEME_DATA") or "data/ml-latest-small"

local function tiny()
  local ds = movieme.Ratings()
  local rows, seed = {}, 7
  local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n + 1 end
  for u = 1, 40 do
    local seen = {}
    while #rows < u * 10 do
      local m = rnd(30)
      if not seen[m] then
        seen[m] = true
        rows[#rows + 1] = {u, m, ({1, 2, 3, 3.5, 4, 4.5, 5})[rnd(7)]}
      end
    end
  end
  ds:add(rows)
  for m = 1, 30 do
    ds:set_movie(m, ("Movie %d (%d)"):format(m, 1980 + m),
                 m % 2 == 1 and "Drama|Comedy" or "Action")
  end
  return ds, rows
end

local function ids(recs)
  local out = {}
  for i, r in ipairs(recs) do out[i] = r.movie_id end
  return out
end

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

describe("hybrid model", function()
  local ds, rows, model
  setup(function()
    ds, rows = tiny()
    model = movieme.train_als(ds, {rank = 4, iterations = 8, seed = 1,
                                   n_threads = 1})
  end)

  local function rated(user)
    local r = {}
    for _, row in ipairs(rows) do
      if row[1] == user then r[#r + 1] = row[2] end
    end
    return r
  end

  it("is the default and reports itself", function()
    assert.is_true(model:hybrid())
    local explicit = movieme.train_als(ds, {rank = 2, iterations = 2,
                                            preference = false})
    assert.is_false(explicit:hybrid())
    assert.is_false(movieme.train_als(ds, {rank = 2, iterations = 2,
                                           implicit = true}):hybrid())
  end)

  it("gives every recommendation its clamped predicted rating", function()
    local recs = model:top_n(1, 30)
    assert.is_true(#recs > 0)
    for i, r in ipairs(recs) do
      assert.is_true(r.rating >= 1 and r.rating <= 5)
      assert.near(model:predict(1, r.movie_id), r.rating, 1e-5)
      if i > 1 then assert.is_true(recs[i - 1].score >= r.score) end
    end
  end)

  it("takes the version 3 training options and refuses bad ones", function()
    local base = {rank = 4, iterations = 5, seed = 2, n_threads = 1}
    local function with(extra)
      local o = {}
      for k, v in pairs(base) do o[k] = v end
      for k, v in pairs(extra) do o[k] = v end
      return movieme.train_als(ds, o)
    end
    local a = with({})
    local b = with({blend = 3.0})
    local c = with({weighting = "none", preference_rank = 2,
                    preference_reg = 1, preference_alpha = 5,
                    preference_iterations = 2, blend_shrink = 0,
                    bias_prior = 0, bm25_k1 = 10, bm25_b = 0.5})
    assert.is_true(a:preference_reg() > 0) -- derived from the data
    assert.are.equal(a:preference_reg(),
                     with({preference_reg = "auto"}):preference_reg())
    assert.are.equal(1, c:preference_reg())
    assert.are_not.same(a:top_n(1, 5), b:top_n(1, 5))
    assert.are_not.same(a:top_n(1, 5), c:top_n(1, 5))
    assert.same(b:top_n(1, 5), with({blend = 3.0}):top_n(1, 5))
    assert.are_not.same(a:top_n(1, 5),
                        with({preference_confidence = "linear"}):top_n(1, 5))
    for _, bad in ipairs({{weighting = "tfidf"}, {blend = -1},
                          {blend = "much"}, {preference_rank = -2},
                          {bm25_b = 2}, {preference_confidence = "log"}}) do
      local ok, e = pcall(with, bad)
      assert.is_false(ok)
      assert.equals("REC_EINVAL", e.code)
    end
  end)

  it("honours the options table", function()
    local mine = set(rated(1))
    for _, r in ipairs(model:top_n(1, 30)) do
      assert.is_nil(mine[r.movie_id])
    end
    local all = set(ids(model:top_n(1, 30, {include_rated = true})))
    for m in pairs(mine) do assert.is_true(all[m]) end
    local action = model:top_n(1, 30, {genre = "action"})
    assert.is_true(#action > 0)
    for _, r in ipairs(action) do assert.equals(0, r.movie_id % 2) end
    local full = ids(model:top_n(1, 30))
    local left = ids(model:top_n(1, 30, {deny = {full[1], full[2]}}))
    assert.same({table.unpack(full, 3)}, left)
    local allow = {full[3], full[1], 99999}
    local got = ids(model:top_n(1, 30, {allow = allow}))
    table.sort(got)
    local want = {full[1], full[3]}
    table.sort(want)
    assert.same(want, got)
    local few = model:top_n(1, 30, {min_count = 15})
    for _, r in ipairs(few) do
      assert.is_true(model:movie(r.movie_id).n_ratings >= 15)
    end
    local sims = model:similar_movies(2, 10, {genre = "Action"})
    for _, r in ipairs(sims) do
      assert.is_true(r.movie_id % 2 == 0 and r.movie_id ~= 2)
    end
  end)

  it("refuses bad options with an error table", function()
    for _, bad in ipairs({{min_count = -1}, {min_count = 2^40},
                          {min_count = "x"}, {genre = 5}, {allow = 3},
                          {deny = {1, "x"}}, {nope = true}, "genre"}) do
      local ok, e = pcall(model.top_n, model, 1, 5, bad)
      assert.is_false(ok)
      assert.equals("REC_EINVAL", e.code)
      ok, e = pcall(model.recommend_for_ratings, model, {{1, 4}}, 5, bad)
      assert.is_false(ok)
      assert.equals("REC_EINVAL", e.code)
    end
  end)

  it("explains a recommendation: the weights sum to the score", function()
    local rec = model:top_n(5, 1)[1]
    local x = model:explain(5, rec.movie_id, 100)
    assert.equals(#rated(5), #x.reasons)
    local sum, shares = x.base, 0
    for i, r in ipairs(x.reasons) do
      sum = sum + r.weight
      shares = shares + math.abs(r.share)
      assert.is_true(r.title:find("^Movie ") ~= nil)
      if i > 1 then assert.is_true(x.reasons[i - 1].weight >= r.weight) end
    end
    assert.near(x.score, sum, 1e-3)
    assert.near(rec.score, x.score, 0.05)
    assert.near(1, shares, 1e-4)
    assert.equals(2, #model:explain(5, rec.movie_id, 2).reasons)
    local ok, e = pcall(model.explain, model, 12345, 1)
    assert.is_false(ok)
    assert.equals("REC_ENOTFOUND", e.code)
    ok, e = pcall(model.explain, model, 1, 12345)
    assert.equals("REC_ENOTFOUND", e.code)
    ok, e = pcall(model.explain, model, 1, 1, -1)
    assert.equals("REC_EINVAL", e.code)
  end)
end)

describe("hybrid model on ml-latest-small", function()
  local m
  setup(function()
    m = movieme.train_als(movieme.load_movielens(DATA),
                          {rank = 8, iterations = 5, seed = 7, n_threads = 2})
  end)

  it("keeps predicted stars on the scale", function()
    for _, r in ipairs(m:top_n(1, 20)) do
      assert.is_true(r.rating >= 0.5 and r.rating <= 5)
    end
  end)

  it("gives a cold member the Bayesian list, honouring the options", function()
    local cold = m:recommend_for_ratings({}, 10)
    assert.equals(10, #cold)
    local sorted = ids(cold)
    table.sort(sorted)
    assert.are_not.same(sorted, ids(cold))
    assert.same(ids(cold), ids(m:recommend_for_ratings({{10^8, 5}}, 10)))
    for _, r in ipairs(m:recommend_for_ratings({}, 5, {genre = "Horror",
                                                       min_count = 50})) do
      local mv = m:movie(r.movie_id)
      assert.is_true(mv.n_ratings >= 50 and set(mv.genres).Horror)
    end
  end)

  it("explains fold-in recommendations exactly", function()
    local ratings = {{1, 5}, {260, 5}, {1196, 4.5}, {2571, 4}, {344, 1}}
    for _, rec in ipairs(m:recommend_for_ratings(ratings, 3)) do
      local x = m:explain_for_ratings(ratings, rec.movie_id, 10)
      assert.near(rec.score, x.score, 1e-3)
      local sum = x.base
      for _, r in ipairs(x.reasons) do sum = sum + r.weight end
      assert.near(x.score, sum, 1e-3)
      assert.equals(5, #x.reasons)
    end
  end)
end)
