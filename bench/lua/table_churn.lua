-- table_churn.lua: small tables made and dropped at a high rate: vector
-- arithmetic returning fresh tables, records with a few fields, a bounded
-- working set replaced in place. arg[1]: the number of steps.
local N = tonumber(arg and arg[1]) or 300000

local function vec(x, y, z) return {x = x, y = y, z = z} end
local function add(a, b) return vec(a.x + b.x, a.y + b.y, a.z + b.z) end
local function scale(a, k) return vec(a.x * k, a.y * k, a.z * k) end

local particles = {}
for i = 1, 1000 do particles[i] = {pos = vec(i, 0, 0), vel = vec(0, 1, i % 3), age = 0} end

local gravity = vec(0, -0.1, 0)
local acc = 0
for step = 1, N do
  local i = step % 1000 + 1
  local p = particles[i]
  p.vel = add(p.vel, gravity)
  p.pos = add(p.pos, scale(p.vel, 0.01))
  p.age = p.age + 1
  if p.age > 50 then -- respawn: the old record and its vectors become garbage
    particles[i] = {pos = vec(i, 0, 0), vel = vec(0, 1, step % 5), age = 0, tag = {step, i}}
  end
  local tmp = {step, i, p.age}
  acc = acc + #tmp + p.pos.y
end
print(string.format("acc %.3f", acc))
