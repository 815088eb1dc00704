-- test_buffer.lua: aligned buffers: bytes in and out, alignment, growth,
-- ranges, and every error.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local T = require "check"
local rtmem = require "rtmem"

local ctx <close> = rtmem.context()
local b = ctx:buffer()
T.eq(#b, 0, "empty"); T.eq(b:len(), 0, "len"); T.eq(b:bytes(), "", "no bytes"); T.eq(b:align(), 32, "default align")
T.eq(b:append("abc", "", "de\0f"), 7, "append returns the length")
T.eq(b:bytes(), "abcde\0f", "bytes"); T.eq(b:bytes(2, 3), "bc", "range"); T.eq(b:bytes(-2), "\0f", "from the end")
T.eq(b:bytes(5, 2), "", "empty range"); T.eq(b:bytes(0), "abcde\0f", "0 is 1"); T.eq(b:bytes(-100, 100), "abcde\0f", "clamped")
T.eq(b:address() % 32, 0, "data aligned to 32")
b:write(1, "X"); b:write(8, "gh")
T.eq(b:bytes(), "Xbcde\0fgh", "write inside and at the end")
T.raises("position 11 is out of 1..10", b.write, b, 11, "z")
T.raises("position 0 is out of 1..10", b.write, b, 0, "z")
b:resize(12)
T.eq(b:bytes(), "Xbcde\0fgh\0\0\0", "resize zero-fills")
b:resize(2)
T.eq(b:bytes(), "Xb", "resize shrinks")
b:resize(4)
T.eq(b:bytes(), "Xb\0\0", "and grows zeroed again")
b:reserve(1 << 20)
T.ok(b:cap() >= 1 << 20, "reserve")
T.eq(b:address() % 32, 0, "aligned after growth")
b:clear()
T.eq(#b, 0, "clear"); T.ok(b:cap() >= 1 << 20, "clear keeps the room")
-- a big one, appended piece by piece
local parts = {}
for i = 1, 5000 do parts[i] = string.format("%05d;", i) b:append(parts[i]) end
T.eq(b:bytes(), table.concat(parts), "many appends")
-- alignments
for _, al in ipairs{1, 32, 64, 4096, 2 << 20} do
  local x <close> = ctx:buffer(al)
  x:append("q")
  T.eq(x:address() % math.max(al, 32), 0, "aligned to " .. al)
  T.eq(x:align(), math.max(al, 32), "align " .. al)
end
T.raises("the alignment must be a power of two", ctx.buffer, ctx, 48)
T.raises("the alignment must be a power of two", ctx.buffer, ctx, 4 << 20)
T.raises("negative alignment", ctx.buffer, ctx, -1)
T.raises("negative size", b.resize, b, -1)
T.raises("negative size", b.reserve, b, -5)
T.raises("string expected", b.append, b, {})
T.raises("rtmem.buffer expected", b.append, ctx, "x")
T.eq(ctx:check(), true, "consistent")
-- close and every use after; the context closed under a buffer
b:close(); b:close()
T.ok(tostring(b):find("(closed)", 1, true), "tostring closed")
for _, m in ipairs{"append", "bytes", "write", "resize", "reserve", "clear", "len", "cap", "align", "address"} do
  T.raises("the buffer was closed", b[m], b, 1, "x")
end
T.raises("the buffer was closed", function() return #b end)
local c2 = rtmem.context()
local orphan = c2:buffer()
orphan:append("x")
c2:close()
T.raises("the buffer's context was closed", orphan.bytes, orphan)
-- the limit
local small <close> = rtmem.context{limit = 1 << 20}
local sb = small:buffer()
sb:append("keep")
local ok, err = pcall(sb.append, sb, string.rep("x", 4 << 20))
T.eq(ok, false, "the limit"); T.ok(tostring(err):find("rtmem: append: limit reached", 1, true), tostring(err))
T.eq(sb:bytes(), "keep", "contents kept after the limit")
ok, err = pcall(sb.resize, sb, 8 << 20)
T.ok(tostring(err):find("resize: limit reached", 1, true), tostring(err))
T.eq(#sb, 4, "length kept")
T.eq(small:check(), true, "consistent after the limit")

T.done("test_buffer")
