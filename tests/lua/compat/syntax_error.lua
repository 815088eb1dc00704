-- syntax_error.lua: the compiler's message for a file that does not parse.
local x = 1
if x then
  print("x"
end
