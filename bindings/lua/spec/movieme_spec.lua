-- busted suite of the Lua 5.4 binding: every call, errors through pcall,
-- garbage collection of handles. CTest sets LUA_CPATH to the built module
-- and MOVIEME_DATA to the bundled data/ml-latest-small.
local movieme = require("movieme")

local DATA = os.getenv("MOVIEME_DATA") or "data/ml-latest-small"

-- A small dataset built in memory: users 1..30 each rate 8 of movies 1..20.
local function tiny(n_users)
  local ds = movieme.Ratings()
  local rows = {}
  for u = 1, n_users or 30 do
    for k = 1, 8 do
      local m = (u * 7 + k * 3) % 20 + 1
      rows[#rows + 1] = {u, m, (u + k) % 5 + 1}
    end
  end
  ds:add(rows)
  for m = 1, 20 do
    ds:set_movie(m, ("Movie %d (%d)"):format(m, 1980 + m),
                 m % 2 == 1 and {"Drama", "Comedy"} or "Action")
  end
  return ds, rows
end

local function rss_kb()
  local f = assert(io.open("/proc/self/statm"))
  local pages = f:read("n") and f:read("n")
  f:close()
  return pages * 4
end

-- error message of a failing call
local function err_of(f, ...)
  local ok, msg = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return tostring(msg)
end

describe("movieme module", function()
  it("has a version", function()
    assert.is_string(movieme.version())
    local a, b, c = movieme.version():match("^(%d+)%.(%d+)%.(%d+)$")
    assert.equals(a * 10000 + b * 100 + c, movieme.version_number())
    assert.is_true(math.type(movieme.version_number()) == "integer")
    assert.equals("movieme " .. movieme.version(), movieme._VERSION)
  end)
end)

describe("Ratings", function()
  local ml
  setup(function() ml = movieme.load_movielens(DATA) end)

  it("loads MovieLens", function()
    assert.equals(610, ml:n_users())
    assert.equals(9742, ml:n_movies())
    assert.equals(100836, ml:n_ratings())
    assert.equals(100836, #ml)
    assert.is_true(math.type(#ml) == "integer")
    assert.equals("movieme.Ratings: 610 users, 9742 movies, 100836 ratings",
                  tostring(ml))
    assert.equals(100836, #movieme.load_movielens(DATA .. "/ratings.csv"))
  end)

  it("gives movie metadata", function()
    local toy = ml:movie(1)
    assert.equals(1, toy.movie_id)
    assert.equals("Toy Story (1995)", toy.title)
    assert.equals(1995, toy.year)
    assert.same({"Adventure", "Animation", "Children", "Comedy", "Fantasy"},
                toy.genres)
    assert.equals(215, toy.n_ratings)
    assert.is_true(toy.mean_rating > 3.5 and toy.mean_rating < 4.5)
  end)

  it("lists every movie in id order (1-based array of MovieLens ids)", function()
    local movies = ml:movies()
    assert.equals(ml:n_movies(), #movies)
    assert.equals(1, movies[1].movie_id)
    for i = 2, #movies do
      assert.is_true(movies[i - 1].movie_id < movies[i].movie_id)
    end
  end)

  it("gives a user's ratings", function()
    local r = ml:user_ratings(1)
    assert.equals(232, #r)
    assert.equals(1, r[1].movie_id)
    assert.equals(4.0, r[1].rating)
    assert.equals(r[1].movie_id, r[1][1]) -- also {movie_id, rating}
    assert.equals(r[1].rating, r[1][2])
  end)

  it("counts and averages", function()
    local stats = ml:count_avg()
    assert.equals(ml:n_movies(), #stats)
    local total = 0
    for _, s in ipairs(stats) do total = total + s.count end
    assert.equals(#ml, total)
    assert.equals(1, stats[1].movie_id)
    assert.equals(215, stats[1].count)
  end)

  it("finds the best movies", function()
    local best = ml:best_movies(5)
    assert.equals(5, #best)
    assert.equals("Shawshank Redemption, The (1994)", best[1].title)
    for i = 2, #best do assert.is_true(best[i - 1].score >= best[i].score) end
    local defaults = ml:best_movies()
    assert.equals(10, #defaults)
    local comedies = ml:best_movies(10, 50, 10.0, "Comedy")
    assert.equals(10, #comedies)
    for _, c in ipairs(comedies) do
      local genres = table.concat(ml:movie(c.movie_id).genres, "|")
      assert.truthy(genres:find("Comedy", 1, true))
    end
    assert.same({}, ml:best_movies(0))
  end)

  it("splits deterministically", function()
    local train, test = ml:split(0.2, 1)
    assert.equals(#ml, #train + #test)
    local _, test2 = ml:split(0.2, 1)
    assert.equals(#test, #test2)
    local r = #test / #ml
    assert.is_true(r > 0.17 and r < 0.23)
    local dtrain, dtest = ml:split()
    assert.equals(#ml, #dtrain + #dtest)
  end)

  it("is built in memory", function()
    local ds = movieme.Ratings()
    assert.equals(0, #ds)
    ds:add({{1, 10, 4.0}, {user_id = 2, movie_id = 10, rating = 5}, {1, 20, 3}})
    assert.equals(2, ds:n_users())
    assert.equals(3, #ds)
    ds:add({{1, 10, 1.5}}) -- last value wins
    assert.equals(1.5, ds:user_ratings(1)[1].rating)
    ds:set_movie(10, "Ten (1999)", "Drama|Comedy")
    ds:set_movie(20, "Twenty", {"Action", "Sci-Fi"})
    ds:set_movie(30, "Thirty (2003)")
    assert.same({"Drama", "Comedy"}, ds:movie(10).genres)
    assert.equals(1999, ds:movie(10).year)
    assert.same({"Action", "Sci-Fi"}, ds:movie(20).genres)
    assert.same({}, ds:movie(30).genres)
    assert.equals(3, ds:n_movies())
  end)

  it("copies independently", function()
    local ds = tiny()
    local c = ds:copy()
    c:add({{999, 1, 5}})
    assert.equals(ds:n_users() + 1, c:n_users())
  end)

  it("reports errors through error()", function()
    local ds = tiny()
    assert.truthy(err_of(ds.user_ratings, ds, 999):find("999"))
    assert.truthy(err_of(ds.movie, ds, 999):find("999"))
    assert.truthy(err_of(ds.add, ds, {{1, 2, 0 / 0}}):find("finite"))
    assert.truthy(err_of(ds.add, ds, {{-1, 2, 3}}):find("negative"))
    assert.truthy(err_of(ds.add, ds, {{1, "x", 3}}):find("movie_id"))
    assert.truthy(err_of(ds.add, ds, {{1, 2.5, 3}}):find("movie_id"))
    assert.truthy(err_of(ds.add, ds, {{1, 2 ^ 40, 3}}):find("movie_id"))
    assert.truthy(err_of(ds.add, ds, {{1, 2}}):find("rating"))
    assert.truthy(err_of(ds.add, ds, {5}):find("row 1"))
    err_of(ds.add, ds, "rows")
    err_of(ds.set_movie, ds, -1, "x")
    assert.truthy(err_of(ds.set_movie, ds, 1, "x", {1}):find("genres"))
    err_of(ds.set_movie, ds, 1, "x", 5)
    err_of(ds.split, ds, 1.5)
    err_of(ds.best_movies, ds, -1)
    err_of(ds.best_movies, ds, 5, -1)
    -- a failed add leaves the dataset unchanged
    local n = #ds
    err_of(ds.add, ds, {{1, 1, 2}, {1, 2, 1 / 0}})
    assert.equals(n, #ds)
  end)

  it("reports file errors with the path", function()
    local msg = err_of(movieme.load_movielens, "/nonexistent/dir")
    assert.truthy(msg:find("/nonexistent/dir", 1, true))
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, "w"))
    f:write("userId,movieId,rating,timestamp\n1,2,3.5,1\n1,3,abc,1\n")
    f:close()
    msg = err_of(movieme.load_movielens, path)
    assert.truthy(msg:find(path .. ":3:", 1, true))
    os.remove(path)
  end)
end)

describe("training and Model", function()
  local ml, model
  setup(function()
    ml = movieme.load_movielens(DATA)
    model = movieme.train_als(ml, {rank = 8, iterations = 5, seed = 7,
                                   n_threads = 2})
  end)

  it("has properties", function()
    assert.equals(8, model:rank())
    assert.equals(610, model:n_users())
    assert.equals(ml:n_movies(), model:n_movies())
    local g = model:global_mean()
    assert.is_true(g > 3 and g < 4)
    assert.is_true(model:has_user(1))
    assert.is_false(model:has_user(611))
    assert.equals(("movieme.Model: rank 8, 610 users, %d movies")
                  :format(ml:n_movies()), tostring(model))
  end)

  it("trains with defaults", function()
    local ds = tiny()
    assert.equals(32, movieme.train_als(ds):rank())
    assert.equals(32, movieme.train_als(ds, {}):rank())
  end)

  it("predicts", function()
    local p = model:predict(1, 1)
    assert.is_true(p >= 0.5 and p <= 5)
    assert.is_number(model:predict(10 ^ 6, 1)) -- unknown user: biases
  end)

  it("ranks top n as {movie_id=, score=, title=}", function()
    local recs = model:top_n(1, 10)
    assert.equals(10, #recs)
    local rated = {}
    for _, r in ipairs(ml:user_ratings(1)) do rated[r.movie_id] = true end
    for i, r in ipairs(recs) do
      assert.is_nil(rated[r.movie_id])
      assert.is_true(math.type(r.movie_id) == "integer")
      assert.equals(ml:movie(r.movie_id).title, r.title)
      if i > 1 then assert.is_true(recs[i - 1].score >= r.score) end
    end
    assert.equals(10, #model:top_n(1))
    assert.same({}, model:top_n(1, 0))
  end)

  it("recommends for ratings without changing the model", function()
    local likes = {{1, 5.0}, {260, 5.0}, {movie_id = 1196, rating = 4.5}}
    local recs = model:recommend_for_ratings(likes, 5)
    assert.equals(5, #recs)
    assert.equals(610, model:n_users())
    assert.equals(10, #model:recommend_for_ratings({}))
  end)

  it("adds users", function()
    local m = model:copy()
    local uid = m:add_user({{1, 5.0}, {260, 4.5}})
    assert.equals(611, uid)
    assert.is_true(m:has_user(uid))
    assert.is_false(model:has_user(uid))
    assert.equals(5, #m:top_n(uid, 5))
    assert.equals(5000, m:add_user({{2571, 4.0}}, 5000))
    assert.equals(612, m:n_users())
    local f, bias = m:user_factors(uid)
    assert.equals(8, #f)
    assert.is_number(bias)
  end)

  it("finds similar movies", function()
    local sims = model:similar_movies(1, 10)
    assert.equals(10, #sims)
    for _, s in ipairs(sims) do
      assert.are_not.equal(1, s.movie_id)
      assert.is_true(s.score <= 1.0001 and s.score >= -1.0001)
    end
  end)

  it("gives metadata and factors", function()
    assert.same(ml:movie(1), model:movie(1))
    assert.equals(model:n_movies(), #model:movies())
    local f, b = model:movie_factors(1)
    assert.equals(8, #f)
    assert.is_number(b)
  end)

  it("evaluates", function()
    local train, test = ml:split(0.1, 3)
    local m = movieme.train_als(train, {rank = 8, iterations = 5})
    local res = m:evaluate(test)
    assert.equals(#test, res.n_predictions)
    assert.equals(10, res.k)
    assert.is_true(res.rmse > 0.7 and res.rmse < 1.2)
    assert.is_true(res.mae < res.rmse)
    assert.is_true(res.n_users_ranked > 0)
    for _, k in ipairs({"precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k"}) do
      assert.is_true(res[k] >= 0 and res[k] <= 1)
    end
    assert.equals(5, m:evaluate(test, 5, 4.5).k)
  end)

  it("saves and loads", function()
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    model:save(path)
    local loaded = movieme.load_model(path)
    os.remove(path)
    assert.equals(model:rank(), loaded:rank())
    assert.same(model:top_n(1, 10), loaded:top_n(1, 10))
    assert.equals(model:predict(3, 50), loaded:predict(3, 50))
  end)

  it("is deterministic", function()
    local ds = tiny()
    local a = movieme.train_als(ds, {rank = 3, iterations = 3, seed = 5, n_threads = 1})
    local b = movieme.train_als(ds, {rank = 3, iterations = 3, seed = 5, n_threads = 1})
    assert.same({a:user_factors(1)}, {b:user_factors(1)})
  end)

  it("takes every option", function()
    local ds = tiny()
    local m = movieme.train_als(ds, {rank = 3, iterations = 2, reg = 0.5,
      seed = 1, n_threads = 1, nonnegative = true, biases = false,
      bias_reg = 1.0})
    local f, b = m:user_factors(1)
    for _, x in ipairs(f) do assert.is_true(x >= 0) end
    assert.equals(0, b)
  end)

  it("reports model errors through error()", function()
    local ds = tiny()
    local m = movieme.train_als(ds, {rank = 2, iterations = 2, n_threads = 1})
    assert.truthy(err_of(m.top_n, m, 999):find("999"))
    err_of(m.top_n, m, 1, -1)
    err_of(m.similar_movies, m, 999)
    err_of(m.movie, m, 999)
    err_of(m.user_factors, m, 999)
    err_of(m.movie_factors, m, 999)
    err_of(m.add_user, m, {{1, 0 / 0}})
    err_of(m.add_user, m, 5)
    err_of(m.recommend_for_ratings, m, {{1, 1 / 0}})
    err_of(m.evaluate, m, ds, 0)
    err_of(m.save, m, "/nonexistent/dir/m.bin")
    assert.truthy(err_of(movieme.load_model, "/nonexistent.bin")
                  :find("/nonexistent.bin", 1, true))
    local path = os.tmpname()
    finally(function() os.remove(path) end)
    local f = assert(io.open(path, "w")); f:write("not a model"); f:close()
    err_of(movieme.load_model, path)
    os.remove(path)
    err_of(movieme.train_als, movieme.Ratings())
    for _, opts in ipairs({{rank = 0}, {iterations = 0}, {reg = -1},
                           {n_threads = -1}, {seed = -1}, {rank = "x"},
                           {rnk = 4}, {progress = 5}}) do
      err_of(movieme.train_als, ds, opts)
    end
    err_of(movieme.train_als, ds, "options")
    err_of(movieme.train_als, "not a dataset")
    assert.truthy(err_of(m.evaluate, m, nil):find("no test ratings"))
    assert.truthy(err_of(movieme.load_model, nil):find("no path"))
    assert.truthy(err_of(movieme.load_movielens, nil):find("no path"))
    assert.truthy(err_of(m.save, m, nil):find("no path"))
    assert.truthy(err_of(movieme.train_als, nil):find("no dataset"))
    assert.truthy(err_of(ds.set_movie, ds, 1, nil):find("no title"))
  end)
end)

describe("progress callback", function()
  it("reports each iteration", function()
    -- the default model: 4 iterations of the rating model, then 4 of the
    -- preference model
    local seen = {}
    movieme.train_als(tiny(), {rank = 2, iterations = 4, n_threads = 1,
      progress = function(p) seen[#seen + 1] = p end})
    assert.equals(8, #seen)
    for i, p in ipairs(seen) do
      assert.equals(i, p.iteration)
      assert.equals(8, p.iterations)
      assert.is_true(p.train_rmse > 0 and p.loss > 0 and p.seconds >= 0)
    end
  end)

  it("cancels when it returns false", function()
    local calls = 0
    local msg = err_of(movieme.train_als, tiny(), {rank = 2, iterations = 10,
      n_threads = 1, progress = function(p) calls = calls + 1; return p.iteration < 2 end})
    assert.equals(2, calls)
    assert.truthy(msg:find("cancel"))
  end)

  it("keeps going on nil and true", function()
    local calls = 0
    movieme.train_als(tiny(), {rank = 2, iterations = 3, n_threads = 1,
      progress = function() calls = calls + 1; return true end})
    assert.equals(6, calls) -- both phases of the hybrid model
  end)

  it("re-raises the callback's error after stopping", function()
    local calls = 0
    local marker = {}
    local ok, e = pcall(movieme.train_als, tiny(), {rank = 2, iterations = 10,
      n_threads = 1, progress = function(p)
        calls = calls + 1
        if p.iteration == 3 then error(marker) end
      end})
    assert.is_false(ok)
    assert.equals(marker, e) -- the very error object
    assert.equals(3, calls)
  end)
end)

describe("progress callback and its dataset", function()
  it("cannot modify the dataset being trained (no deadlock)", function()
    local ds = tiny()
    local msg = err_of(movieme.train_als, ds, {rank = 2, iterations = 3,
      n_threads = 1, progress = function() ds:add({{999, 1, 4}}) end})
    assert.truthy(msg:find("progress callback", 1, true))
    ds:add({{999, 1, 4}})
    assert.equals(31, ds:n_users())
  end)
end)

describe("garbage collection", function()
  it("frees thousands of handles", function()
    local _, rows = tiny(40)
    -- a small preference model too: Lua's collector sees only the handles,
    -- not the C memory behind them, so 3000 copies of the default's 128
    -- preference factors (and their 128 x 128 Y^T Y) wait for a cycle
    -- and fragment the heap; what is measured here is that handles free
    local model = movieme.train_als(tiny(), {rank = 4, iterations = 2, n_threads = 1,
                                             preference_rank = 4})
    local function once()
      local ds = movieme.Ratings()
      ds:add(rows)
      local c = ds:copy()
      local a, b = c:split(0.2, 1)
      local m = model:copy()
      m:add_user({{1, 5}, {2, 4}})
      m:top_n(1, 20)
      m:similar_movies(1, 20)
      c:movies()
      pcall(m.top_n, m, 999)          -- error paths too
      pcall(ds.add, ds, {{1, 1, 0 / 0}})
    end
    for _ = 1, 200 do once() end
    collectgarbage("collect"); collectgarbage("collect")
    local before = rss_kb()
    for _ = 1, 3000 do once() end
    collectgarbage("collect"); collectgarbage("collect")
    assert.is_true(rss_kb() - before < 4096,
                   ("RSS grew by %d kB"):format(rss_kb() - before))
  end)

  it("keeps a model usable after its dataset is collected", function()
    local ds = tiny()
    local m = movieme.train_als(ds, {rank = 2, iterations = 2, n_threads = 1})
    local expected = m:top_n(1, 3)
    ds = nil
    collectgarbage("collect")
    assert.same(expected, m:top_n(1, 3))
  end)
end)
