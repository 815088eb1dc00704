-- test_batch.lua: batches: rows in and out for every kind at its limits,
-- every wrong value (and the row left as it was), the column kernels on
-- every numeric kind, selections, lifetime, and the limit.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local T = require "check"
local rtmem = require "rtmem"

local ctx <close> = rtmem.context()
local Vec = rtmem.layout{ {"x", "f64"}, {"y", "f64"}, name = "Vec" }
local All = rtmem.layout{
  {"i8", "i8"}, {"i16", "i16"}, {"i32", "i32"}, {"i64", "i64"},
  {"u8", "u8"}, {"u16", "u16"}, {"u32", "u32"}, {"u64", "u64"},
  {"f32", "f32"}, {"f64", "f64"}, {"ptr", "ptr"}, {"sym", "sym"},
  {"handle", "handle"}, {"bool", "bool"}, {"str", "str"},
  {"arr", "i16", 3}, {"pos", Vec}, {"path", Vec, 2}, name = "All" }

-- ---- round trips at the limits of every kind
local b = ctx:batch(All)
T.eq(#b, 0, "empty")
local lo = {i8 = -128, i16 = -32768, i32 = -2147483648, i64 = math.mininteger,
            u8 = 0, u16 = 0, u32 = 0, u64 = 0, f32 = -3.5, f64 = -1e308, sym = 0,
            handle = math.mininteger, bool = false, str = "", arr = {-1, 0, 1},
            pos = {x = -0.0, y = 1 / 0}, path = {{x = 1}, {y = 2}}}
local hi = {i8 = 127, i16 = 32767, i32 = 2147483647, i64 = math.maxinteger,
            u8 = 255, u16 = 65535, u32 = 4294967295, u64 = -1, f32 = 3.4028234663852886e38,
            f64 = 0 / 0, sym = 4294967295, handle = -1, bool = true, str = "a\0b\255",
            arr = {7}, pos = {x = 0.5, y = -1 / 0}, path = {}}
T.eq(b:push(lo), 1, "push returns the row number")
T.eq(b:push(hi), 2, "second row")
T.eq(b:push{}, 3, "an empty table is a row of zeros")
T.eq(#b, 3, "#b"); T.eq(b:len(), 3, "b:len()")
local r = b:get(1)
for _, k in ipairs{"i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "sym", "handle", "bool", "str"} do
  T.eq(r[k], lo[k], "low " .. k)
end
T.eq(math.type(r.i64), "integer", "integers come back as integers")
T.eq(math.type(r.f32), "float", "floats as floats")
T.eq(table.concat(r.arr, ","), "-1,0,1", "array")
T.eq(1 / r.pos.x, -1 / 0, "-0.0 kept"); T.eq(r.pos.y, 1 / 0, "inf kept")
T.eq(r.path[1].x, 1.0, "array of records"); T.eq(r.path[2].y, 2.0, "array of records 2")
T.eq(r.ptr, nil, "null pointer is nil")
r = b:get(2)
for _, k in ipairs{"i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "sym", "handle", "bool", "str"} do
  T.eq(r[k], hi[k], "high " .. k)
end
T.eq(#r.str, 4, "embedded zero kept")
T.eq(table.concat(r.arr, ","), "7,0,0", "short array padded with zeros")
r = b:get(3)
T.eq(r.i32, 0, "zero"); T.eq(r.bool, false, "zero bool"); T.eq(r.str, nil, "no string"); T.eq(r.pos.x, 0.0, "zero record")
T.eq(b:get(2).f32, 3.4028234663852886e38, "f32 max exact")
b:set(3, {f32 = 0.1})
T.eq(b:get(3).f32, 0.10000000149011612, "f32 rounds to float")
T.eq(b:get(3).i32, 0, "set replaces the whole row")

-- ---- wrong values: an error, and nothing written
local function rejects(text, row)
  local n = #b
  local before = b:get(1)
  T.raises(text, b.push, b, row)
  T.eq(#b, n, "no row added for " .. text)
  T.raises(text, b.set, b, 1, row)
  local after = b:get(1)
  T.eq(after.i32, before.i32, "row 1 kept after " .. text)
  T.eq(after.str, before.str, "row 1 kept after " .. text)
end
rejects("field 'i8' (i8): 128 is out of range", {i8 = 128})
rejects("field 'i8' (i8): -129 is out of range", {i8 = -129})
rejects("field 'u8' (u8): -1 is out of range", {u8 = -1})
rejects("field 'u8' (u8): 256 is out of range", {u8 = 256})
rejects("field 'u16' (u16): 65536 is out of range", {u16 = 65536})
rejects("field 'i16' (i16): 32768 is out of range", {i16 = 32768})
rejects("field 'i32' (i32): 2147483648 is out of range", {i32 = 2147483648})
rejects("field 'u32' (u32): 4294967296 is out of range", {u32 = 4294967296})
rejects("field 'sym' (sym): -1 is out of range", {sym = -1})
rejects("field 'f32' (f32): 1e+39 is out of range", {f32 = 1e39})
rejects("field 'i32' (i32): 1.5 has no integer value", {i32 = 1.5})
rejects("field 'i64' (i64): expected an integer, got string", {i64 = "3"})
rejects("field 'f64' (f64): expected a number, got string", {f64 = "1"})
rejects("field 'bool' (bool): expected a boolean, got number", {bool = 1})
rejects("field 'str' (str): expected a string or nil, got table", {str = {}})
rejects("field 'ptr' (ptr): expected a record, a light userdata or nil, got string", {ptr = "p"})
rejects("field 'arr' (i16): expected a table (an array), got number", {arr = 3})
rejects("field 'arr' (i16): 4 values for an array of 3", {arr = {1, 2, 3, 4}})
rejects("field 'arr' (i16): 40000 is out of range", {arr = {1, 40000}})
rejects("field 'pos' (record): expected a table, got number", {pos = 1})
rejects("field 'x' (f64): expected a number, got boolean", {pos = {x = true}})
rejects("field 'x' (f64): expected a number, got string", {path = {{x = 1}, {x = "no"}}})
rejects("no field 'nope' in layout 'All'", {nope = 1})
rejects("no field 'z' in layout 'Vec'", {pos = {z = 1}})
rejects("a row has a key of type number", {1, 2})
T.raises("table expected", b.push, b, 42)
T.raises("table expected", b.set, b, 1, "x")
for _, i in ipairs{0, 4, -1} do T.raises("row " .. i .. " is out of range (the batch has 3)", b.get, b, i) end
T.raises("number expected", b.get, b, "x")
T.raises("row 9 is out of range", b.set, b, 9, {})

-- ---- columns
T.eq(table.concat(b:columns(), " "), "i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 ptr sym handle bool str " ..
     "arr[0] arr[1] arr[2] pos.x pos.y path[0].x path[0].y path[1].x path[1].y", "column names")
T.eq(table.concat(b:column("u16"), ","), "0,65535,0", "column values")
T.eq(b:column("str")[2], "a\0b\255", "string column")
T.eq(b:column("path[1].y")[1], 2.0, "nested column")
T.raises("the batch has no column 'path'", b.column, b, "path")
T.raises("the batch has no column 'nope'", b.sum, b, "nope")
T.eq(ctx:error(), "ok", "a missing column is not a context failure")

-- ---- kernels on every numeric kind
local K = rtmem.layout{ {"i8", "i8"}, {"i16", "i16"}, {"i32", "i32"}, {"i64", "i64"}, {"u8", "u8"},
                        {"u16", "u16"}, {"u32", "u32"}, {"u64", "u64"}, {"sym", "sym"},
                        {"f32", "f32"}, {"f64", "f64"}, {"flag", "bool"}, {"s", "str"} }
local k = ctx:batch(K)
for _, col in ipairs{"i8", "i32", "f64", "u64"} do
  T.eq(k:sum(col), (col == "f64") and 0.0 or 0, "empty sum " .. col)
  T.eq(k:mean(col), nil, "empty mean"); T.eq(k:min(col), nil, "empty min"); T.eq(k:max(col), nil, "empty max")
  T.eq(#k:select(col, ">", 0), 0, "empty select"); T.eq(k:count(col, "<", 0), 0, "empty count")
end
local n = 1000
local want = {}
for i = 1, n do
  local v = (i * 37) % 101 - 50 -- -50 .. 50
  k:push{i8 = v, i16 = v * 100, i32 = v * 10000, i64 = v * 1000000000000, u8 = v + 50, u16 = (v + 50) * 600,
         u32 = (v + 50) * 40000000, u64 = (v + 50) * 1000000000000, sym = i, f32 = v / 4, f64 = v / 8,
         flag = v > 0, s = "s" .. i}
  want[i] = v
end
local sum, mn, mx, gt10, eq0 = 0, math.huge, -math.huge, {}, 0
for i, v in ipairs(want) do
  sum = sum + v
  if v < mn then mn = v end
  if v > mx then mx = v end
  if v > 10 then gt10[#gt10 + 1] = i end
  if v == 0 then eq0 = eq0 + 1 end
end
local scales = {i8 = 1, i16 = 100, i32 = 10000, i64 = 1000000000000}
for col, s in pairs(scales) do
  T.eq(k:sum(col), sum * s, "sum " .. col); T.eq(math.type(k:sum(col)), "integer", "integer sum " .. col)
  T.eq(k:min(col), mn * s, "min " .. col); T.eq(k:max(col), mx * s, "max " .. col)
  T.eq(k:mean(col), sum * s / n, "mean " .. col)
  T.eq(table.concat(k:select(col, ">", 10 * s), ","), table.concat(gt10, ","), "select > " .. col)
  T.eq(k:count(col, "==", 0), eq0, "count == " .. col)
  T.eq(k:count(col, "~=", 0), n - eq0, "count ~= " .. col)
  T.eq(k:count(col, "!=", 0), n - eq0, "count != " .. col)
  T.eq(k:count(col, "<", 10 * s) + k:count(col, ">=", 10 * s), n, "< and >= partition " .. col)
  T.eq(k:count(col, "<=", 10 * s) + k:count(col, ">", 10 * s), n, "<= and > partition " .. col)
  T.eq(k:count(col, ">", 10.5 * s), #gt10, "a fractional value " .. col)
end
local uscales = {u8 = 1, u16 = 600, u32 = 40000000, u64 = 1000000000000}
for col, s in pairs(uscales) do
  T.eq(k:sum(col), (sum + 50 * n) * s, "sum " .. col)
  T.eq(k:min(col), (mn + 50) * s, "min " .. col); T.eq(k:max(col), (mx + 50) * s, "max " .. col)
  T.eq(table.concat(k:select(col, ">", 60 * s), ","), table.concat(gt10, ","), "select " .. col)
end
T.eq(k:sum("sym"), n * (n + 1) // 2, "sum sym"); T.eq(k:max("sym"), n, "max sym")
T.eq(k:sum("f32"), sum / 4, "sum f32"); T.eq(k:sum("f64"), sum / 8, "sum f64")
T.eq(k:min("f64"), mn / 8, "min f64"); T.eq(k:max("f32"), mx / 4, "max f32")
T.eq(k:mean("f64"), sum / 8 / n, "mean f64")
T.eq(table.concat(k:select("f64", ">", 10 / 8), ","), table.concat(gt10, ","), "select f64")
T.eq(table.concat(k:select("f32", ">", 2.5), ","), table.concat(gt10, ","), "select f32 (exact value)")
T.eq(k:count("f32", ">", 2.6), #gt10, "select f32 (inexact value)")
T.eq(k:count("f32", "==", 2.75), k:count("i32", "==", 110000), "f32 == an exact value")
T.eq(k:count("f32", "==", 0.1), 0, "f32 == 0.1 compares as Lua would")
T.eq(k:count("i32", ">", 1e12), 0, "a value out of an i32's range")
T.eq(k:count("i32", "<", 1e12), n, "a value out of an i32's range, below")
T.eq(k:count("i32", ">", -(1 << 40)), n, "an integer out of an i32's range")
T.eq(k:count("f64", "<", 1 << 60), n, "a huge integer against f64")
-- not numbers, bad operators, bad values
for _, m in ipairs{"sum", "mean", "min", "max"} do
  T.raises("column 'flag' holds bool values, not numbers", k[m], k, "flag")
  T.raises("column 's' holds str values, not numbers", k[m], k, "s")
end
T.raises("column 's' holds str values", k.select, k, "s", "==", 1)
T.raises("invalid option '=>'", k.select, k, "i32", "=>", 1)
T.raises("expected a number to compare with, got string", k.select, k, "i32", ">", "1")
T.raises("expected a number to compare with, got no value", k.count, k, "i32", ">")
-- an integer sum that does not fit 64 bits
local big = ctx:batch(rtmem.layout{ {"v", "i64"} })
big:push{v = math.maxinteger}; big:push{v = 1}
T.raises("the sum does not fit a 64-bit integer", big.sum, big, "v")
local bigu = ctx:batch(rtmem.layout{ {"v", "u64"} })
bigu:push{v = -1}
T.raises("the sum does not fit a 64-bit integer", bigu.sum, bigu, "v")
T.eq(bigu:max("v"), -1, "u64 max compares unsigned, reads as a 64-bit word")

-- ---- clear, reserve, cap
k:reserve(5000)
T.ok(k:cap() >= 5000, "reserve")
T.raises("negative row count", k.reserve, k, -1)
k:clear()
T.eq(#k, 0, "clear"); T.ok(k:cap() >= 5000, "clear keeps the room")
k:push{s = "again"}
T.eq(k:get(1).s, "again", "usable after clear")

-- ---- strings stay alive with the batch
local sb = ctx:batch(rtmem.layout{ {"s", "str"} })
for i = 1, 200 do sb:push{s = string.rep("x", i % 50) .. i} end
collectgarbage(); collectgarbage()
T.eq(sb:get(123).s, string.rep("x", 123 % 50) .. 123, "string after a collection")

-- ---- lifetime
T.ok(tostring(b):find("rtmem.batch of All (3 rows)", 1, true), "tostring")
b:close()
b:close()
T.ok(tostring(b):find("(closed)", 1, true), "tostring closed")
for _, m in ipairs{"push", "get", "set", "len", "sum", "columns", "clear", "select"} do
  T.raises("the batch was closed", b[m], b, 1)
end
T.raises("the batch was closed", function() return #b end)
do
  local scoped <close> = ctx:batch(Vec)
  scoped:push{x = 1}
  b = scoped
end
T.raises("the batch was closed", b.get, b, 1)
local c2 = rtmem.context()
local orphan = c2:batch(Vec)
orphan:push{x = 1}
c2:close()
T.raises("the batch's context was closed", orphan.get, orphan, 1)
T.raises("the context was closed", c2.batch, c2, Vec)
orphan = nil
collectgarbage() -- its finalizer must not touch the closed context
T.raises("rtmem.batch expected", k.push, ctx, {})
T.raises("rtmem.layout expected", ctx.batch, ctx, {})

-- ---- the limit, inside pcall: the batch and the context carry on
local small <close> = rtmem.context{limit = 2 << 20}
local lb = small:batch(rtmem.layout{ {"a", "f64"}, {"b", "f64"}, {"c", "i64"} })
local ok, err = pcall(function() for i = 1, 1e7 do lb:push{a = i} end end)
T.eq(ok, false, "the limit stops the pushes")
T.ok(tostring(err):find("rtmem: push: limit reached", 1, true), "limit error: " .. tostring(err))
local rows = #lb
T.ok(rows > 1000, "rows before the limit")
T.eq(lb:get(rows).a, rows + 0.0, "the last row is intact")
T.eq(small:error(), "limit reached", "the context says why")
T.ok(small:stats().limit_hits > 0, "limit hits counted")
T.eq(small:check(), true, "consistent after the limit")
lb:clear()
T.eq(lb:push{a = 1}, 1, "usable after the limit")

T.done("test_batch")
