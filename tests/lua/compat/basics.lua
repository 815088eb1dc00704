-- basics.lua: the language and the standard library, printed deterministically.
local function show(...) print(select('#', ...), ...) end

-- numbers
print(1 + 2, 7 // 2, 7 % -3, -7 // 2, 7 / 2, 2^10, 1e300 * 1e10, -0.0, 0/0 ~= 0/0)
print(math.maxinteger + 1 == math.mininteger, math.tointeger(3.0), 3 | 5, 6 & 3, 1 << 62, ~0)
print(string.format("%5.2f|%-5d|%x|%q|%g|%a", math.pi, 42, 255, "a\nb\0c", 1e20, 1.0))
print(tostring(10 // 0.0), tostring(-10 // 0.0), 3 == 3.0, math.type(3), math.type(3.0), math.type("3"))
print(tonumber("0x10"), tonumber("  12  "), tonumber("1e2"), tonumber("z", 36), tonumber("12a"))

-- strings
local s = "The quick brown fox jumps over the lazy dog"
print(#s, s:upper(), s:sub(5, 9), s:sub(-3), s:rep(2, "|"):len())
print(s:find("quick"), s:find("o", 1, true), s:match("(%a+) dog"), (s:gsub("o", "0")))
for w in s:gmatch("%a+") do io.write(w:sub(1, 1)) end
print()
print(("%d items"):format(3), ("x"):byte(), string.char(72, 105), ("abc"):reverse())
print(utf8.char(72, 228, 8364, 128512), utf8.len("häl€"), #utf8.char(128512))
for p, c in utf8.codes("hé€") do io.write(p, ":", c, " ") end
print()
local packed = string.pack("<i4 d s1", -2, 0.5, "hi")
print(#packed, string.unpack("<i4 d s1", packed))

-- tables
local t = {}
for i = 1, 20 do t[i] = (i * 7) % 13 end
table.sort(t)
print(table.concat(t, ","))
table.sort(t, function(a, b) return a > b end)
print(table.concat(t, ",", 1, 5), #t, select("#", table.unpack(t)))
table.insert(t, 1, 99); table.insert(t, 100); print(table.remove(t), table.remove(t, 1), #t)
print(table.concat(table.move({1, 2, 3}, 1, 3, 2), ","))
local keys = {}
for k in pairs({alpha = 1, beta = 2, gamma = 3, [1] = "x"}) do keys[#keys + 1] = tostring(k) end
table.sort(keys)
print(table.concat(keys, " "))

-- functions, varargs, closures
show()
show(nil, nil)
show(table.unpack({1, nil, 3}, 1, 3))
local function counter()
  local n = 0
  return function() n = n + 1; return n end
end
local c1, c2 = counter(), counter()
c1(); c1()
print(c1(), c2())
local function va(...) local a, b = ...; return select("#", ...), a, b, ... end
print(va(1, 2, 3))

-- goto, integer for loops, while, repeat
do
  local i = 1
  ::top::
  if i < 4 then io.write(i, " "); i = i + 1; goto top end
  print()
end
for i = 10, 1, -3 do io.write(i, " ") end
print()
for i = math.maxinteger - 2, math.maxinteger do io.write(i - math.maxinteger, " ") end
print()

-- metatables
local V = {}
V.__index = V
V.__add = function(a, b) return setmetatable({x = a.x + b.x}, V) end
V.__tostring = function(v) return "V(" .. v.x .. ")" end
V.__eq = function(a, b) return a.x == b.x end
V.__lt = function(a, b) return a.x < b.x end
V.__le = function(a, b) return a.x <= b.x end
V.__len = function(v) return v.x end
V.__call = function(v, y) return v.x * y end
V.__concat = function(a, b) return tostring(a) .. "&" .. tostring(b) end
local a, b = setmetatable({x = 1}, V), setmetatable({x = 2}, V)
print(tostring(a + b), a == b, a < b, a <= b, #b, b(21), a .. b)
print(rawequal(a, a), rawlen({1, 2}), rawget(setmetatable({}, {__index = function() return 1 end}), "k"))

-- coroutines
local co = coroutine.wrap(function(x)
  for i = 1, 3 do x = coroutine.yield(x + i) end
  return "done"
end)
print(co(10), co(20), co(30), co(40))
local co2 = coroutine.create(function() error("inside") end)
print(coroutine.resume(co2))
print(coroutine.status(co2), coroutine.isyieldable(), select(2, coroutine.running()))

-- to-be-closed variables
do
  local log = {}
  do
    local x <close> = setmetatable({}, {__close = function(_, e) log[#log + 1] = "closed:" .. tostring(e) end})
    local y <const> = 5
    log[#log + 1] = "body" .. y
  end
  print(table.concat(log, " "))
end

-- load and environments
local env = {print = print, x = 41}
local f = load("x = x + 1; return x", "chunk", "t", env)
print(f(), env.x, x)
print(load("return ...", "=va")(1, 2))
print(load("syntax error here"))
print(pcall(load, "return 1", "c", "b"))
print(load(string.dump(function() return "dumped" end))())
