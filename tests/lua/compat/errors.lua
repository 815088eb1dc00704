-- errors.lua: error values, levels and the messages the core and the library produce.
local function try(f, ...) print(pcall(f, ...)) end

try(error, "plain")
try(error, "level0", 0)
try(function() error("level1") end)
try(function() error("level2", 2) end)
print(select("#", pcall(error, {code = 1})), type(select(2, pcall(error, {code = 1}))))
try(error)
try(error, 42)
try(function() local t = nil; return t.x end)
try(function() return undefined_global.field end)
try(function() local t = {} return t.a.b end)
try(function() return 1 + {} end)
try(function() return "a" < 1 end)
try(function() return {} < {} end)
try(function() return #nil end)
try(function() return ("x"):bad() end)
try(function() local s = "abc"; return s.y.z end)
try(string.rep)
try(string.rep, "x", "y")
try(setmetatable, 1, {})
try(table.concat, {1, {}, 3})
try(table.insert, {}, 1, 2, 3)
try(string.format, "%d", 1.5)
try(tostring)
try(ipairs)
try(math.floor, "a")
try(function() return 1 // 0 end)
try(function() return 1 % 0 end)
try(function() return math.tointeger(2^63) end)
try(function() for i = 1, 10, 0 do end end)
try(function() local a <close> = 42 end)
try(string.char, 256)
try(utf8.char, -1)
try(select, 0)
try(coroutine.resume, coroutine.running())

print(xpcall(function() error("xp") end, function(m) return "handled: " .. m end))
print(xpcall(function() error("xp") end, debug.traceback))
print(select(2, xpcall(function() local x = nil; x() end, function(m) return debug.traceback(m, 1) end)))

-- errors in metamethods and finalizers reported through pcall
local mt = {__index = function(t, k) error("no field " .. k) end}
try(function() return setmetatable({}, mt).missing end)
local ok, e = pcall(error, setmetatable({}, {__tostring = function() return "custom" end}))
print(ok, tostring(e))

-- error while handling an error
print(xpcall(function() error("first") end, function() error("second") end))

-- a deep recursion is a stack overflow, caught
local function rec(n) return rec(n + 1) + 1 end
local ok2, e2 = pcall(rec, 1)
print(ok2, (tostring(e2):gsub("^.-:%d+: ", "")))
