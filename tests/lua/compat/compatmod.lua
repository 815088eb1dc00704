-- compatmod.lua: a module for -l.
local M = {name = "compatmod"}
function M.hello() return "hello from " .. M.name end
print("loading compatmod", ...)
return M
