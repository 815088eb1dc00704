/*
 * lrtmem_intern.c: the context's interner, and the keyword sets rtmem ships.
 *
 *   local ctx <close> = rtmem.context{keywords = {"lua"}}
 *   local s = ctx:intern("foo")        --> a symbol: an integer, the same for equal strings
 *   ctx:intern_find("bar")             --> nil: never interned (and not interned now)
 *   ctx:symstr(s)                      --> "foo"
 *   ctx:is_keyword(ctx:intern("end"))  --> true: the lua set was pre-seeded
 *   rtmem.keywords.lua["function"], rtmem.keywords.lua.FUNCTION   --> 43
 *   rtmem.keyword_flags("rust", rtmem.keywords.rust.TRY)          --> "reserved"
 *   ctx:add_keywords{"self", "class"}  -- own keywords, before any other string
 *
 * Symbols are the interner's ids (rtm_sym): 1 .. RTM_KW_COUNT are the shipped
 * keywords (fixed ids, so a tokenizer may compare with the constants), then
 * the caller's own keywords, then every other string.
 */
#include "lrtmem.h"

#include <string.h>

static rtm_interner *interner(lua_State *L, lrtm_ctx *c)
{
    rtm_interner *in = rtm_ctx_interner(c->ctx);
    if (in == NULL) lrtm_fail(L, "interner", rtm_ctx_error(c->ctx));
    return in;
}

static rtm_sym check_sym(lua_State *L, int idx)
{
    lua_Integer s = luaL_checkinteger(L, idx);
    if (s < 1 || s > (lua_Integer)RTM_SYM_MAX) luaL_error(L, "rtmem: %d is not a symbol", (int)s);
    return (rtm_sym)s;
}

/* ctx:intern(s) --> its symbol */
int lrtm_ctx_intern(lua_State *L)
{
    lrtm_ctx *c = lrtm_checkctx(L, 1);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    rtm_interner *in = interner(L, c);
    rtm_sym sym;
    rtm_status st = rtm_intern_ex(in, s, len, &sym);
    if (st != RTM_OK) return lrtm_fail(L, "intern", st);
    lua_pushinteger(L, (lua_Integer)sym);
    return 1;
}

/* ctx:intern_find(s) --> its symbol, or nil if it was never interned */
int lrtm_ctx_intern_find(lua_State *L)
{
    lrtm_ctx *c = lrtm_checkctx(L, 1);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    rtm_sym sym = rtm_intern_find(interner(L, c), s, len);
    if (sym == 0) lua_pushnil(L);
    else lua_pushinteger(L, (lua_Integer)sym);
    return 1;
}

/* ctx:symstr(sym) --> the string */
int lrtm_ctx_symstr(lua_State *L)
{
    lrtm_ctx *c = lrtm_checkctx(L, 1);
    rtm_sym sym = check_sym(L, 2);
    rtm_interner *in = interner(L, c);
    size_t len;
    const char *s = rtm_sym_str(in, sym, &len);
    if (s == NULL) {
        rtm_interner_clear_error(in); /* the script's mistake, said by the error */
        rtm_ctx_clear_error(c->ctx);
        return luaL_error(L, "rtmem: symstr: %d is not a symbol of this context", (int)sym);
    }
    lua_pushlstring(L, s, len);
    return 1;
}

/* ctx:is_keyword(sym) --> true for a pre-seeded or own keyword */
int lrtm_ctx_is_keyword(lua_State *L)
{
    lrtm_ctx *c = lrtm_checkctx(L, 1);
    rtm_sym sym = check_sym(L, 2);
    lua_pushboolean(L, rtm_sym_is_keyword(interner(L, c), sym));
    return 1;
}

/* ctx:add_keywords{words}: own keywords, at the next ids, while no other
 * string has been interned */
int lrtm_ctx_add_keywords(lua_State *L)
{
    lrtm_ctx *c = lrtm_checkctx(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 2);
    if (n < 0 || n > 65536) return luaL_error(L, "rtmem: add_keywords: too many words");
    const char **words = (const char **)lua_newuserdatauv(L, sizeof(char *) * (size_t)(n + 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, 2, i) != LUA_TSTRING || lua_rawlen(L, -1) == 0 ||
            strlen(lua_tostring(L, -1)) != lua_rawlen(L, -1))
            return luaL_error(L, "rtmem: add_keywords: word %d is not a non-empty string", (int)i);
        words[i - 1] = lua_tostring(L, -1);
        lua_pop(L, 1); /* the table keeps it */
    }
    words[n] = NULL;
    rtm_status st = rtm_interner_add_keywords(interner(L, c), words);
    if (st == RTM_EINVAL)
        return luaL_error(L, "rtmem: add_keywords: only before any other string is interned");
    if (st != RTM_OK) return lrtm_fail(L, "add_keywords", st);
    return 0;
}

/* rtmem.keyword_flags(set, sym) --> "hard", "soft", "reserved", or nil */
static int l_keyword_flags(lua_State *L)
{
    const char *set = luaL_checkstring(L, 1);
    int k = rtm_keyword_set_find(set);
    if (k < 0) return luaL_error(L, "rtmem: keyword_flags: no keyword set '%s'", set);
    unsigned f = rtm_keyword_flags((unsigned)k, check_sym(L, 2));
    if (f == 0) lua_pushnil(L);
    else if (f & RTM_KW_RESERVED) lua_pushliteral(L, "reserved");
    else if (f & RTM_KW_SOFT) lua_pushliteral(L, "soft");
    else lua_pushliteral(L, "hard");
    return 1;
}

/* rtmem.keywords[set]: word -> id and CONSTANT -> id, for every shipped set. */
static void set_kw(lua_State *L, const char *constant, size_t prefix, const char *word, rtm_sym id)
{
    lua_pushinteger(L, (lua_Integer)id);
    lua_setfield(L, -2, word);
    lua_pushinteger(L, (lua_Integer)id);
    lua_setfield(L, -2, constant + prefix);
}

#define KW_ENTRY(constant, word, flags) set_kw(L, #constant, prefix_len, word, constant);

void lrtm_open_intern(lua_State *L)
{
    lua_pushcfunction(L, l_keyword_flags);
    lua_setfield(L, -2, "keyword_flags");
    lua_newtable(L); /* rtmem.keywords */
    size_t prefix_len;
    prefix_len = sizeof "RTM_KW_PYTHON_" - 1;
    lua_newtable(L);
    RTM_KEYWORDS_PYTHON(KW_ENTRY)
    lua_setfield(L, -2, "python");
    prefix_len = sizeof "RTM_KW_LUA_" - 1;
    lua_newtable(L);
    RTM_KEYWORDS_LUA(KW_ENTRY)
    lua_setfield(L, -2, "lua");
    prefix_len = sizeof "RTM_KW_C_" - 1;
    lua_newtable(L);
    RTM_KEYWORDS_C(KW_ENTRY)
    lua_setfield(L, -2, "c");
    prefix_len = sizeof "RTM_KW_JAVASCRIPT_" - 1;
    lua_newtable(L);
    RTM_KEYWORDS_JAVASCRIPT(KW_ENTRY)
    lua_setfield(L, -2, "javascript");
    prefix_len = sizeof "RTM_KW_RUST_" - 1;
    lua_newtable(L);
    RTM_KEYWORDS_RUST(KW_ENTRY)
    lua_setfield(L, -2, "rust");
    lua_setfield(L, -2, "keywords");
}
