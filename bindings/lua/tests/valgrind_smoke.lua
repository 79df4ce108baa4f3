-- Every call and error path once, under valgrind (CTest lua_valgrind):
-- no invalid access, nothing definitely or indirectly lost.
local movieme = require("movieme")
local path = os.tmpname()
for _ = 1, 2 do
  local ds = movieme.Ratings()
  local rows = {}
  for u = 1, 30 do
    for k = 1, 8 do rows[#rows + 1] = {u, (u * 7 + k * 3) % 20 + 1, (u + k) % 5 + 1} end
  end
  ds:add(rows)
  ds:set_movie(1, "A (1999)", {"X", "Y"})
  ds:set_movie(2, "B", "Z")
  local m = movieme.train_als(ds, {rank = 4, iterations = 3, n_threads = 1,
                                   progress = function() end})
  m:top_n(1, 5); m:similar_movies(1, 5); m:recommend_for_ratings({{1, 4}}, 5)
  m:predict(1, 2)
  local c = m:copy()
  c:add_user({{1, 5}}); c:user_factors(1); c:movie_factors(1); c:movie(1); c:movies()
  local _, te = ds:split(0.3, 1)
  m:evaluate(te); ds:count_avg(); ds:best_movies(3, 0); ds:user_ratings(1)
  m:save(path); movieme.load_model(path)
  local _ = tostring(m) .. tostring(ds) .. #ds
  for _, call in ipairs({
    function() m:top_n(999) end,
    function() ds:add({{1, 1, 0 / 0}}) end,
    function() ds:add({{1, "x", 1}}) end,
    function() ds:set_movie(1, "t", {1}) end,
    function() movieme.load_movielens("/nonexistent") end,
    function() movieme.load_model("/nonexistent") end,
    function() movieme.train_als(ds, {rank = 2, iterations = 3, n_threads = 1,
                                      progress = function() return false end}) end,
    function() movieme.train_als(ds, {rank = 2, iterations = 3, n_threads = 1,
                                      progress = function() error("x") end}) end,
    function() movieme.train_als(ds, {rank = 0, progress = function() end}) end,
    function() movieme.train_als(ds, {bogus = 1, progress = function() end}) end,
  }) do
    assert(not pcall(call), "expected an error")
  end
  -- error tables, close and <close>
  local ok, e = pcall(m.top_n, m, 999)
  assert(not ok and e.code == "REC_ENOTFOUND" and tostring(e) == e.message)
  c:close(); c:close()
  assert(not pcall(c.top_n, c, 1))
  do
    local d <close> = ds:copy()
    local mm <close> = movieme.train_als(d, {rank = 2, iterations = 1, n_threads = 1})
    mm:predict(1, 1)
  end
  pcall(function() local d <close> = ds:copy(); error("x") end)
  ds:close()
  assert(not pcall(movieme.train_als, ds))
end
os.remove(path)
collectgarbage()
print("valgrind smoke: ok")
