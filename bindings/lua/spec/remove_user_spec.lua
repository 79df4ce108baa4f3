-- busted: model:remove_user(id) forgets a trained or added user.
local movieme = require("movieme")

local function tiny()
  local ds = movieme.Ratings()
  local rows = {}
  for u = 1, 20 do
    for m = 1, 12 do
      if (u * 7 + m * 3) % 4 ~= 0 then
        rows[#rows + 1] = {u, m, 0.5 + ((u * m) % 10) / 2}
      end
    end
  end
  ds:add(rows)
  return ds
end

describe("remove_user", function()
  local model
  before_each(function()
    model = movieme.train_als(tiny(), {rank = 3, iterations = 3, seed = 1,
                                       n_threads = 1})
  end)

  it("forgets a trained user and leaves the others alone", function()
    local n = model:n_users()
    local other = model:top_n(2, 12)
    model:remove_user(1)
    assert.is_false(model:has_user(1))
    assert.equals(n - 1, model:n_users())
    assert.is_false(pcall(model.top_n, model, 1, 5))
    assert.equals(model:predict(999, 3), model:predict(1, 3))
    assert.same(other, model:top_n(2, 12))
  end)

  it("re-adds an id afresh", function()
    model:add_user({{1, 5.0}, {2, 4.0}, {3, 1.0}}, 500)
    model:remove_user(500)
    assert.is_false(model:has_user(500))
    assert.equals(500, model:add_user({{1, 5.0}, {2, 4.0}}, 500))
    local recs = model:top_n(500, 20)
    assert.equals(10, #recs)    -- movie 3 is a candidate again
    assert.same(model:recommend_for_ratings({{1, 5.0}, {2, 4.0}}, 20), recs)
  end)

  it("raises for an unknown user, catchable with pcall", function()
    local ok, err = pcall(model.remove_user, model, 12345)
    assert.is_false(ok)
    assert.truthy(tostring(err):find("12345"))
    model:remove_user(4)
    assert.is_false(pcall(model.remove_user, model, 4))
  end)
end)
