-- churn.lua: heavy allocation, the collector and finalizers; everything it
-- prints is independent of the allocator.
local live = {}
for round = 1, 40 do
  for i = 1, 2000 do
    local t = {round, i, tostring(i) .. ":" .. round, {i}}
    live[(i * 31 + round) % 500 + 1] = t
  end
end
local sum = 0
for _, t in pairs(live) do sum = sum + t[1] + t[2] + #t[3] + t[4][1] end
print("sum", sum)

-- strings from many short-lived pieces
local parts = {}
for i = 1, 5000 do parts[#parts + 1] = string.format("%04x", i * 2654435761 % 65536) end
local joined = table.concat(parts)
print("joined", #joined, joined:sub(1, 16), joined:sub(-16))
local s = ""
for i = 1, 500 do s = s .. string.char(65 + i % 26) end
print("concat", #s, s:sub(1, 30))

-- closures capturing loop variables
local fs = {}
for i = 1, 1000 do fs[i] = function(x) return x + i end end
local acc = 0
for i = 1, 1000 do acc = acc + fs[i](i) end
print("closures", acc)

-- weak tables empty out after a full collection
local weak = setmetatable({}, {__mode = "v"})
for i = 1, 100 do weak[i] = {} end
collectgarbage()
local left = 0
for _ in pairs(weak) do left = left + 1 end
print("weak left", left)

-- finalizers run, each once, in a fixed order
local order = {}
for i = 1, 5 do setmetatable({}, {__gc = function() order[#order + 1] = i end}) end
collectgarbage()
collectgarbage()
table.sort(order)
print("finalized", table.concat(order, ","))

-- resurrection and closing the state: a finalizer that prints at exit
setmetatable({}, {__gc = function() print("finalizer at close") end})
print("mode", collectgarbage("incremental"), collectgarbage("generational"), collectgarbage("isrunning"))
