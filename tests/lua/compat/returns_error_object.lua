-- returns_error_object.lua: an uncaught non-string error with __tostring.
error(setmetatable({}, {__tostring = function() return "an error object" end}))
