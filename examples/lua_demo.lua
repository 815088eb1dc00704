-- lua_demo.lua: what rtmem is for, in one Lua program.
--
-- It reads a Lua source file (the one named on the command line, or its own
-- source), and, with one rtmem context:
--   1. tokenizes it, interning every name: the context's interner is
--      pre-seeded with Lua's keywords, so a keyword's symbol is a constant
--      (rtmem.keywords.lua.FUNCTION) and a name is an integer compare away;
--   2. keeps per-token metrics (kind, line, column, length, symbol) as rows
--      of a batch, and answers questions with its column kernels;
--   3. builds the file's block tree (functions, ifs, loops, do-blocks,
--      nested as in the source) as records in an arena, linked by pointers;
--   4. prints a report, and the context's stats: every byte the work took,
--      by part.
-- Run it with rtlua (rtmem built in) or the stock lua5.4 with rtmem.so:
--   rtlua examples/lua_demo.lua [file.lua]
local rtmem = require "rtmem"

local path = arg and (arg[1] or arg[0])
local f = assert(io.open(path, "rb"))
local src = f:read("a")
f:close()

local ctx <close> = rtmem.context{keywords = {"lua"}, limit = 256 << 20}
local KW = rtmem.keywords.lua

-- ---- 1. tokens ---------------------------------------------------------------

local NAME, KEYWORD, NUMBER, STRING, OP, COMMENT = 1, 2, 3, 4, 5, 6
local KIND = {"name", "keyword", "number", "string", "operator", "comment"}

local Token = rtmem.layout{ {"kind", "u8"}, {"line", "u32"}, {"col", "u32"}, {"len", "u32"},
                            {"sym", "sym"}, name = "Token" }
local tokens <close> = ctx:batch(Token)

local OPS = {"...", "..", "==", "~=", "<=", ">=", "//", "::", "<<", ">>"}

-- The closing bracket of a long string or comment opening at i ("[", "[=[").
local function long_bracket(s, i)
  local eqs = s:match("^%[(=*)%[", i)
  if not eqs then return nil end
  local close = "]" .. eqs .. "]"
  local _, e = s:find(close, i + #eqs + 2, true)
  return e or #s
end

-- Calls emit(kind, text, line, col) for each token of s.
local function tokenize(s, emit)
  local i, line, line_start = 1, 1, 1
  local n = #s
  local function newlines(from, to)
    for _ in s:sub(from, to):gmatch("\n") do line = line + 1 end
    local last = s:sub(from, to):match(".*()\n")
    if last then line_start = from + last end
  end
  while i <= n do
    local c = s:sub(i, i)
    local col = i - line_start + 1
    if c == "\n" then
      line, line_start, i = line + 1, i + 1, i + 1
    elseif c:match("%s") then
      i = i + 1
    elseif s:sub(i, i + 1) == "--" then -- a comment: long, or to the end of the line
      local e = long_bracket(s, i + 2) or (s:find("\n", i, true) or n + 1) - 1
      emit(COMMENT, s:sub(i, e), line, col)
      newlines(i, e)
      i = e + 1
    elseif c:match("[%a_]") then
      local word = s:match("^[%w_]+", i)
      emit(NAME, word, line, col) -- NAME or KEYWORD: the interner says
      i = i + #word
    elseif c:match("%d") or (c == "." and s:sub(i + 1, i + 1):match("%d")) then
      local num = s:match("^0[xX][%x%.]*[pP][%+%-]?%d+", i) or s:match("^0[xX][%x%.]*", i)
                  or s:match("^%d*%.?%d*[eE][%+%-]?%d+", i) or s:match("^%d*%.?%d*", i)
      emit(NUMBER, num, line, col)
      i = i + #num
    elseif c == "\"" or c == "'" then -- a short string, escapes skipped over
      local j = i + 1
      while j <= n do
        local d = s:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      emit(STRING, s:sub(i, j), line, col)
      i = j + 1
    elseif c == "[" and long_bracket(s, i) then
      local e = long_bracket(s, i)
      emit(STRING, s:sub(i, e), line, col)
      newlines(i, e)
      i = e + 1
    else
      local op = c
      for _, o in ipairs(OPS) do
        if s:sub(i, i + #o - 1) == o then op = o break end
      end
      emit(OP, op, line, col)
      i = i + #op
    end
  end
end

-- every token, in order, for the tree builder: kind and symbol
local seq_kind, seq_sym, seq_line, seq_text = {}, {}, {}, {}
local OP_SYM = {} -- operators and strings are interned too (a symbol per distinct text)

tokenize(src, function(kind, text, line, col)
  local sym = ctx:intern(text)
  if kind == NAME and ctx:is_keyword(sym) then kind = KEYWORD end
  tokens:push{kind = kind, line = line, col = col, len = #text, sym = sym}
  local k = #seq_kind + 1
  seq_kind[k], seq_sym[k], seq_line[k], seq_text[k] = kind, sym, line, text
  if kind == OP then OP_SYM[text] = sym end
end)

-- ---- 2. the block tree, in an arena --------------------------------------------

local Node = rtmem.layout{
  {"kind", "sym"},        -- the keyword that opens it (KW.FUNCTION, ...); 0 for the chunk
  {"name", "sym"},        -- a function's name ("M.f", "obj:method"), else 0
  {"line", "u32"}, {"last", "u32"},
  {"depth", "u16"}, {"children", "u32"}, {"tokens", "u32"},
  {"parent", "ptr"}, {"first", "ptr"}, {"next", "ptr"},
  name = "Node" }
local tree <close> = ctx:arena()

local function add_child(parent, node)
  node.parent = parent
  node.depth = parent.depth + 1
  parent.children = parent.children + 1
  if parent.first == nil then parent.first = node
  else
    local c = parent.first
    while c.next ~= nil do c = c.next end
    c.next = node
  end
end

local chunk = tree:new(Node, {line = 1})
local open = chunk
local pending_do = 0 -- `for ... do` and `while ... do`: that do opens no block of its own
for k = 1, #seq_kind do
  local kind, sym = seq_kind[k], seq_sym[k]
  open.tokens = open.tokens + 1
  if kind == KEYWORD then
    if sym == KW.FUNCTION or sym == KW.IF or sym == KW.FOR or sym == KW.WHILE
       or sym == KW.REPEAT or (sym == KW.DO and pending_do == 0) then
      local node = tree:new(Node, {kind = sym, line = seq_line[k]})
      if sym == KW.FUNCTION then -- its name: the names and . : up to the "("
        local parts, j = {}, k + 1
        while seq_kind[j] == NAME or seq_text[j] == "." or seq_text[j] == ":" do
          parts[#parts + 1] = seq_text[j]
          j = j + 1
        end
        if #parts > 0 then node.name = ctx:intern(table.concat(parts)) end
      end
      if sym == KW.FOR or sym == KW.WHILE then pending_do = pending_do + 1 end
      add_child(open, node)
      open = node
    elseif sym == KW.DO then
      pending_do = pending_do - 1
    elseif (sym == KW["end"] or sym == KW["until"]) and open ~= chunk then
      open.last = seq_line[k]
      open.parent.tokens = open.parent.tokens + open.tokens -- a block's tokens count in its parent's
      open = open.parent
    end
  end
end
while open ~= chunk do -- blocks left open at the end of the file
  open.parent.tokens = open.parent.tokens + open.tokens
  open = open.parent
end
chunk.last = seq_line[#seq_line] or 1

-- ---- 3. the report ------------------------------------------------------------

local function count(kind) return tokens:count("kind", "==", kind) end
print(string.format("%s: %d bytes, %d lines", path, #src, tokens:max("line") or 0))
print(string.format("tokens: %d (%d bytes in them, mean %.1f, longest %d)", #tokens,
                    tokens:sum("len"), tokens:mean("len") or 0, tokens:max("len") or 0))
for kind = NAME, COMMENT do io.write(string.format("  %-9s %6d\n", KIND[kind], count(kind))) end

-- identifiers by frequency: the symbol column, counted where kind is a name
local kinds, syms = tokens:column("kind"), tokens:column("sym")
local freq, distinct = {}, 0
for i = 1, #syms do
  if kinds[i] == NAME then
    if not freq[syms[i]] then distinct = distinct + 1 end
    freq[syms[i]] = (freq[syms[i]] or 0) + 1
  end
end
local top = {}
for sym, n in pairs(freq) do top[#top + 1] = {sym = sym, n = n} end
table.sort(top, function(a, b) return a.n > b.n or (a.n == b.n and a.sym < b.sym) end)
io.write(string.format("distinct identifiers: %d; the most used:", distinct))
for i = 1, math.min(8, #top) do io.write(" ", ctx:symstr(top[i].sym), "=", top[i].n) end
print()
local kwfreq = {}
for i = 1, #syms do if kinds[i] == KEYWORD then kwfreq[syms[i]] = (kwfreq[syms[i]] or 0) + 1 end end
io.write("keywords:")
for _, w in ipairs{"local", "function", "end", "if", "then", "return", "for", "do"} do
  io.write(" ", w, "=", kwfreq[KW[w]] or 0)
end
print()
local long = tokens:select("len", ">=", 16)
local shown = 0
io.write("long names (16 bytes or more):")
for _, row in ipairs(long) do
  if kinds[row] == NAME and shown < 5 then
    io.write(" ", ctx:symstr(syms[row]), "@", tokens:get(row).line)
    shown = shown + 1
  end
end
print(shown == 0 and " none" or "")

-- the tree, walked through the records' pointers
local blocks, deepest, by_kind = 0, 0, {}
local function walk(node)
  blocks = blocks + 1
  if node.depth > deepest then deepest = node.depth end
  if node.kind ~= 0 then
    local k = ctx:symstr(node.kind)
    by_kind[k] = (by_kind[k] or 0) + 1
  end
  local c = node.first
  while c ~= nil do walk(c) c = c.next end
end
walk(chunk)
io.write(string.format("block tree: %d blocks in %d records of the arena, deepest %d;", blocks,
                       tree:records(), deepest))
local names = {}
for k in pairs(by_kind) do names[#names + 1] = k end
table.sort(names)
for _, k in ipairs(names) do io.write(" ", k, "=", by_kind[k]) end
print()
print("top-level functions:")
local c = chunk.first
local listed = 0
while c ~= nil do
  if c.kind == KW.FUNCTION and listed < 10 then
    print(string.format("  %-28s lines %4d-%-4d %5d tokens, %d blocks directly inside",
                        c.name ~= 0 and ctx:symstr(c.name) or "(anonymous)", c.line, c.last,
                        c.tokens, c.children))
    listed = listed + 1
  end
  c = c.next
end
if listed == 0 then print("  (none)") end

-- ---- 4. the context's stats -----------------------------------------------------

local st = ctx:stats()
print("context stats:")
print(string.format("  in use %d bytes: batch %d rows in %d bytes, arena %d bytes used of %d, "
                    .. "interner %d strings (%d bytes, %d saved by sharing)", st.bytes_in_use,
                    st.batch_rows, st.batch_bytes, st.arena_bytes_used, st.arena_chunk_bytes,
                    st.intern_strings, st.intern_string_bytes, st.intern_bytes_saved))
print(string.format("  pages held %d bytes (peak %d, limit %d), %d lookups, %d hits, %d errors",
                    st.page_bytes, st.page_bytes_peak, st.limit_bytes, st.intern_lookups,
                    st.intern_hits, st.errors))
local cur = rtmem.current()
if cur then
  local cs = cur:stats()
  print(string.format("the interpreter's own context (rtlua): Lua's heap %d bytes in use, "
                      .. "peak %d, %d allocations", cs.heap_bytes_in_use, cs.heap_bytes_peak,
                      cs.heap_allocs))
end
assert(ctx:check())
