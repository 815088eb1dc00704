-- numeric.lua: a control with almost no allocation (numeric loops over one
-- preallocated array): here the allocator should make no difference.
-- arg[1]: the array size.
local N = tonumber(arg and arg[1]) or 1000000
local a = {}
for i = 1, N do a[i] = (i * 2654435761) % 1000003 end
local sum, mx = 0, 0
for _ = 1, 4 do
  for i = 1, N do
    local v = a[i]
    sum = sum + v % 97
    if v > mx then mx = v end
    a[i] = (v * 31 + 7) % 1000003
  end
end
print("sum", sum, "max", mx)
