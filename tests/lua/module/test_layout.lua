-- test_layout.lua: rtmem.layout: C layout rules for every kind, arrays and
-- nested records, the methods, and every malformed description.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local T = require "check"
local rtmem = require "rtmem"

local function offsets(L)
  local t = {}
  for _, f in ipairs(L:fields()) do t[#t + 1] = f.name .. "@" .. f.offset end
  return table.concat(t, " ")
end

-- the C rules: each field at a multiple of its alignment, the size a
-- multiple of the largest one
local A = rtmem.layout{ {"a", "u8"}, {"b", "u32"} }
T.eq(A:size(), 8, "u8,u32 size"); T.eq(A:align(), 4, "u8,u32 align"); T.eq(A:offset("b"), 4, "offset b")
local B = rtmem.layout{ {"a", "u8"}, {"b", "u64"} }
T.eq(B:size(), 16, "u8,u64 size"); T.eq(B:offset("b"), 8, "u64 offset")
local C = rtmem.layout{ {"a", "u8"}, {"b", "u16"}, {"c", "u8"} }
T.eq(offsets(C), "a@0 b@2 c@4", "u8,u16,u8"); T.eq(C:size(), 6, "size 6"); T.eq(C:align(), 2, "align 2")

local All = rtmem.layout{
  {"i8", "i8"}, {"i16", "i16"}, {"i32", "i32"}, {"i64", "i64"},
  {"u8", "u8"}, {"u16", "u16"}, {"u32", "u32"}, {"u64", "u64"},
  {"f32", "f32"}, {"f64", "f64"}, {"ptr", "ptr"}, {"sym", "sym"},
  {"handle", "handle"}, {"bool", "bool"}, {"str", "str"}, name = "All" }
T.eq(offsets(All), "i8@0 i16@2 i32@4 i64@8 u8@16 u16@18 u32@20 u64@24 f32@32 f64@40 ptr@48 " ..
                   "sym@56 handle@64 bool@72 str@80", "every kind")
T.eq(All:size(), 96, "every kind: size"); T.eq(All:align(), 8, "every kind: align")
T.eq(#All, 15, "#layout")
T.eq(All:name(), "All", "name")
T.eq(tostring(All), "rtmem.layout All (15 fields, 96 bytes)", "tostring")

-- arrays and nested records
local Vec = rtmem.layout{ {"x", "f64"}, {"y", "f64"}, name = "Vec" }
local N = rtmem.layout{ {"tag", "u8"}, {"pos", Vec} }
T.eq(N:offset("pos"), 8, "nested offset"); T.eq(N:size(), 24, "nested size")
T.eq(N:name(), "", "anonymous"); T.eq(tostring(N), "rtmem.layout (2 fields, 24 bytes)", "anonymous tostring")
local Arr = rtmem.layout{ {"a", "u8", 3}, {"b", "u32"} }
T.eq(Arr:offset("b"), 4, "after u8[3]"); T.eq(Arr:size(), 8, "u8[3],u32")
local VA = rtmem.layout{ {"v", Vec, 2}, {"z", "u8"} }
T.eq(VA:offset("z"), 32, "after Vec[2]"); T.eq(VA:size(), 40, "Vec[2],u8")
local f = VA:fields()
T.eq(#f, 2, "fields"); T.eq(f[1].kind, "record", "record kind"); T.eq(f[1].count, 2, "count")
T.eq(f[1].size, 32, "array size"); T.eq(f[1].layout, Vec, "nested layout"); T.eq(f[2].layout, nil, "no layout")

-- the same Layout used from several contexts: each gets its own copy
local c1, c2 = rtmem.context(), rtmem.context()
local b1, b2 = c1:batch(VA), c2:batch(VA)
b1:push{v = {{x = 1, y = 2}}, z = 3}
b2:push{z = 4}
T.eq(b1:get(1).v[1].y, 2.0, "in context 1"); T.eq(b2:get(1).z, 4, "in context 2")
c1:close(); c2:close()

-- malformed descriptions
T.raises("table expected", rtmem.layout, "x")
T.raises("1 to 65536 fields, not 0", rtmem.layout, {})
T.raises("field 1 is not a table", rtmem.layout, {"x"})
T.raises("field 1 has no name", rtmem.layout, { {1, "u8"} })
T.raises("field 1 has no name", rtmem.layout, { {"", "u8"} })
T.raises("field 1 has no name", rtmem.layout, { {nil, "u8"} })
T.raises("two fields are called 'a'", rtmem.layout, { {"a", "u8"}, {"a", "u16"} })
T.raises("unknown kind 'u128'", rtmem.layout, { {"a", "u128"} })
T.raises("needs a kind", rtmem.layout, { {"a"} })
T.raises("needs a kind", rtmem.layout, { {"a", 5} })
T.raises("needs a kind", rtmem.layout, { {"a", rtmem.context()} })
T.raises("bad count", rtmem.layout, { {"a", "u8", 0} })
T.raises("bad count", rtmem.layout, { {"a", "u8", -2} })
T.raises("bad count", rtmem.layout, { {"a", "u8", 1.5} })
T.raises("bad count", rtmem.layout, { {"a", "u8", "x"} })
T.raises("name must be a string", rtmem.layout, { {"a", "u8"}, name = 5 })
T.raises("rtmem: layout: invalid argument", rtmem.layout, { {"a", "u8", 1 << 50} })
T.raises("no field 'nope'", All.offset, All, "nope")
T.raises("rtmem.layout expected", All.size, rtmem.context())
T.eq(getmetatable(All), "locked", "locked")

T.done("test_layout")
