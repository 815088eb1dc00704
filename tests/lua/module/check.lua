-- check.lua: the assertions the module's test scripts share. Each failure
-- raises with the caller's line, so the script stops with status 1.
local M = {}

function M.eq(got, want, what)
  if got ~= want and not (got ~= got and want ~= want) then -- NaN equals NaN here
    error(string.format("%s: got %s, want %s", what or "value", tostring(got), tostring(want)), 2)
  end
end

function M.ok(cond, what)
  if not cond then error((what or "condition") .. " is false", 2) end
end

-- Calls f(...), which must raise an error whose message contains `text`
-- (plain text, not a pattern).
function M.raises(text, f, ...)
  local ok, err = pcall(f, ...)
  if ok then error("expected an error containing '" .. text .. "', got none", 2) end
  err = tostring(err)
  if not err:find(text, 1, true) then
    error("expected an error containing '" .. text .. "', got: " .. err, 2)
  end
  return err
end

-- The interpreter: rtlua (which has rtmem.current()) or the stock one.
function M.under_rtlua()
  return require("rtmem").current() ~= nil
end

-- Small loops under the sanitizers (RTM_TEST_PROFILE=small).
function M.scale(n)
  if os.getenv("RTM_TEST_PROFILE") == "small" then return math.max(1, n // 10) end
  return n
end

function M.done(name)
  io.write(name, ": ok (", M.under_rtlua() and "rtlua" or "lua5.4", ")\n")
end

return M
