-- args.lua: the arg table and the chunk's varargs.
local lo, hi = 0, 0
for k in pairs(arg) do
  if k < lo then lo = k end
  if k > hi then hi = k end
end
for i = lo, hi do print(i, arg[i]) end
print("varargs", select("#", ...), ...)
return 1, 2, 3
