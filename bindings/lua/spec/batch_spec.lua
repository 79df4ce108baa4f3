-- busted: batch serving from Lua (issue 14): model:top_n_many equals top_n
-- for every user (options too), model:predict_many equals predict per pair,
-- and bad input is an error, not a crash.
local movieme = require("movieme")

local function tiny()
  local ds = movieme.Ratings()
  local rows, seed = {}, 11
  local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n + 1 end
  for u = 1, 30 do
    local seen = {}
    while #rows < u * 8 do
      local m = rnd(25)
      if not seen[m] then
        seen[m] = true
        rows[#rows + 1] = {u, m, ({1, 2, 3, 3.5, 4, 4.5, 5})[rnd(7)]}
      end
    end
  end
  ds:add(rows)
  for m = 1, 25 do
    ds:set_movie(m, ("Movie %d"):format(m), m % 2 == 1 and "Drama" or "Action")
  end
  return ds
end

describe("batch serving", function()
  local ds, model
  setup(function()
    ds = tiny()
    model = movieme.train_als(ds, {rank = 4, iterations = 5, seed = 1})
  end)

  it("top_n_many: row i is top_n(users[i])", function()
    local users = {}
    for u = 30, 1, -1 do users[#users + 1] = u end
    users[#users + 1] = 3 -- repeats are fine
    local rows = model:top_n_many(users, 7)
    assert.equal(#users, #rows)
    for i, u in ipairs(users) do
      assert.same(model:top_n(u, 7), rows[i])
    end
    local opts = {genre = "Action", min_count = 3}
    local some = model:top_n_many({1, 2}, 5, opts)
    assert.same(model:top_n(2, 5, opts), some[2])
    assert.same({}, model:top_n_many({}, 5))
    assert.same({{}, {}}, model:top_n_many({1, 2}, 0))
  end)

  it("predict_many: each pair as predict", function()
    local users, movies = {1, 2, 3, 99}, {1, 5, 25, 2}
    local got = model:predict_many(users, movies)
    assert.equal(4, #got)
    for i = 1, 4 do
      assert.equal(model:predict(users[i], movies[i]), got[i])
    end
  end)

  it("refuses bad input with an error", function()
    local ok, e = pcall(model.top_n_many, model, {1, 12345}, 5)
    assert.is_false(ok)
    assert.matches("12345", tostring(e.message or e))
    ok, e = pcall(model.top_n_many, model, {1, "x"}, 5)
    assert.is_false(ok)
    ok, e = pcall(model.top_n_many, model, {1}, -1)
    assert.is_false(ok)
    ok, e = pcall(model.predict_many, model, {1, 2}, {1})
    assert.is_false(ok)
    assert.matches("2 users but 1 movies", tostring(e.message or e))
    ok = pcall(model.predict_many, model, "x", {1})
    assert.is_false(ok)
  end)
end)
