-- busted: error tables (code, status, message, path, line; tostring) and
-- :close() / <close> on datasets and models.
local movieme = require("movieme")

local DATA = os.getenv("MOVIEME_DATA") or "data/ml-latest-small"

local function tiny()
  local ds = movieme.Ratings()
  local rows = {}
  for u = 1, 20 do
    for k = 1, 6 do rows[#rows + 1] = {u, (u * 7 + k * 3) % 15 + 1, (u + k) % 5 + 1} end
  end
  ds:add(rows)
  return ds
end

-- the error object of a failing call
local function error_of(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return e
end

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

describe("errors", function()
  it("are movieme.Error tables with the C status name", function()
    local ds = tiny()
    local e = error_of(ds.user_ratings, ds, 999)
    assert.is_table(e)
    assert.equals(movieme.Error, getmetatable(e))
    assert.equals("REC_ENOTFOUND", e.code)
    assert.equals(-5, e.status)
    assert.truthy(e.message:find("999"))
    assert.equals(e.message, tostring(e))
    assert.is_nil(e.path)
    assert.is_nil(e.line)
  end)

  it("tell bad arguments from unknown ids", function()
    local ds = tiny()
    local m = movieme.train_als(ds, {rank = 2, iterations = 2, n_threads = 1})
    assert.equals("REC_ENOTFOUND", error_of(m.top_n, m, 999).code)
    assert.equals("REC_EINVAL", error_of(m.top_n, m, 1, -1).code)
    assert.equals("REC_EINVAL", error_of(ds.add, ds, {{1, 2, 0 / 0}}).code)
    assert.equals("REC_EINVAL", error_of(ds.add, ds, {{1, "x", 3}}).code)
    assert.equals("REC_EINVAL", error_of(ds.set_movie, ds, 1, "t", {1}).code)
    assert.equals("REC_EINVAL", error_of(movieme.train_als, ds, {rank = 0}).code)
    local e = error_of(movieme.train_als, ds, {bogus = 1})
    assert.equals("REC_EINVAL", e.code)
    assert.truthy(tostring(e):find("bogus"))
    assert.equals("REC_ECANCELED", error_of(movieme.train_als, ds,
      {rank = 2, iterations = 3, progress = function() return false end}).code)
  end)

  it("of data files carry path and line", function()
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    write(path, "userId,movieId,rating,timestamp\n1,2,3.5,1\n1,3,abc,1\n")
    local e = error_of(movieme.load_movielens, path)
    assert.equals("REC_EFORMAT", e.code)
    assert.equals(path, e.path)
    assert.equals(3, e.line)
    assert.is_true(math.type(e.line) == "integer")
    assert.truthy(tostring(e):find(path .. ":3:", 1, true))
  end)

  it("of missing and bad files carry the path", function()
    local e = error_of(movieme.load_movielens, "/nonexistent/dir")
    assert.equals("REC_ENOTFOUND", e.code)
    assert.equals("/nonexistent/dir", e.path)
    e = error_of(movieme.load_model, "/nonexistent/m.bin")
    assert.equals("REC_ENOTFOUND", e.code)
    assert.equals("/nonexistent/m.bin", e.path)
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    write(path, "not a model file at all, just text......")
    e = error_of(movieme.load_model, path)
    assert.equals("REC_EFORMAT", e.code)
    assert.truthy(e.path:find(path, 1, true) or path:find(e.path, 1, true))
  end)

  it("let pcall callers branch on the code", function()
    local function load(p)
      local ok, e = pcall(movieme.load_movielens, p)
      if ok then return "ok" end
      if e.code == "REC_ENOTFOUND" then return "missing" end
      if e.code == "REC_EFORMAT" then return "bad line " .. e.line end
      error(e)
    end
    assert.equals("missing", load("/nonexistent"))
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    write(path, "userId,movieId,rating,timestamp\n1,2,x,1\n")
    assert.equals("bad line 2", load(path))
    assert.equals("ok", load(DATA))
  end)

  it("re-raise a progress callback's own error unchanged", function()
    local marker = {}
    local ok, e = pcall(movieme.train_als, tiny(), {rank = 2, iterations = 5,
      progress = function() error(marker) end})
    assert.is_false(ok)
    assert.equals(marker, e)
  end)
end)

describe("close", function()
  it("frees a dataset now; later calls are clear errors", function()
    local ds = tiny()
    assert.is_false(ds:closed())
    ds:close()
    assert.is_true(ds:closed())
    assert.equals("movieme.Ratings (closed)", tostring(ds))
    for _, f in ipairs({function() return ds:n_users() end,
                        function() return #ds end,
                        function() return ds:user_ratings(1) end,
                        function() return ds:add({{1, 1, 1}}) end,
                        function() return ds:split(0.5) end,
                        function() return movieme.train_als(ds) end}) do
      local e = error_of(f)
      assert.equals("REC_EINVAL", e.code)
      assert.equals("Ratings is closed", tostring(e))
    end
    ds:close() -- idempotent
  end)

  it("frees a model now; later calls are clear errors", function()
    local ds = tiny()
    local m = movieme.train_als(ds, {rank = 2, iterations = 2, n_threads = 1})
    local test = tiny()
    m:close()
    assert.is_true(m:closed())
    assert.equals("movieme.Model (closed)", tostring(m))
    for _, f in ipairs({function() return m:top_n(1) end,
                        function() return m:predict(1, 1) end,
                        function() return m:save("/nonexistent/closed.bin") end,
                        function() return m:add_user({{1, 5}}) end,
                        function() return m:copy() end}) do
      assert.equals("Model is closed", tostring(error_of(f)))
    end
    -- a closed dataset given to a live model
    local m2 = movieme.train_als(ds, {rank = 2, iterations = 2, n_threads = 1})
    test:close()
    assert.equals("Ratings is closed", tostring(error_of(m2.evaluate, m2, test)))
    m:close()
  end)

  it("supports <close> variables", function()
    local outer
    do
      local ds <close> = tiny()
      local m <close> = movieme.train_als(ds, {rank = 2, iterations = 2,
                                                n_threads = 1})
      assert.equals(5, #m:top_n(1, 5))
      outer = {ds, m}
    end
    assert.is_true(outer[1]:closed())
    assert.is_true(outer[2]:closed())
    -- also when the block is left by an error
    local kept
    local ok = pcall(function()
      local ds <close> = tiny()
      kept = ds
      error({})
    end)
    assert.is_false(ok)
    assert.is_true(kept:closed())
  end)

  it("gives the memory back before the collector runs", function()
    local ml = movieme.load_movielens(DATA)
    local m = movieme.train_als(ml, {rank = 64, iterations = 1, n_threads = 1})
    local function rss()
      local f = assert(io.open("/proc/self/statm"))
      local _, r = f:read("n", "n")
      f:close()
      return r * 4
    end
    local before = rss()
    m:close()
    ml:close()
    local after = rss()
    -- the model alone is ~(610 + 9742) * 64 floats = 2.6 MB
    assert.is_true(before - after > 1000, ("rss %d -> %d KB"):format(before, after))
  end)
end)

describe("results", function()
  it("carry the rating to show (rec_scored.rating)", function()
    local ml = movieme.load_movielens(DATA)
    local m <close> = movieme.train_als(ml, {rank = 8, iterations = 3, n_threads = 1})
    for _, recs in ipairs({m:top_n(1, 10), m:similar_movies(260, 10),
                           m:recommend_for_ratings({{260, 5}, {1196, 4.5}}, 10)}) do
      assert.is_true(#recs > 0)
      for _, r in ipairs(recs) do
        assert.is_number(r.rating)
        assert.is_true(r.rating >= 0.5 and r.rating <= 5)
      end
    end
    local r1 = m:top_n(1, 1)[1]
    assert.is_true(math.abs(r1.rating - m:predict(1, r1.movie_id)) < 1e-5)
  end)
end)
