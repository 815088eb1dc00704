-- traceback.lua: an uncaught error from a nested call, through every kind of
-- function name the traceback knows.
local obj = {}
function obj:method(n) if n == 0 then error("deep failure") end return self:method(n - 1) end
local function localf(n) return obj:method(n) end
globalf = function(n) return localf(n) end
local tbl = {field = function(n) return globalf(n) end}
local function upper() return tbl.field(2) end
print("before")
upper()
print("never")
