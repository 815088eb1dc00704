-- stdin_lines.lua: reading the standard input, line by line and all at once.
local first = io.read("l")
local n = io.read("n")
local rest = io.read("a")
print("first", first)
print("number", n, math.type(n))
print("rest", #rest, (rest:gsub("\n", "|")))
print("eof", io.read("l"), io.read(0))
