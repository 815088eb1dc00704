-- test_churn.lua: a long churn of batches, arenas with records, pools with
-- handles, and buffers,
-- made, used and dropped in every way
-- (closed, <close>, left to the collector, their context closed first); after
-- collectgarbage() the context holds exactly what it held before.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local T = require "check"
local rtmem = require "rtmem"

local Row = rtmem.layout{ {"id", "u32"}, {"score", "f64"}, {"name", "str"}, {"v", "i16", 4}, name = "Row" }
local Pair = rtmem.layout{ {"a", "i64"}, {"b", "f32"} }
local Node = rtmem.layout{ {"id", "u32"}, {"left", "ptr"}, {"right", "ptr"}, {"name", "str"}, name = "Node" }

local function churn(ctx, rounds)
  for round = 1, rounds do
    local kept = {}
    for j = 1, 8 do
      local b = ctx:batch(j % 2 == 0 and Row or Pair)
      for i = 1, (round * 7 + j * 13) % 300 do
        if j % 2 == 0 then b:push{id = i, score = i / 3, name = "n" .. i, v = {i % 100, -1}}
        else b:push{a = i * round, b = i / 2} end
      end
      if j % 4 == 0 then b:close()                 -- closed explicitly
      elseif j % 4 == 1 then kept[#kept + 1] = b   -- kept a while, then dropped
      elseif j % 4 == 2 then local s <close> = b   -- closed at the end of the scope
      end                                          -- j % 4 == 3: dropped at once
    end
    -- arenas with records, rewound, reset, closed or dropped; buffers
    local a = ctx:arena()
    local root = a:new(Node, {id = round, name = "root" .. round})
    for i = 1, round % 40 do
      local m = a:save()
      local n = a:new(Node, {id = i, left = root, name = "n" .. i})
      root.right = n
      if i % 3 == 0 then a:rewind(m) end
    end
    if round % 3 == 0 then a:reset() elseif round % 3 == 1 then a:close() end
    -- pools: handles closed, released, borrowed, forgotten; pools closed or dropped
    local pool = ctx:pool(Node)
    for i = 1, round % 30 do
      local h = pool:acquire{id = i, name = "h" .. i}
      if i % 3 == 0 then pool:release(h)
      elseif i % 3 == 1 then local s <close> = h
      else pool:get(rtmem.handle(h)).id = i + 1 end
    end
    if round % 2 == 0 then pool:close() end
    local buf = ctx:buffer(64)
    buf:append(string.rep("b", round % 100), "end")
    if round % 2 == 0 then buf:close() end
    if round % 10 == 0 then collectgarbage("step") end
    if round % 25 == 0 then
      local c2 = rtmem.context()                   -- a context closed under its objects
      local orphan = c2:batch(Row)
      orphan:push{id = round}
      c2:close()
    end
  end
  collectgarbage()
  collectgarbage()
end

-- a context of the module's own
local ctx <close> = rtmem.context{debug = true}
ctx:batch(Row):close(); ctx:batch(Pair):close()  -- the layouts' copies, made once
collectgarbage()
local base = ctx:stats()
do -- the stats see a batch while it lives
  local b <close> = ctx:batch(Row)
  for i = 1, 100 do b:push{id = i} end
  local mid = ctx:stats()
  T.eq(mid.batches_live, base.batches_live + 1, "a live batch is counted")
  T.eq(mid.batch_rows, 100, "its rows are counted")
  T.ok(mid.batch_bytes > base.batch_bytes and mid.bytes_in_use > base.bytes_in_use, "its bytes are counted")
end
churn(ctx, T.scale(400))
local st = ctx:stats()
T.eq(st.batches_live, 0, "no batch left")
T.eq(st.arenas_live, base.arenas_live, "no arena left")
T.eq(st.bufs_live, base.bufs_live, "no buffer left")
T.eq(st.pools_live, base.pools_live, "no pool left")
T.eq(st.pool_objects_live, base.pool_objects_live, "no pool object left")
T.eq(st.arena_bytes_used, base.arena_bytes_used, "no arena bytes in use")
T.eq(st.batch_rows, 0, "no row left")
T.eq(st.batch_bytes, base.batch_bytes, "batch bytes back to the baseline")
T.eq(st.bytes_in_use, base.bytes_in_use, "bytes in use back to the baseline")
T.eq(st.heap_bytes_in_use, base.heap_bytes_in_use, "heap bytes back to the baseline")
T.eq(st.heap_bad_frees, 0, "no bad free")
T.eq(ctx:check(), true, "consistent")
T.ok(st.heap_allocs > base.heap_allocs or st.page_reserves > base.page_reserves, "the churn did allocate")

-- under rtlua, the interpreter's own context too: its batches go, and Lua's
-- own heap comes back near where it was
local cur = rtmem.current()
if cur then
  cur:batch(Row):close(); cur:batch(Pair):close()
  collectgarbage(); collectgarbage()
  local cbase = cur:stats()
  churn(cur, T.scale(200))
  local cst = cur:stats()
  T.eq(cst.batches_live, cbase.batches_live, "interpreter: no batch left")
  T.eq(cst.arenas_live, cbase.arenas_live, "interpreter: no arena left")
  T.eq(cst.bufs_live, cbase.bufs_live, "interpreter: no buffer left")
  T.eq(cst.pools_live, cbase.pools_live, "interpreter: no pool left")
  T.eq(cst.batch_bytes, cbase.batch_bytes, "interpreter: batch bytes back")
  T.ok(cst.heap_bytes_in_use < cbase.heap_bytes_in_use + 256 * 1024, "interpreter: Lua's heap came back")
  T.eq(cur:check(), true, "interpreter: consistent")
end

T.done("test_churn")
