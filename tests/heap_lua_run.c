/*
 * heap_lua_run.c: a real Lua 5.4 interpreter on rtm_lua_alloc, in a plain
 * and in an RTM_CTX_DEBUG context (which checks every size Lua passes back
 * against the size it was given). It builds and drops strings, tables and
 * closures, collects, runs out of memory against limit_bytes (Lua must
 * raise "not enough memory" and stay usable), and closes: the heap must then
 * hold no block and pass its check. Exit 0 on success.
 */
#include "rtmem.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

static const char *const work =
    "local t = {}\n"
    "for i = 1, 20000 do t[i] = { name = 'item' .. i, f = function() return i end } end\n"
    "local s = 0\n"
    "for i = 1, #t, 7 do s = s + t[i].f() end\n"
    "for i = 1, #t, 2 do t[i] = nil end\n"
    "collectgarbage()\n"
    "local parts = {}\n"
    "for i = 1, 2000 do parts[#parts + 1] = string.rep('ab', i % 300) end\n"
    "local big = table.concat(parts)\n"
    "assert(#big > 100000)\n"
    "return s\n";

static const char *const exhaust =
    "local ok, err = pcall(function()\n"
    "  local hog = {}\n"
    "  for i = 1, 1e9 do hog[i] = string.rep('x', 64) .. i end\n"
    "end)\n"
    "assert(not ok and tostring(err):find('not enough memory'), tostring(err))\n"
    "collectgarbage()\n"
    "local after = {}\n"
    "for i = 1, 1000 do after[i] = i * 2 end\n"
    "return #after\n";

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "heap_lua_run: %s: %s\n", what, detail ? detail : "");
    return 1;
}

static int run(unsigned flags)
{
    rtm_config cfg = {(size_t)16 << 20, NULL, NULL, flags};
    rtm_ctx *ctx = rtm_ctx_new(&cfg);
    if (ctx == NULL) return fail("rtm_ctx_new", NULL);
    lua_State *L = lua_newstate(rtm_lua_alloc, ctx);
    if (L == NULL) return fail("lua_newstate", NULL);
    luaL_openlibs(L);
    if (luaL_dostring(L, work) != LUA_OK) return fail("work", lua_tostring(L, -1));
    lua_pop(L, 1);
    if (rtm_ctx_check(ctx) != RTM_OK) return fail("check after work", NULL);
    if (luaL_dostring(L, exhaust) != LUA_OK) return fail("exhaust", lua_tostring(L, -1));
    if (lua_tointeger(L, -1) != 1000) return fail("exhaust", "state not usable after the error");
    lua_pop(L, 1);
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    if (st.limit_hits == 0) return fail("exhaust", "the limit was never reached");
    if (st.page_bytes_peak > cfg.limit_bytes) return fail("limit", "held more than the limit");
    if (st.lua_allocs_by_tag[4] == 0 || st.lua_allocs_by_tag[5] == 0 || st.lua_allocs_by_tag[6] == 0)
        return fail("stats", "no strings, tables or functions counted");
    if (rtm_ctx_check(ctx) != RTM_OK) return fail("check after exhaust", NULL);
    lua_close(L);
    rtm_ctx_stats(ctx, &st);
    if (st.heap_blocks_in_use != 0 || st.heap_bytes_in_use != 0)
        return fail("lua_close", "blocks left in the heap");
    if (st.heap_bad_frees != 0) return fail("sizes", "Lua passed a size the heap rejected");
    if (rtm_ctx_check(ctx) != RTM_OK) return fail("check after close", NULL);
    rtm_ctx_destroy(ctx);
    return 0;
}

int main(void)
{
    if (run(0) != 0) return 1;
    if (run(RTM_CTX_DEBUG) != 0) return 1;
    puts("heap_lua_run: ok");
    return 0;
}
