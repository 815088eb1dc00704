-- string_pieces.lua: strings built from many short-lived pieces, the way a
-- template engine or a serializer builds them: format, concatenation,
-- tostring, gsub and table.concat. arg[1]: the number of records.
local N = tonumber(arg and arg[1]) or 20000

local function escape(s) return (s:gsub('[<>&"]', {["<"] = "&lt;", [">"] = "&gt;", ["&"] = "&amp;", ['"'] = "&quot;"})) end

local total = 0
for round = 1, 4 do
  local out = {}
  for i = 1, N do
    local name = "item<" .. i .. ">&" .. (i * 7 % 13)
    local line = string.format('<li id="%d" class="%s">%s: %.2f</li>', i, (i % 2 == 0) and "even" or "odd",
                                escape(name), i / 7)
    out[#out + 1] = line
    if i % 100 == 0 then
      -- a key-value rendering, piece by piece
      local kv = ""
      for k = 1, 10 do kv = kv .. k .. "=" .. tostring(i + k) .. ";" end
      out[#out + 1] = kv
    end
  end
  local doc = table.concat(out, "\n")
  local words = 0
  for _ in doc:gmatch("%a+") do words = words + 1 end
  total = total + #doc + words
end
print("total", total)
