/*
 * lrtmem_pool.c: typed pools, and handles that close themselves.
 *
 *   local nodes <close> = ctx:pool(Node, {cap = 1000, name = "nodes"})
 *   do
 *     local h <close> = nodes:acquire{kind = 1}   -- a zeroed object, these fields set
 *     h.line = 12; print(h.kind, h.line)          -- fields by name, checked
 *     other.owner = h                             -- a handle field stores h's handle
 *   end                                           -- released here
 *   nodes:release(h)   nodes:get(bits)   nodes:stats()   #nodes
 *   nodes:keep_slabs(16)   -- keep emptied slabs for the next burst
 *   rtmem.handle(h)    -- the handle's 64 bits, an integer
 *
 * A handle userdata names its object by rtmem handle (slot, generation,
 * pool), never by pointer: every field access asks the pool for the object,
 * so a handle whose object was released (by pool:release, its <close>, or
 * through another copy) raises "rtmem: the handle is stale (its object was
 * released)" on every use. An acquired handle releases its object when its
 * <close> variable goes out of scope or when it is collected; pool:get(bits)
 * gives a borrowed one, which never releases by itself.
 *
 * Fields read and write as records' do (lrtmem_layout.c); a nested record
 * reads as a table (write it whole). Strings of str fields are kept alive
 * for the object until it is released.
 */
#include "lrtmem.h"

#include <string.h>

typedef struct lrtm_pool {
    rtm_pool *p;       /* NULL once closed */
    lrtm_ctx *owner;
    const lrtm_layout *lay;
} lrtm_pool;

typedef struct lrtm_handle {
    rtm_handle h;
    lrtm_pool *pool;
    int owning;   /* acquired here: releases on close and collection */
    int released; /* released through this userdata */
} lrtm_handle;

enum { P_CTX = 1, P_LAYOUT, P_STRINGS }; /* pool user values */

static lrtm_pool *checkpool(lua_State *L, int idx)
{
    lrtm_pool *pl = (lrtm_pool *)luaL_checkudata(L, idx, LRTM_POOL);
    if (pl->owner->ctx == NULL) luaL_error(L, "rtmem: the pool's context was closed");
    if (pl->p == NULL) luaL_error(L, "rtmem: the pool was closed");
    return pl;
}

/* The object of the handle at idx: raises when it is stale or foreign. */
static unsigned char *handle_object(lua_State *L, int idx, lrtm_handle **out)
{
    lrtm_handle *hd = (lrtm_handle *)luaL_checkudata(L, idx, LRTM_HANDLE);
    if (hd->pool->owner->ctx == NULL) luaL_error(L, "rtmem: the handle's context was closed");
    if (hd->pool->p == NULL) luaL_error(L, "rtmem: the handle's pool was closed");
    if (hd->released) luaL_error(L, "rtmem: the handle is stale (its object was released)");
    unsigned char *obj = (unsigned char *)rtm_pool_get(hd->pool->p, hd->h);
    if (obj == NULL) {
        rtm_status s = rtm_ctx_error(hd->pool->owner->ctx);
        if (s == RTM_EFOREIGN) luaL_error(L, "rtmem: the handle is foreign (of another pool)");
        luaL_error(L, "rtmem: the handle is stale (its object was released)");
    }
    if (out != NULL) *out = hd;
    return obj;
}

int lrtm_handle_bits(lua_State *L, int idx, uint64_t *bits)
{
    if (luaL_testudata(L, idx, LRTM_HANDLE) == NULL) return 0;
    lrtm_handle *hd;
    handle_object(L, idx, &hd); /* a stale handle is not stored */
    *bits = hd->h.bits;
    return 1;
}

/* Strings of an object's str fields are kept in a table per object (ud is
 * its stack index), which the pool keeps under the handle's bits. */
static const char *anchor_string(lua_State *L, void *ud, int idx, size_t len)
{
    (void)len;
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, *(const int *)ud);
    return lua_tostring(L, idx);
}

/* Pushes the anchor table of the object with these bits (made if absent). */
static void push_anchors(lua_State *L, int pool_idx, uint64_t bits)
{
    lua_getiuservalue(L, pool_idx, P_STRINGS);
    lua_pushinteger(L, (lua_Integer)bits);
    if (lua_rawget(L, -2) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushinteger(L, (lua_Integer)bits);
        lua_pushvalue(L, -2);
        lua_rawset(L, -4);
    }
    lua_remove(L, -2);
}

/* ctx:pool(Layout [, {cap = n, name = s}]) */
int lrtm_ctx_pool(lua_State *L)
{
    lrtm_ctx *c = lrtm_checkctx(L, 1);
    lrtm_layout *lay = lrtm_checklayout(L, 2);
    rtm_type type;
    memset(&type, 0, sizeof type);
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        if (lua_getfield(L, 3, "cap") != LUA_TNIL) {
            int isnum;
            lua_Integer cap = lua_tointegerx(L, -1, &isnum);
            if (!isnum || cap < 0) return luaL_error(L, "rtmem: pool: cap must be a count >= 0");
            type.cap = (size_t)cap;
        }
        if (lua_getfield(L, 3, "name") != LUA_TNIL) {
            if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "rtmem: pool: name must be a string");
            type.name = lua_tostring(L, -1); /* copied by rtm_pool_new */
        }
    }
    if (type.name == NULL) type.name = rtm_layout_name(lay->proto);
    type.layout = lrtm_layout_in(L, 1, 2);
    lrtm_pool *pl = (lrtm_pool *)lua_newuserdatauv(L, sizeof *pl, 3);
    pl->p = NULL;
    pl->owner = c;
    pl->lay = lay;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, P_CTX);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, P_LAYOUT);
    lua_newtable(L);
    lua_setiuservalue(L, -2, P_STRINGS);
    luaL_setmetatable(L, LRTM_POOL);
    pl->p = rtm_pool_new(c->ctx, &type);
    if (pl->p == NULL) return lrtm_fail(L, "pool", rtm_ctx_error(c->ctx));
    return 1;
}

static lrtm_handle *push_handle(lua_State *L, int pool_idx, lrtm_pool *pl, rtm_handle h, int owning)
{
    pool_idx = lua_absindex(L, pool_idx);
    lrtm_handle *hd = (lrtm_handle *)lua_newuserdatauv(L, sizeof *hd, 1);
    hd->h = h;
    hd->pool = pl;
    hd->owning = owning;
    hd->released = 0;
    lua_pushvalue(L, pool_idx);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, LRTM_HANDLE);
    return hd;
}

/* Sets the fields of the table at tidx on row; strings anchored in the
 * table at anchors_idx. */
static void apply_fields(lua_State *L, int tidx, int anchors_idx, const lrtm_layout *lay,
                         unsigned char *row)
{
    int where = lua_absindex(L, anchors_idx);
    tidx = lua_absindex(L, tidx);
    lua_pushnil(L);
    while (lua_next(L, tidx) != 0) {
        size_t len;
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : NULL;
        const lrtm_field *f = k != NULL ? lrtm_layout_field(lay, k, len) : NULL;
        if (f == NULL) {
            if (k == NULL) luaL_error(L, "rtmem: an object's fields are named by strings, not %s", luaL_typename(L, -2));
            luaL_error(L, "rtmem: no field '%s' in layout '%s'", k, rtm_layout_name(lay->proto));
        }
        lrtm_set_field(L, -1, f, row, anchor_string, &where);
        lua_pop(L, 1);
    }
}

/* pool:acquire([fields]) --> a handle that releases its object on close.
 * The fields are checked on a scratch copy first: a bad one acquires nothing. */
static int pool_acquire(lua_State *L)
{
    lrtm_pool *pl = checkpool(L, 1);
    int has_fields = !lua_isnoneornil(L, 2);
    if (has_fields) luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lua_newtable(L); /* 3: the object's strings */
    unsigned char *tmp = (unsigned char *)lua_newuserdatauv(L, pl->lay->size, 0); /* 4 */
    memset(tmp, 0, pl->lay->size);
    if (has_fields) apply_fields(L, 2, 3, pl->lay, tmp);
    void *obj;
    rtm_handle h = rtm_pool_acquire_obj(pl->p, &obj);
    if (rtm_handle_is_null(h)) return lrtm_fail(L, "acquire", rtm_ctx_error(pl->owner->ctx));
    memcpy(obj, tmp, pl->lay->size);
    lua_getiuservalue(L, 1, P_STRINGS);
    lua_pushinteger(L, (lua_Integer)h.bits);
    lua_pushvalue(L, 3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    push_handle(L, 1, pl, h, 1);
    return 1;
}

/* Releases the handle's object and forgets its strings. */
static rtm_status release(lua_State *L, int pool_idx, lrtm_pool *pl, lrtm_handle *hd)
{
    rtm_status s = rtm_pool_release(pl->p, hd->h);
    if (s == RTM_OK) {
        hd->released = 1;
        lua_getiuservalue(L, pool_idx, P_STRINGS);
        lua_pushinteger(L, (lua_Integer)hd->h.bits);
        lua_pushnil(L);
        lua_rawset(L, -3);
        lua_pop(L, 1);
    }
    return s;
}

/* pool:release(h): releases h's object; h and every copy go stale. */
static int pool_release(lua_State *L)
{
    lrtm_pool *pl = checkpool(L, 1);
    lrtm_handle *hd = (lrtm_handle *)luaL_checkudata(L, 2, LRTM_HANDLE);
    if (hd->released) return luaL_error(L, "rtmem: release: the handle is stale (its object was released)");
    rtm_status s = release(L, 1, pl, hd);
    if (s == RTM_ESTALE) return luaL_error(L, "rtmem: release: the handle is stale (its object was released)");
    if (s == RTM_EFOREIGN) return luaL_error(L, "rtmem: release: the handle is foreign (of another pool)");
    if (s != RTM_OK) return lrtm_fail(L, "release", s);
    return 0;
}

/* pool:get(h) --> a borrowed handle (it never releases by itself) for the
 * handle h (its bits, an integer, as rtmem.handle gives or a handle field
 * holds); raises if h is stale or foreign. */
static int pool_get(lua_State *L)
{
    lrtm_pool *pl = checkpool(L, 1);
    rtm_handle h;
    h.bits = (uint64_t)luaL_checkinteger(L, 2);
    if (rtm_handle_is_null(h)) return luaL_error(L, "rtmem: get: the null handle");
    lrtm_handle *hd = push_handle(L, 1, pl, h, 0);
    handle_object(L, -1, NULL); /* stale or foreign: raise now */
    (void)hd;
    return 1;
}

static int pool_stats(lua_State *L)
{
    lrtm_pool *pl = checkpool(L, 1);
    rtm_pool_info in;
    rtm_pool_stats(pl->p, &in);
    lua_createtable(L, 0, 16);
    lua_pushstring(L, in.name);
    lua_setfield(L, -2, "name");
#define SET(f) (lua_pushinteger(L, (lua_Integer)in.f), lua_setfield(L, -2, #f))
    SET(size); SET(align); SET(stride); SET(cap); SET(live); SET(peak); SET(acquires);
    SET(releases); SET(hits); SET(misses); SET(slabs); SET(slab_bytes); SET(retired);
    SET(bad_releases);
#undef SET
    return 1;
}

/* pool:keep_slabs(n): keep up to n emptied slabs for the next growth */
static int pool_keep_slabs(lua_State *L)
{
    lrtm_pool *pl = checkpool(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);
    if (n < 1) return luaL_argerror(L, 2, "a slab count >= 1");
    rtm_status s = rtm_pool_keep_slabs(pl->p, (size_t)n);
    if (s != RTM_OK) return lrtm_fail(L, "keep_slabs", s);
    lua_settop(L, 1);
    return 1;
}

static int pool_len(lua_State *L)
{
    lrtm_pool *pl = checkpool(L, 1);
    rtm_pool_info in;
    rtm_pool_stats(pl->p, &in);
    lua_pushinteger(L, (lua_Integer)in.live);
    return 1;
}

static int pool_close(lua_State *L)
{
    lrtm_pool *pl = (lrtm_pool *)luaL_checkudata(L, 1, LRTM_POOL);
    if (pl->p != NULL && pl->owner->ctx != NULL) rtm_pool_destroy(pl->p);
    pl->p = NULL;
    return 0;
}

static int pool_tostring(lua_State *L)
{
    lrtm_pool *pl = (lrtm_pool *)luaL_checkudata(L, 1, LRTM_POOL);
    const char *name = rtm_layout_name(pl->lay->proto);
    if (pl->p == NULL || pl->owner->ctx == NULL) lua_pushfstring(L, "rtmem.pool of %s (closed)", name);
    else {
        rtm_pool_info in;
        rtm_pool_stats(pl->p, &in);
        lua_pushfstring(L, "rtmem.pool of %s (%d live)", name, (int)in.live);
    }
    return 1;
}

/* ---- handles ------------------------------------------------------------------ */

static const lrtm_field *handle_field(lua_State *L, lrtm_handle *hd, int key_idx)
{
    size_t len;
    const char *k = lua_type(L, key_idx) == LUA_TSTRING ? lua_tolstring(L, key_idx, &len) : NULL;
    const lrtm_field *f = k != NULL ? lrtm_layout_field(hd->pool->lay, k, len) : NULL;
    if (f == NULL) {
        if (k == NULL) luaL_error(L, "rtmem: an object's fields are named by strings, not %s", luaL_typename(L, key_idx));
        luaL_error(L, "rtmem: no field '%s' in layout '%s'", k, rtm_layout_name(hd->pool->lay->proto));
    }
    return f;
}

static int handle_index(lua_State *L)
{
    lrtm_handle *hd;
    unsigned char *obj = handle_object(L, 1, &hd);
    lrtm_push_field(L, handle_field(L, hd, 2), obj);
    return 1;
}

static int handle_newindex(lua_State *L)
{
    lrtm_handle *hd;
    unsigned char *obj = handle_object(L, 1, &hd);
    const lrtm_field *f = handle_field(L, hd, 2);
    lua_getiuservalue(L, 1, 1); /* the pool */
    push_anchors(L, lua_gettop(L), hd->h.bits);
    int where = lua_gettop(L);
    lrtm_set_field(L, 3, f, obj, anchor_string, &where);
    return 0;
}

/* __close and __gc: an acquired handle releases its object, unless it was
 * released already (here, or through a copy: then there is nothing to do). */
static int handle_close(lua_State *L)
{
    lrtm_handle *hd = (lrtm_handle *)luaL_checkudata(L, 1, LRTM_HANDLE);
    if (!hd->owning || hd->released || hd->pool->p == NULL || hd->pool->owner->ctx == NULL) return 0;
    lua_getiuservalue(L, 1, 1);
    if (rtm_pool_get(hd->pool->p, hd->h) != NULL) release(L, lua_gettop(L), hd->pool, hd);
    else rtm_ctx_clear_error(hd->pool->owner->ctx); /* released through a copy: not a failure */
    hd->released = 1;
    return 0;
}

static int handle_eq(lua_State *L)
{
    lrtm_handle *a = (lrtm_handle *)luaL_checkudata(L, 1, LRTM_HANDLE);
    lrtm_handle *b = (lrtm_handle *)luaL_checkudata(L, 2, LRTM_HANDLE);
    lua_pushboolean(L, a->h.bits == b->h.bits);
    return 1;
}

static int handle_tostring(lua_State *L)
{
    lrtm_handle *hd = (lrtm_handle *)luaL_checkudata(L, 1, LRTM_HANDLE);
    const char *name = rtm_layout_name(hd->pool->lay->proto);
    int live = !hd->released && hd->pool->p != NULL && hd->pool->owner->ctx != NULL &&
               rtm_pool_get(hd->pool->p, hd->h) != NULL;
    if (!live && hd->pool->p != NULL && hd->pool->owner->ctx != NULL)
        rtm_ctx_clear_error(hd->pool->owner->ctx); /* asking is not failing */
    lua_pushfstring(L, "rtmem.handle %s (%s%s)", name, live ? "live" : "stale",
                    hd->owning ? "" : ", borrowed");
    return 1;
}

/* rtmem.handle(h) --> the handle's 64 bits as an integer */
static int l_handle(lua_State *L)
{
    lrtm_handle *hd = (lrtm_handle *)luaL_checkudata(L, 1, LRTM_HANDLE);
    lua_pushinteger(L, (lua_Integer)hd->h.bits);
    return 1;
}

static const luaL_Reg pool_methods[] = {
    {"acquire", pool_acquire}, {"release", pool_release}, {"get", pool_get},
    {"stats", pool_stats},     {"close", pool_close},     {"keep_slabs", pool_keep_slabs},
    {NULL, NULL}};

static const luaL_Reg pool_meta[] = {
    {"__len", pool_len}, {"__gc", pool_close}, {"__close", pool_close},
    {"__tostring", pool_tostring}, {NULL, NULL}};

static const luaL_Reg handle_meta[] = {
    {"__index", handle_index}, {"__newindex", handle_newindex}, {"__close", handle_close},
    {"__gc", handle_close},    {"__eq", handle_eq},             {"__tostring", handle_tostring},
    {NULL, NULL}};

void lrtm_open_pool(lua_State *L)
{
    lrtm_new_class(L, LRTM_POOL, pool_meta, pool_methods);
    luaL_newmetatable(L, LRTM_HANDLE); /* __index is the field lookup */
    luaL_setfuncs(L, handle_meta, 0);
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_handle);
    lua_setfield(L, -2, "handle");
}

/* rtmem.totable(h) for a handle: its fields as a table. */
int lrtm_handle_totable(lua_State *L, int idx)
{
    if (luaL_testudata(L, idx, LRTM_HANDLE) == NULL) return 0;
    lrtm_handle *hd;
    unsigned char *obj = handle_object(L, idx, &hd);
    lrtm_row_to_table(L, hd->pool->lay, obj);
    return 1;
}
