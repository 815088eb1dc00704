-- test_arena.lua: arenas and record views: fields of every kind, nested
-- records and pointers between records, save/rewind/reset/close and every
-- use of a freed record, wrong fields and values, and the limit.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local T = require "check"
local rtmem = require "rtmem"

local ctx <close> = rtmem.context()
local Vec = rtmem.layout{ {"x", "f64"}, {"y", "f64"}, name = "Vec" }
local Node = rtmem.layout{ {"kind", "u16"}, {"line", "u32"}, {"left", "ptr"}, {"right", "ptr"},
                           {"pos", Vec}, {"name", "str"}, {"flags", "u8", 4}, {"ok", "bool"},
                           {"sym", "sym"}, {"h", "handle"}, name = "Node" }

local a = ctx:arena()
T.ok(tostring(a):find("rtmem.arena (0 records)", 1, true), "tostring")
local n = a:new(Node)
T.eq(n.kind, 0, "zeroed"); T.eq(n.name, nil, "no string"); T.eq(n.left, nil, "null pointer"); T.eq(n.ok, false, "false")
T.eq(table.concat(n.flags, ","), "0,0,0,0", "zeroed array")
n.kind, n.line, n.name, n.ok, n.sym, n.h = 65535, 4294967295, "root\0node", true, 7, -1
T.eq(n.kind, 65535, "u16"); T.eq(n.line, 4294967295, "u32"); T.eq(n.name, "root\0node", "str with a zero")
T.eq(n.ok, true, "bool"); T.eq(n.sym, 7, "sym"); T.eq(n.h, -1, "handle word")
n.flags = {1, 2, 3}
T.eq(table.concat(n.flags, ","), "1,2,3,0", "array written whole")
-- nested records are views: writes go through
n.pos.x = 1.5
n.pos = {y = 2.5}                          -- a whole record from a table (x back to 0)
T.eq(n.pos.x, 0.0, "whole record assigned"); T.eq(n.pos.y, 2.5, "nested write")
local p = n.pos
p.x = 9
T.eq(n.pos.x, 9.0, "a nested view writes into its record")
T.eq(rtmem.layout_of(p), Vec, "layout_of a nested view")
-- pointers between records
local l = a:new(Node, {kind = 2, line = 11, name = "left"})
n.left = l
T.eq(n.left, l, "a ptr field gives the record's view back")
T.eq(n.left.name, "left", "and its fields")
n.left.right = n
T.eq(l.right.kind, 65535, "a cycle")
T.eq(rtmem.address(n.left), rtmem.address(l), "address")
T.eq(type(rtmem.address(n)), "userdata", "address is a light userdata")
n.right = rtmem.address(l)                 -- a light userdata naming a live record
T.eq(n.right, l, "found by address")
n.left = nil
T.eq(n.left, nil, "pointer cleared")
local t = rtmem.totable(n)
T.eq(t.kind, 65535, "totable"); T.eq(t.pos.x, 9.0, "totable nested"); T.eq(type(t.right), "userdata", "totable ptr")
rtmem.set(n, {line = 5, name = "set"})
T.eq(n.line, 5, "rtmem.set"); T.eq(n.name, "set", "rtmem.set str")
T.eq(a:records(), 2, "records")

-- wrong fields and values: an error, the field unchanged
T.raises("no field 'nope' in layout 'Node'", function() return n.nope end)
T.raises("no field 'nope' in layout 'Node'", function() n.nope = 1 end)
T.raises("fields are named by strings, not number", function() return n[1] end)
T.raises("field 'kind' (u16): 65536 is out of range", function() n.kind = 65536 end)
T.eq(n.kind, 65535, "unchanged after a bad value")
T.raises("field 'kind' (u16): expected an integer, got string", function() n.kind = "1" end)
T.raises("field 'name' (str): expected a string or nil, got number", function() n.name = 5 end)
T.eq(n.name, "set", "string unchanged")
T.raises("field 'left' (ptr): expected a record, a light userdata or nil, got number", function() n.left = 5 end)
T.raises("field 'flags' (u8): 5 values for an array of 4", function() n.flags = {1, 2, 3, 4, 5} end)
T.eq(table.concat(n.flags, ","), "1,2,3,0", "array unchanged")
T.raises("field 'x' (f64): expected a number, got string", function() n.pos = {x = "a"} end)
T.eq(n.pos.x, 9.0, "record unchanged")
T.raises("no field 'z' in layout 'Vec'", a.new, a, Vec, {z = 1})
T.raises("rtmem.layout expected", a.new, a, {})
T.raises("table expected", a.new, a, Node, 5)
T.raises("rtmem.arena expected", a.new, ctx, Node)

-- a batch row's ptr field takes a record too
local B = ctx:batch(rtmem.layout{ {"node", "ptr"} })
B:push{node = n}
T.eq(B:get(1).node, rtmem.address(n), "a record stored in a batch row")

-- save and rewind: the records made since the mark are freed, the others live
local keep = a:new(Node, {line = 1})
local m = a:save()
local tmp = a:new(Node, {line = 2, name = "temporary"})
local tmp_pos = tmp.pos
keep.left = tmp
T.eq(a:records(), 4, "records before the rewind")
a:rewind(m)
T.eq(a:records(), 3, "records after the rewind")
T.raises("the record was freed", function() return tmp.line end)
T.raises("the record was freed", function() tmp.line = 3 end)
T.raises("the record was freed", function() return tmp_pos.x end)
T.raises("the record was freed", rtmem.totable, tmp)
T.raises("the record was freed", rtmem.address, tmp)
T.raises("the record was freed", function() B:push{node = tmp} end)
T.ok(tostring(tmp):find("(freed)", 1, true), "tostring of a freed record")
T.eq(type(keep.left), "userdata", "a pointer to a freed record is only an address")
T.eq(getmetatable(keep.left), nil, "a light userdata, not a view")
T.eq(keep.line, 1, "records before the mark live on")
T.eq(n.name, "set", "their strings too")
a:rewind(m)                                 -- a mark may be used again
local again = a:new(Node, {line = 3, name = "again"})
T.eq(again.line, 3, "the arena after a rewind")
T.eq(again.name, "again", "strings after a rewind")
-- a string written after the mark to a record made before it survives the rewind
local m2 = a:save()
keep.name = "written after the mark"
a:new(Node)
a:rewind(m2)
T.eq(keep.name, "written after the mark", "strings are not freed by a rewind")

-- marks: of another arena, stale
local a2 = ctx:arena()
local other = a2:save()
T.raises("the mark is another arena's", a.rewind, a, other)
local inner = a:save()
a:new(Node)
a:rewind(m)                                 -- frees inner's position
a:new(Node)
T.raises("rewind: the mark is stale", a.rewind, a, inner)
T.raises("rtmem.mark expected", a.rewind, a, {})
T.eq(ctx:check(), true, "consistent after the bad marks")

-- reset: everything freed, the arena usable
a:reset()
T.eq(a:records(), 0, "no records after reset")
for _, r in ipairs{n, l, keep, again, p} do
  T.raises("the record was freed", function() return r.kind or r.x end)
end
T.raises("the mark is stale", a.rewind, a, m)
local fresh = a:new(Node, {name = "fresh"})
T.eq(fresh.name, "fresh", "usable after reset")

-- close: now, twice, then every use
a:close(); a:close()
T.ok(tostring(a):find("(closed)", 1, true), "tostring closed")
T.raises("the record was freed", function() return fresh.name end)
for _, meth in ipairs{"new", "save", "rewind", "reset", "records"} do
  T.raises("the arena was closed", a[meth], a, Node)
end
do
  local scoped <close> = ctx:arena()
  a = scoped
  fresh = scoped:new(Vec)
end
T.raises("the arena was closed", a.new, a, Vec)
T.raises("the record was freed", function() return fresh.x end)
-- a context closed under its arena and records
local c2 = rtmem.context()
local a3 = c2:arena()
local r3 = a3:new(Node, {line = 1, name = "x"})
c2:close()
T.raises("the arena's context was closed", a3.new, a3, Node)
T.raises("the record's context was closed", function() return r3.line end)
a3, r3 = nil, nil
collectgarbage()
a2:close()

-- the limit, inside pcall: the arena and its records carry on
local small <close> = rtmem.context{limit = 2 << 20}
local la = small:arena()
local first = la:new(Node, {line = 42, name = "first"})
local ok, err = pcall(function() for _ = 1, 1e7 do la:new(Node) end end)
T.eq(ok, false, "the limit stops new records")
T.ok(tostring(err):find("rtmem: new: limit reached", 1, true), "limit error: " .. tostring(err))
T.eq(first.line, 42, "records made before live on"); T.eq(first.name, "first", "with their strings")
T.eq(small:check(), true, "consistent after the limit")
la:reset()
T.eq(la:new(Node, {line = 1}).line, 1, "usable after a reset")
ok, err = pcall(function() local r = la:new(Node); r.name = string.rep("x", 4 << 20) end)
T.eq(ok, false, "a string past the limit")
T.ok(tostring(err):find("string copy: limit reached", 1, true), "string copy error: " .. tostring(err))

T.done("test_arena")
