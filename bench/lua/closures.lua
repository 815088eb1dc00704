-- closures.lua: closures made per use, the way functional-style Lua code
-- makes them: an iterator closure per loop, partial application, callbacks
-- capturing locals (each closed upvalue is an object too), small method
-- objects built from closures. arg[1]: the number of iterations.
local N = tonumber(arg and arg[1]) or 300000

local function range(n)
  local i = 0
  return function()
    i = i + 1
    if i <= n then return i end
  end
end

local function bind(f, a) return function(b) return f(a, b) end end
local function add(a, b) return a + b end

local function counter(start)
  local n = start
  return {inc = function(d) n = n + d end, get = function() return n end}
end

local total = 0
for i = 1, N do
  local inc = bind(add, i)
  local k = 0
  for j in range(3) do k = k + inc(j) end
  local c = counter(k)
  c.inc(i % 7)
  local cb = function() return c.get() + k end
  total = total + cb()
end
print("total", total)
