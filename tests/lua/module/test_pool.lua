-- test_pool.lua: pools and handles: fields, <close> and collected handles,
-- stale, foreign and borrowed handles, handle fields, the cap and the limit.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local T = require "check"
local rtmem = require "rtmem"

local ctx <close> = rtmem.context()
local Vec = rtmem.layout{ {"x", "f64"}, {"y", "f64"}, name = "Vec" }
local Obj = rtmem.layout{ {"id", "u32"}, {"name", "str"}, {"pos", Vec}, {"owner", "handle"},
                          {"v", "i16", 3}, name = "Obj" }
local pool = ctx:pool(Obj)
T.eq(#pool, 0, "empty pool")
T.ok(tostring(pool):find("rtmem.pool of Obj (0 live)", 1, true), "tostring")
local st = pool:stats()
T.eq(st.name, "Obj", "named after the layout"); T.eq(st.size, Obj:size(), "object size")

-- fields
local h = pool:acquire()
T.eq(h.id, 0, "zeroed"); T.eq(h.name, nil, "no string"); T.eq(h.pos.x, 0.0, "zeroed record")
h.id, h.name, h.pos, h.v = 7, "seven", {x = 1.5}, {1, 2}
T.eq(h.id, 7, "id"); T.eq(h.name, "seven", "name"); T.eq(h.pos.x, 1.5, "record as a table")
T.eq(table.concat(h.v, ","), "1,2,0", "array")
T.eq(rtmem.totable(h).name, "seven", "totable")
local h2 = pool:acquire{id = 8, name = "eight", owner = h}
T.eq(h2.owner, rtmem.handle(h), "a handle field stores the handle's bits")
T.eq(math.type(rtmem.handle(h)), "integer", "bits are an integer")
T.eq(#pool, 2, "two live")
T.ok(tostring(h):find("rtmem.handle Obj (live)", 1, true), "handle tostring")
-- a borrowed handle from the bits: the same object
local b = pool:get(h2.owner)
T.eq(b.name, "seven", "borrowed"); T.eq(b, h, "equal handles")
T.ok(tostring(b):find("borrowed", 1, true), "borrowed tostring")
b.id = 70
T.eq(h.id, 70, "writes through a borrowed handle")
collectgarbage(); collectgarbage()                 -- strings of live objects stay
T.eq(h.name, "seven", "string after a collection")

-- wrong fields and values
T.raises("no field 'nope' in layout 'Obj'", function() return h.nope end)
T.raises("no field 'nope' in layout 'Obj'", function() h.nope = 1 end)
T.raises("fields are named by strings, not number", function() return h[1] end)
T.raises("field 'id' (u32): -1 is out of range", function() h.id = -1 end)
T.eq(h.id, 70, "unchanged")
T.raises("field 'owner' (handle): expected a handle or an integer, got string", function() h.owner = "x" end)
local before = #pool
T.raises("field 'name' (str): expected a string or nil, got number", pool.acquire, pool, {name = 1})
T.raises("no field 'zz' in layout 'Obj'", pool.acquire, pool, {zz = 1})
T.eq(#pool, before, "a bad acquire acquires nothing")
T.raises("table expected", pool.acquire, pool, 5)

-- release: the handle and every copy go stale
pool:release(h)
T.eq(#pool, 1, "released")
T.raises("the handle is stale (its object was released)", function() return h.id end)
T.raises("the handle is stale", function() return b.id end)
T.raises("the handle is stale", function() h.id = 1 end)
T.raises("the handle is stale", rtmem.totable, h)
T.raises("release: the handle is stale", pool.release, pool, h)
T.raises("release: the handle is stale", pool.release, pool, b)
T.raises("the handle is stale", pool.get, pool, rtmem.handle(h))
T.raises("the handle is stale", function() h2.owner = h end)
T.ok(tostring(h):find("(stale)", 1, true), "stale tostring")
T.raises("get: the null handle", pool.get, pool, 0)
T.raises("number expected", pool.get, pool, "x")
T.eq(ctx:check(), true, "consistent after the stale uses")

-- <close> releases at the end of the scope; a copy released first is fine
do
  local s <close> = pool:acquire{id = 1}
  T.eq(#pool, 2, "live in the scope")
end
T.eq(#pool, 1, "released at the end of the scope")
do
  local s <close> = pool:acquire{id = 2}
  pool:release(pool:get(rtmem.handle(s)))         -- through a borrowed copy
end
T.eq(#pool, 1, "no double release at the end of the scope")
do
  local s <close> = pool:acquire()
  pool:release(s)                                  -- explicitly, then the scope ends
end
T.eq(#pool, 1, "released once")
-- a borrowed handle never releases by itself
do local bb <close> = pool:get(rtmem.handle(h2)) end
T.eq(h2.id, 8, "the object outlives its borrowed handle")
-- the collector releases forgotten handles
collectgarbage("stop")
for i = 1, 100 do pool:acquire{id = i, name = "forgotten" .. i} end
T.eq(#pool, 101, "forgotten but live")
collectgarbage("restart")
collectgarbage(); collectgarbage()
T.eq(#pool, 1, "the collector released them")
local ps = pool:stats()
T.ok(ps.acquires >= ps.releases and ps.live == 1, "stats")

-- bursts: a pool that keeps its emptied slabs makes them once
local burst_pool = ctx:pool(Vec, {name = "burst"})
T.eq(burst_pool:keep_slabs(64), burst_pool, "keep_slabs returns the pool")
local function burst()
  local hs = {}
  for i = 1, 20000 do hs[i] = burst_pool:acquire{x = i} end
  for i = 1, 20000 do burst_pool:release(hs[i]) end
end
burst()
local made = burst_pool:stats().misses
T.ok(burst_pool:stats().slabs > 3, "the burst's slabs are kept (20,000 objects: 8)")
burst(); burst()
T.eq(burst_pool:stats().misses, made, "no slab made again")
T.raises("a slab count >= 1", burst_pool.keep_slabs, burst_pool, 0)
T.raises("number expected", burst_pool.keep_slabs, burst_pool, "many")

-- foreign handles
local other = ctx:pool(Vec)
local oh = other:acquire{x = 3}
T.raises("release: the handle is foreign", pool.release, pool, oh)
T.raises("the handle is foreign", pool.get, pool, rtmem.handle(oh))
T.eq(oh.x, 3.0, "the other pool's object is untouched")
T.raises("rtmem.handle expected", pool.release, pool, {})
T.raises("rtmem.pool expected", pool.acquire, ctx)

-- the cap
local capped = ctx:pool(Vec, {cap = 3, name = "capped"})
T.eq(capped:stats().name, "capped", "name option")
local keep = {}
for i = 1, 3 do keep[i] = capped:acquire{x = i} end
T.raises("rtmem: acquire: limit reached", capped.acquire, capped)
capped:release(keep[1])
keep[1] = capped:acquire{x = 9}
T.eq(keep[1].x, 9.0, "room again after a release")
T.raises("cap must be a count", ctx.pool, ctx, Vec, {cap = -1})
T.raises("name must be a string", ctx.pool, ctx, Vec, {name = 1})

-- closing the pool, the context
local p3 = ctx:pool(Vec)
local h3 = p3:acquire{x = 1}
p3:close(); p3:close()
T.raises("the handle's pool was closed", function() return h3.x end)
T.raises("the pool was closed", p3.acquire, p3)
T.ok(tostring(p3):find("(closed)", 1, true), "closed pool tostring")
T.ok(ctx:stats().pool_leaked >= 1, "a pool closed with a live object reports it")
local c2 = rtmem.context()
local p4 = c2:pool(Vec)
local h4 = p4:acquire()
c2:close()
T.raises("the handle's context was closed", function() return h4.x end)
T.raises("the pool's context was closed", p4.acquire, p4)
h4, p4 = nil, nil
collectgarbage()

-- the limit inside pcall
local small <close> = rtmem.context{limit = 1 << 20}
local sp = small:pool(Obj)
local held = {}
local ok, err = pcall(function() for i = 1, 1e7 do held[i] = sp:acquire{id = i} end end)
T.eq(ok, false, "the limit stops acquires")
T.ok(tostring(err):find("rtmem: acquire: limit reached", 1, true), tostring(err))
T.eq(held[1].id, 1, "objects acquired before live on")
T.eq(small:check(), true, "consistent after the limit")
held = nil
collectgarbage(); collectgarbage()
T.eq(#sp, 0, "all released by the collector")
T.eq(sp:acquire{id = 5}.id, 5, "usable after the limit")

T.done("test_pool")
