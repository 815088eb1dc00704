-- test_intern.lua: the context's interner: symbols, keyword sets, own
-- keywords, the constants, and every error.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local T = require "check"
local rtmem = require "rtmem"

local ctx <close> = rtmem.context{keywords = {"lua", "python"}}
local kw = rtmem.keywords
-- the shipped sets: words and constants, fixed ids
for _, set in ipairs{"python", "lua", "c", "javascript", "rust"} do
  T.eq(type(kw[set]), "table", "keywords." .. set)
end
T.eq(kw.lua["function"], kw.lua.FUNCTION, "word and constant")
T.eq(kw.lua["if"], kw.python["if"], "a word in two sets has one id")
T.eq(kw.python["None"], kw.python.NONE, "python None")
local n = 0
for word, id in pairs(kw.lua) do
  if word:match("^%l") then
    n = n + 1
    T.eq(ctx:intern(word), id, "pre-seeded " .. word .. " at its id")
    T.ok(ctx:is_keyword(id), word .. " is a keyword")
    T.eq(ctx:symstr(id), word, "symstr of " .. word)
  end
end
T.eq(n, 22, "Lua's 22 reserved words")
T.ok(ctx:is_keyword(kw.python.lambda), "python seeded too")
T.eq(rtmem.keyword_flags("python", kw.python.match), "soft", "soft keyword")
T.eq(rtmem.keyword_flags("python", kw.python.lambda), "hard", "hard keyword")
T.eq(rtmem.keyword_flags("rust", kw.rust.TRY), "reserved", "reserved keyword")
T.eq(rtmem.keyword_flags("lua", kw.python.lambda), nil, "not a word of that set")
T.raises("no keyword set 'cobol'", rtmem.keyword_flags, "cobol", 1)

-- ordinary strings: one symbol per string, forever, above the keywords
local a = ctx:intern("alpha")
T.ok(a > 142, "ordinary ids come after the keyword range")
T.eq(ctx:intern("alpha"), a, "the same string, the same symbol")
T.eq(ctx:intern_find("alpha"), a, "found")
T.eq(ctx:intern_find("never-interned"), nil, "a miss")
T.eq(ctx:intern_find("never-interned"), nil, "and still not interned")
T.ok(not ctx:is_keyword(a), "not a keyword")
local z = ctx:intern("with\0zero")
T.eq(ctx:symstr(z), "with\0zero", "bytes with a zero")
local e = ctx:intern("")
T.eq(ctx:symstr(e), "", "the empty string is a string")
T.ok(ctx:intern("Alpha") ~= a, "case matters")
local syms = {}
for i = 1, 5000 do syms[i] = ctx:intern("name" .. i) end
for i = 1, 5000, 7 do T.eq(ctx:symstr(syms[i]), "name" .. i, "round trip " .. i) end
T.eq(ctx:intern("name77"), syms[77], "stable")
local st = ctx:stats()
T.ok(st.intern_strings >= 5000 + 22, "intern_strings")
T.ok(st.intern_hits > 0 and st.intern_lookups >= st.intern_hits, "lookups and hits")

-- errors
T.raises("string expected", ctx.intern, ctx, {})
T.raises("string expected", ctx.intern_find, ctx, nil)
T.raises("0 is not a symbol", ctx.symstr, ctx, 0)
T.raises("-3 is not a symbol", ctx.is_keyword, ctx, -3)
T.raises("99999999 is not a symbol of this context", ctx.symstr, ctx, 99999999)
T.eq(ctx:error(), "ok", "a bad symbol is not a context failure")
T.raises("number expected", ctx.symstr, ctx, "x")

-- own keywords: next ids, only before other strings
local c2 <close> = rtmem.context()
c2:add_keywords{"self", "class", "self"}
local self_id = c2:intern("self")
T.eq(self_id, 143, "own keywords take the ids after the shipped range")
T.eq(c2:intern("class"), 144, "in order")
T.ok(c2:is_keyword(self_id), "an own keyword is a keyword")
c2:intern("ordinary")
T.raises("only before any other string is interned", c2.add_keywords, c2, {"late"})
T.raises("word 1 is not a non-empty string", c2.add_keywords, c2, {""})
T.raises("word 2 is not a non-empty string", c2.add_keywords, c2, {"a", 5})
T.raises("table expected", c2.add_keywords, c2, "self")
-- a context without sets interns all the same, with no keywords
local c3 <close> = rtmem.context()
T.ok(not c3:is_keyword(c3:intern("end")), "no keywords without a set")
-- the limit: interning fails cleanly, what is in stays
local small <close> = rtmem.context{limit = 1 << 20}
local first = small:intern("first")
local ok, err = pcall(function() for i = 1, 1e7 do small:intern(string.rep("s", 64) .. i) end end)
T.eq(ok, false, "the limit stops interning")
T.ok(tostring(err):find("rtmem: intern: limit reached", 1, true), tostring(err))
T.eq(small:symstr(first), "first", "symbols from before live on")
T.eq(small:intern("first"), first, "and are found")
T.eq(small:check(), true, "consistent after the limit")
-- closed
c3:close()
T.raises("the context was closed", c3.intern, c3, "x")

T.done("test_intern")
