-- test_context.lua: rtmem.context, rtmem.current, stats, check, trim,
-- close, and the errors of each.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local T = require "check"
local rtmem = require "rtmem"

T.eq(type(rtmem.version), "string", "rtmem.version")
T.ok(rtmem.version:match("^%d+%.%d+%.%d+$"), "version format")

-- rtmem.current(): the interpreter's own context under rtlua, nil otherwise
local cur = rtmem.current()
if T.under_rtlua() then
  T.eq(rtmem.current(), cur, "current() is always the same object")
  T.ok(cur:is_current(), "is_current")
  T.ok(tostring(cur):find("rtmem.context (current)", 1, true), "tostring of current")
  local st = cur:stats()
  T.ok(st.heap_bytes_in_use > 0, "the interpreter's heap is in use")
  T.ok(st.lua_allocs_by_tag.table > 0 and st.lua_allocs_by_tag.string > 0, "Lua allocations by type")
  T.raises("the interpreter's own context cannot be closed", cur.close, cur)
  T.ok(cur:check(), "check on current")
  -- the heap grows with what Lua allocates, and shrinks when it is collected
  collectgarbage()
  local before = cur:stats().heap_bytes_in_use
  local t = {}
  for i = 1, 10000 do t[i] = {i} end
  T.ok(cur:stats().heap_bytes_in_use > before + 10000 * 16, "tables show in the heap")
  t = nil
  collectgarbage()
  collectgarbage()
  T.ok(cur:stats().heap_bytes_in_use < before + 64 * 1024, "and leave it when collected")
else
  T.eq(cur, nil, "current() under the stock interpreter")
end

-- making contexts
local c1 = rtmem.context()
T.ok(not c1:is_current(), "a new context is not current")
T.ok(tostring(c1):find("^rtmem%.context %("), "tostring")
T.eq(getmetatable(c1), "locked", "metatables are locked")
local c2 = rtmem.context{limit = 8 << 20, debug = true}
T.eq(c2:stats().limit_bytes, 8 << 20, "limit")
T.eq(c1:stats().limit_bytes, 0, "no limit")
T.raises("limit must be a byte count", rtmem.context, {limit = -1})
T.raises("limit must be a byte count", rtmem.context, {limit = "big"})
T.raises("limit must be a byte count", rtmem.context, {limit = 1.5})
T.raises("rtmem: context: limit reached", rtmem.context, {limit = 100})
-- room for a context, not for its seeded interner
T.raises("rtmem: context: limit reached", rtmem.context,
         {limit = c1:stats().page_bytes, keywords = {"python"}})
T.raises("no keyword set 'no-such-language'", rtmem.context, {keywords = {"no-such-language"}})
T.raises("no keyword set 'Lua'", rtmem.context, {keywords = {"lua", "Lua"}})
T.raises("keywords", rtmem.context, {keywords = "lua"})
T.raises("keywords[1] is not a string", rtmem.context, {keywords = {1}})
T.raises("table expected", rtmem.context, 42)

-- stats: every field of the JSON document is in the table, with its value
local st = c1:stats()
T.eq(st.version, 1, "stats version")
local json = c1:stats_json()
local n = 0
for key, value in json:gmatch('"([%w_]+)": (%d+)') do
  if key ~= "block_size" and key ~= "allocs" and key ~= "frees" and key ~= "live_blocks" and key ~= "pages"
     and st.lua_allocs_by_tag[key] == nil then
    T.ok(st[key] ~= nil, "stats() has " .. key)
    T.eq(st[key], tonumber(value), key)
    n = n + 1
  end
end
T.ok(n >= 40, "the JSON document has the fields")
T.ok(json:match("^{") and json:match("}\n$"), "JSON document")
T.eq(type(st.classes), "table", "classes")
local prom = c1:stats_prometheus()
T.ok(prom:find("# TYPE rtmem_page_bytes gauge\nrtmem_page_bytes ", 1, true), "prometheus text")

-- check, trim, error
T.eq(c1:check(), true, "check")
c1:trim()
T.eq(c1:error(), "ok", "no error yet")
T.eq(c1:check(), true, "check after trim")

-- methods on something else
T.raises("rtmem.context expected", c1.stats, 42)
T.raises("rtmem.context expected", c1.stats, setmetatable({}, {}))
T.raises("rtmem.context expected", c1.close, "x")

-- close: now, twice, and every use after
c1:close()
c1:close()
T.eq(tostring(c1), "rtmem.context (closed)", "tostring closed")
for _, m in ipairs{"stats", "stats_json", "stats_prometheus", "check", "trim", "error", "is_current"} do
  T.raises("the context was closed", c1[m], c1)
end

-- <close> variables and the collector close contexts
do
  local scoped <close> = rtmem.context()
  T.eq(scoped:check(), true, "scoped")
  c1 = scoped
end
T.raises("the context was closed", c1.stats, c1)
for _ = 1, T.scale(200) do rtmem.context{limit = 1 << 20} end
collectgarbage()
collectgarbage()
c2:close()

T.done("test_context")
