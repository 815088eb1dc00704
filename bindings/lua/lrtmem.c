/*
 * lrtmem.c: the `rtmem` Lua module: luaopen_rtmem, contexts and their stats.
 *
 *   local rtmem = require "rtmem"
 *   local ctx <close> = rtmem.context{limit = 64 << 20, keywords = {"lua"}}
 *   print(ctx:stats().bytes_in_use, ctx:stats_json())
 *   rtmem.current()   -- under rtlua: the context the interpreter runs on
 *
 * The other objects (layouts, arenas, pools, the interner, batches, buffers)
 * live in lrtmem_<object>.c and register their methods from here.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include "lrtmem.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtmem_lua.h"

/* The registry key of rtmem.current()'s userdata (its address). */
static const char current_key = 'c';

int lrtm_fail(lua_State *L, const char *what, rtm_status s)
{
    return luaL_error(L, "rtmem: %s: %s", what, rtm_status_str(s));
}

lrtm_ctx *lrtm_checkctx(lua_State *L, int idx)
{
    lrtm_ctx *c = (lrtm_ctx *)luaL_checkudata(L, idx, LRTM_CONTEXT);
    if (c->ctx == NULL) luaL_error(L, "rtmem: the context was closed");
    return c;
}

/* ---- stats ------------------------------------------------------------------ */

#define F(name) {#name, offsetof(rtm_stats, name)}
static const struct {
    const char *name;
    size_t offset;
} stat_fields[] = {
    F(page_bytes), F(page_bytes_peak), F(page_reserves), F(page_releases), F(page_failures),
    F(limit_bytes), F(limit_hits), F(collect_calls), F(errors), F(bytes_in_use),
    F(heap_bytes_in_use), F(heap_bytes_peak), F(heap_blocks_in_use), F(heap_allocs),
    F(heap_frees), F(heap_reallocs), F(heap_reallocs_in_place), F(heap_pages),
    F(heap_large_blocks), F(heap_large_bytes), F(heap_bad_frees), F(arenas_live),
    F(arena_bytes_used), F(arena_chunk_bytes), F(arena_chunks), F(arena_cache_chunks),
    F(arena_cache_bytes), F(arena_cache_hits), F(arena_cache_misses), F(bufs_live),
    F(buf_bytes), F(pools_live), F(pool_objects_live), F(pool_slabs), F(pool_bytes),
    F(pool_hits), F(pool_misses), F(pool_leaked), F(intern_strings), F(intern_string_bytes),
    F(intern_table_bytes), F(intern_lookups), F(intern_hits), F(intern_bytes_saved),
    F(batches_live), F(batch_rows), F(batch_bytes), F(layouts_live), F(layout_bytes),
};
#undef F

static const char *const lua_tag_names[RTM_LUA_TAGS] = {
    "none", "boolean", "lightuserdata", "number", "string",
    "table", "function", "userdata", "thread", "other"};

static void set_int(lua_State *L, const char *k, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

void lrtm_push_stats(lua_State *L, const rtm_ctx *ctx)
{
    rtm_stats st;
    rtm_ctx_stats(ctx, &st);
    lua_createtable(L, 0, (int)(sizeof stat_fields / sizeof stat_fields[0]) + 3);
    set_int(L, "version", st.version);
    for (size_t i = 0; i < sizeof stat_fields / sizeof stat_fields[0]; i++) {
        uint64_t v;
        memcpy(&v, (const char *)&st + stat_fields[i].offset, sizeof v);
        set_int(L, stat_fields[i].name, v);
    }
    lua_createtable(L, 0, RTM_LUA_TAGS);
    for (int i = 0; i < RTM_LUA_TAGS; i++) set_int(L, lua_tag_names[i], st.lua_allocs_by_tag[i]);
    lua_setfield(L, -2, "lua_allocs_by_tag");
    lua_newtable(L);
    for (int i = 0; i < RTM_HEAP_CLASSES && st.classes[i].block_size != 0; i++) {
        const rtm_class_stats *c = &st.classes[i];
        lua_createtable(L, 0, 5);
        set_int(L, "block_size", c->block_size);
        set_int(L, "allocs", c->allocs);
        set_int(L, "frees", c->frees);
        set_int(L, "live_blocks", c->live_blocks);
        set_int(L, "pages", c->pages);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "classes");
}

/* The stats written by rtm_stats_write, as a string. */
static int push_stats_text(lua_State *L, const rtm_ctx *ctx, rtm_stats_format fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL) return luaL_error(L, "rtmem: stats: cannot open a memory stream");
    int rc = rtm_stats_write(ctx, f, fmt);
    fclose(f);
    if (rc != 0) {
        free(buf);
        return luaL_error(L, "rtmem: stats: cannot write them");
    }
    lua_pushlstring(L, buf, len);
    free(buf);
    return 1;
}

/* ---- contexts --------------------------------------------------------------- */

static lrtm_ctx *new_ctx_udata(lua_State *L)
{
    lrtm_ctx *c = (lrtm_ctx *)lua_newuserdatauv(L, sizeof *c, 2);
    c->ctx = NULL;
    c->owned = 0;
    luaL_setmetatable(L, LRTM_CONTEXT);
    return c;
}

/* The keyword set names in opts.keywords, NULL-terminated, in a userdata on
 * the stack (so an error cannot leak it). */
static const char *const *keyword_sets(lua_State *L, int opts)
{
    if (lua_getfield(L, opts, "keywords") == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushnil(L); /* keep the stack shape */
        return NULL;
    }
    luaL_argexpected(L, lua_istable(L, -1), opts, "a table of keyword set names as keywords");
    lua_Integer n = luaL_len(L, -1);
    if (n < 0 || n > 64) luaL_error(L, "rtmem: context: too many keyword sets");
    const char **sets = (const char **)lua_newuserdatauv(L, sizeof(char *) * (size_t)(n + 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, -2, i);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "rtmem: context: keywords[%d] is not a string", (int)i);
        sets[i - 1] = lua_tostring(L, -1);
        if (rtm_keyword_set_find(sets[i - 1]) < 0)
            luaL_error(L, "rtmem: context: no keyword set '%s' (there are python, lua, c, "
                          "javascript and rust)", sets[i - 1]);
        lua_pop(L, 1); /* the string stays alive in the table */
    }
    sets[n] = NULL;
    lua_remove(L, -2); /* the table: its strings live in the options table */
    return sets;
}

/* rtmem.context([opts]): opts.limit (bytes, 0: none), opts.keywords (set
 * names, e.g. {"lua", "python"}), opts.debug (RTM_CTX_DEBUG). */
static int l_context(lua_State *L)
{
    rtm_config cfg = {0};
    const char *const *sets = NULL;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        if (lua_getfield(L, 1, "limit") != LUA_TNIL) {
            int isnum;
            lua_Integer lim = lua_tointegerx(L, -1, &isnum);
            if (!isnum || lim < 0) luaL_error(L, "rtmem: context: limit must be a byte count >= 0");
            cfg.limit_bytes = (size_t)lim;
        }
        lua_pop(L, 1);
        lua_getfield(L, 1, "debug");
        if (lua_toboolean(L, -1)) cfg.flags |= RTM_CTX_DEBUG;
        lua_pop(L, 1);
        sets = keyword_sets(L, 1);
    }
    cfg.keywords = sets;
    lrtm_ctx *c = new_ctx_udata(L);
    rtm_status why = rtm_ctx_new_ex(&cfg, &c->ctx);
    if (why != RTM_OK) return luaL_error(L, "rtmem: context: %s", rtm_status_str(why));
    c->owned = 1;
    return 1;
}

/* rtmem.current(): the context the running interpreter allocates from (when
 * its lua_Alloc is rtm_lua_alloc, as in rtlua), else nil. */
static int l_current(lua_State *L)
{
    void *ud;
    lua_Alloc f = lua_getallocf(L, &ud);
    if (f != rtm_lua_alloc || ud == NULL) {
        lua_pushnil(L);
        return 1;
    }
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &current_key) == LUA_TUSERDATA) return 1;
    lua_pop(L, 1);
    lrtm_ctx *c = new_ctx_udata(L);
    c->ctx = (rtm_ctx *)ud;
    c->owned = 0;
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &current_key);
    return 1;
}

static int ctx_stats(lua_State *L)
{
    lrtm_push_stats(L, lrtm_checkctx(L, 1)->ctx);
    return 1;
}

static int ctx_stats_json(lua_State *L)
{
    return push_stats_text(L, lrtm_checkctx(L, 1)->ctx, RTM_STATS_JSON);
}

static int ctx_stats_prometheus(lua_State *L)
{
    return push_stats_text(L, lrtm_checkctx(L, 1)->ctx, RTM_STATS_PROMETHEUS);
}

/* ctx:check(): true, or raises at the first broken invariant. */
static int ctx_check(lua_State *L)
{
    rtm_status s = rtm_ctx_check(lrtm_checkctx(L, 1)->ctx);
    if (s != RTM_OK) return lrtm_fail(L, "check", s);
    lua_pushboolean(L, 1);
    return 1;
}

static int ctx_trim(lua_State *L)
{
    rtm_ctx_trim(lrtm_checkctx(L, 1)->ctx);
    return 0;
}

/* ctx:error(): the status of the last failing call, as a string ("ok"). */
static int ctx_error(lua_State *L)
{
    lua_pushstring(L, rtm_status_str(rtm_ctx_error(lrtm_checkctx(L, 1)->ctx)));
    return 1;
}

static int ctx_is_current(lua_State *L)
{
    lrtm_ctx *c = lrtm_checkctx(L, 1);
    lua_pushboolean(L, !c->owned);
    return 1;
}

/* ctx:close(): destroys the context and everything in it now. Its objects
 * refuse every use afterwards. Closing twice is allowed; closing the
 * interpreter's own context is an error. */
static int ctx_close(lua_State *L)
{
    lrtm_ctx *c = (lrtm_ctx *)luaL_checkudata(L, 1, LRTM_CONTEXT);
    if (!c->owned && c->ctx != NULL)
        return luaL_error(L, "rtmem: the interpreter's own context cannot be closed");
    rtm_ctx_destroy(c->ctx);
    c->ctx = NULL;
    return 0;
}

static int ctx_gc(lua_State *L)
{
    lrtm_ctx *c = (lrtm_ctx *)luaL_checkudata(L, 1, LRTM_CONTEXT);
    if (c->owned) rtm_ctx_destroy(c->ctx);
    c->ctx = NULL;
    return 0;
}

static int ctx_tostring(lua_State *L)
{
    lrtm_ctx *c = (lrtm_ctx *)luaL_checkudata(L, 1, LRTM_CONTEXT);
    if (c->ctx == NULL) lua_pushstring(L, "rtmem.context (closed)");
    else lua_pushfstring(L, "rtmem.context%s (%p)", c->owned ? "" : " (current)", (void *)c->ctx);
    return 1;
}

static const luaL_Reg ctx_methods[] = {
    {"batch", lrtm_ctx_batch},
    {"arena", lrtm_ctx_arena},
    {"buffer", lrtm_ctx_buffer},
    {"pool", lrtm_ctx_pool},
    {"intern", lrtm_ctx_intern},
    {"intern_find", lrtm_ctx_intern_find},
    {"symstr", lrtm_ctx_symstr},
    {"is_keyword", lrtm_ctx_is_keyword},
    {"add_keywords", lrtm_ctx_add_keywords},
    {"stats", ctx_stats},
    {"stats_json", ctx_stats_json},
    {"stats_prometheus", ctx_stats_prometheus},
    {"check", ctx_check},
    {"trim", ctx_trim},
    {"error", ctx_error},
    {"is_current", ctx_is_current},
    {"close", ctx_close},
    {NULL, NULL}};

static const luaL_Reg ctx_meta[] = {
    {"__gc", ctx_gc},
    {"__close", ctx_close},
    {"__tostring", ctx_tostring},
    {NULL, NULL}};

/* ---- the module --------------------------------------------------------------- */

static const luaL_Reg module_functions[] = {
    {"context", l_context},
    {"current", l_current},
    {NULL, NULL}};

void lrtm_new_class(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods)
{
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

RTM_API int luaopen_rtmem(lua_State *L)
{
    luaL_checkversion(L);
    lrtm_new_class(L, LRTM_CONTEXT, ctx_meta, ctx_methods);
    luaL_newlib(L, module_functions);
    lua_pushliteral(L, RTM_VERSION);
    lua_setfield(L, -2, "version");
    lrtm_open_layout(L);
    lrtm_open_batch(L);
    lrtm_open_arena(L);
    lrtm_open_buffer(L);
    lrtm_open_pool(L);
    lrtm_open_intern(L);
    return 1;
}

void rtmem_lua_preload(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_rtmem);
    lua_setfield(L, -2, "rtmem");
    lua_pop(L, 1);
}
