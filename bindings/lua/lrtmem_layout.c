/*
 * lrtmem_layout.c: layouts from Lua tables, and values between Lua and the
 * C form of a row.
 *
 *   local Node = rtmem.layout{ {"kind", "u16"}, {"line", "u32"},
 *                              {"pos", Vec, 2}, {"name", "str"}, name = "Node" }
 *   Node:size(), Node:align(), Node:offset("line"), Node:fields()
 *
 * A Layout is a description, usable with any context: its prototype lives
 * in the module's own context and gives the sizes and offsets (libffi's, as a
 * C compiler's); a context that needs the layout itself (a batch over it)
 * gets its own copy, made once and cached on the context.
 *
 * Values: integers of every width (range-checked: 300 does not fit a u8),
 * f32/f64 numbers (an f32 refuses a finite value it cannot hold), booleans,
 * symbols (integers 0 .. 2^32-1), handles and u64 as 64-bit words (Lua's own
 * integers: from 2^63 up they read as negative, as Lua's arithmetic wraps),
 * pointers as light userdata, record views (their address) or nil, string
 * slices as strings or nil. An
 * array field is a table of up to n values; a nested record, a table.
 */
#include "lrtmem.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The registry key of the module's own context, which holds the prototypes. */
static const char proto_key = 'p';

static const struct {
    const char *name;
    rtm_kind kind;
} kinds[] = {
    {"i8", RTM_KIND_I8},   {"i16", RTM_KIND_I16}, {"i32", RTM_KIND_I32},     {"i64", RTM_KIND_I64},
    {"u8", RTM_KIND_U8},   {"u16", RTM_KIND_U16}, {"u32", RTM_KIND_U32},     {"u64", RTM_KIND_U64},
    {"f32", RTM_KIND_F32}, {"f64", RTM_KIND_F64}, {"ptr", RTM_KIND_PTR},     {"sym", RTM_KIND_SYM},
    {"handle", RTM_KIND_HANDLE}, {"bool", RTM_KIND_BOOL}, {"str", RTM_KIND_STR},
};

const char *lrtm_kind_name(rtm_kind k)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (kinds[i].kind == k) return kinds[i].name;
    return k == RTM_KIND_RECORD ? "record" : "?";
}

lrtm_layout *lrtm_checklayout(lua_State *L, int idx)
{
    return (lrtm_layout *)luaL_checkudata(L, idx, LRTM_LAYOUT);
}

const lrtm_field *lrtm_layout_field(const lrtm_layout *lay, const char *name, size_t len)
{
    long i = rtm_layout_find_n(lay->proto, name, len);
    return i < 0 ? NULL : &lay->fields[i];
}

/* ---- values ------------------------------------------------------------------ */

static int field_error(lua_State *L, const lrtm_field *f, const char *fmt, const char *a)
{
    lua_pushfstring(L, "rtmem: field '%s' (%s): ", f->name, lrtm_kind_name(f->kind));
    lua_pushfstring(L, fmt, a);
    lua_concat(L, 2);
    return lua_error(L);
}

static lua_Integer check_int(lua_State *L, int idx, const lrtm_field *f)
{
    int isnum;
    lua_Integer v = lua_tointegerx(L, idx, &isnum);
    if (!isnum || lua_type(L, idx) != LUA_TNUMBER) {
        if (lua_type(L, idx) == LUA_TNUMBER) field_error(L, f, "%s has no integer value", lua_tostring(L, idx));
        field_error(L, f, "expected an integer, got %s", luaL_typename(L, idx));
    }
    return v;
}

static void range_check(lua_State *L, int idx, const lrtm_field *f, lua_Integer v, lua_Integer lo,
                        lua_Integer hi)
{
    if (v < lo || v > hi) field_error(L, f, "%s is out of range", lua_tostring(L, idx));
}

/* Writes one element (not an array, not a record) from the value at idx. */
static void set_elem(lua_State *L, int idx, const lrtm_field *f, unsigned char *p,
                     lrtm_str_store store, void *ud)
{
    int t = lua_type(L, idx);
    if (t == LUA_TNIL) { /* zero */
        memset(p, 0, f->elem_size);
        return;
    }
    switch (f->kind) {
    case RTM_KIND_I8: { lua_Integer v = check_int(L, idx, f); range_check(L, idx, f, v, INT8_MIN, INT8_MAX); int8_t x = (int8_t)v; memcpy(p, &x, 1); break; }
    case RTM_KIND_I16: { lua_Integer v = check_int(L, idx, f); range_check(L, idx, f, v, INT16_MIN, INT16_MAX); int16_t x = (int16_t)v; memcpy(p, &x, 2); break; }
    case RTM_KIND_I32: { lua_Integer v = check_int(L, idx, f); range_check(L, idx, f, v, INT32_MIN, INT32_MAX); int32_t x = (int32_t)v; memcpy(p, &x, 4); break; }
    case RTM_KIND_U8: { lua_Integer v = check_int(L, idx, f); range_check(L, idx, f, v, 0, UINT8_MAX); uint8_t x = (uint8_t)v; memcpy(p, &x, 1); break; }
    case RTM_KIND_U16: { lua_Integer v = check_int(L, idx, f); range_check(L, idx, f, v, 0, UINT16_MAX); uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case RTM_KIND_U32:
    case RTM_KIND_SYM: { lua_Integer v = check_int(L, idx, f); range_check(L, idx, f, v, 0, UINT32_MAX); uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    case RTM_KIND_HANDLE: { /* a pool handle stores its bits */
        uint64_t x;
        if (!lrtm_handle_bits(L, idx, &x)) {
            if (t != LUA_TNUMBER)
                field_error(L, f, "expected a handle or an integer, got %s", luaL_typename(L, idx));
            x = (uint64_t)check_int(L, idx, f);
        }
        memcpy(p, &x, 8);
        break;
    }
    case RTM_KIND_I64:
    case RTM_KIND_U64: { /* 64-bit words, as Lua's integers */
        uint64_t x = (uint64_t)check_int(L, idx, f);
        memcpy(p, &x, 8);
        break;
    }
    case RTM_KIND_F32: {
        if (t != LUA_TNUMBER) field_error(L, f, "expected a number, got %s", luaL_typename(L, idx));
        double d = lua_tonumber(L, idx);
        if (isfinite(d) && fabs(d) > FLT_MAX) field_error(L, f, "%s is out of range", lua_tostring(L, idx));
        float x = (float)d;
        memcpy(p, &x, 4);
        break;
    }
    case RTM_KIND_F64: {
        if (t != LUA_TNUMBER) field_error(L, f, "expected a number, got %s", luaL_typename(L, idx));
        double x = lua_tonumber(L, idx);
        memcpy(p, &x, 8);
        break;
    }
    case RTM_KIND_BOOL: {
        if (t != LUA_TBOOLEAN) field_error(L, f, "expected a boolean, got %s", luaL_typename(L, idx));
        _Bool x = lua_toboolean(L, idx) != 0;
        memcpy(p, &x, sizeof x);
        break;
    }
    case RTM_KIND_PTR: { /* a record view stores its record's address */
        void *x = t == LUA_TLIGHTUSERDATA ? lua_touserdata(L, idx) : lrtm_view_address(L, idx);
        if (x == NULL)
            field_error(L, f, "expected a record, a light userdata or nil, got %s", luaL_typename(L, idx));
        memcpy(p, &x, sizeof x);
        break;
    }
    case RTM_KIND_STR: {
        if (t != LUA_TSTRING) field_error(L, f, "expected a string or nil, got %s", luaL_typename(L, idx));
        size_t len;
        lua_tolstring(L, idx, &len);
        rtm_str s;
        s.ptr = store(L, ud, idx, len);
        s.len = len;
        memcpy(p, &s, sizeof s);
        break;
    }
    default:
        field_error(L, f, "%s", "cannot be written");
    }
}

static void push_elem(lua_State *L, const lrtm_field *f, const unsigned char *p)
{
    switch (f->kind) {
    case RTM_KIND_I8: { int8_t x; memcpy(&x, p, 1); lua_pushinteger(L, x); break; }
    case RTM_KIND_I16: { int16_t x; memcpy(&x, p, 2); lua_pushinteger(L, x); break; }
    case RTM_KIND_I32: { int32_t x; memcpy(&x, p, 4); lua_pushinteger(L, x); break; }
    case RTM_KIND_U8: { uint8_t x; memcpy(&x, p, 1); lua_pushinteger(L, x); break; }
    case RTM_KIND_U16: { uint16_t x; memcpy(&x, p, 2); lua_pushinteger(L, x); break; }
    case RTM_KIND_U32:
    case RTM_KIND_SYM: { uint32_t x; memcpy(&x, p, 4); lua_pushinteger(L, (lua_Integer)x); break; }
    case RTM_KIND_I64:
    case RTM_KIND_U64:
    case RTM_KIND_HANDLE: { uint64_t x; memcpy(&x, p, 8); lua_pushinteger(L, (lua_Integer)x); break; }
    case RTM_KIND_F32: { float x; memcpy(&x, p, 4); lua_pushnumber(L, (lua_Number)x); break; }
    case RTM_KIND_F64: { double x; memcpy(&x, p, 8); lua_pushnumber(L, x); break; }
    case RTM_KIND_BOOL: { _Bool x; memcpy(&x, p, sizeof x); lua_pushboolean(L, x); break; }
    case RTM_KIND_PTR: {
        void *x;
        memcpy(&x, p, sizeof x);
        if (x == NULL) lua_pushnil(L);
        else lua_pushlightuserdata(L, x);
        break;
    }
    case RTM_KIND_STR: {
        rtm_str s;
        memcpy(&s, p, sizeof s);
        if (s.ptr == NULL) lua_pushnil(L);
        else lua_pushlstring(L, s.ptr, s.len);
        break;
    }
    case RTM_KIND_RECORD:
        lrtm_row_to_table(L, f->sub, p);
        break;
    default:
        lua_pushnil(L);
    }
}

void lrtm_push_field(lua_State *L, const lrtm_field *f, const unsigned char *row)
{
    const unsigned char *p = row + f->offset;
    if (f->count == 1) {
        push_elem(L, f, p);
        return;
    }
    lua_createtable(L, (int)f->count, 0);
    for (size_t i = 0; i < f->count; i++) {
        push_elem(L, f, p + i * f->elem_size);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* One element of f from the value at idx: a record from a table. The
 * element is written to a scratch copy first, so a bad value deep in a
 * nested table leaves the row as it was. */
static void set_one(lua_State *L, int idx, const lrtm_field *f, unsigned char *p,
                    lrtm_str_store store, void *ud)
{
    if (f->kind != RTM_KIND_RECORD) {
        set_elem(L, idx, f, p, store, ud);
        return;
    }
    if (lua_isnil(L, idx)) {
        memset(p, 0, f->elem_size);
        return;
    }
    if (!lua_istable(L, idx))
        field_error(L, f, "expected a table, got %s", luaL_typename(L, idx));
    lrtm_row_from_table(L, idx, f->sub, p, store, ud);
}

void lrtm_set_field(lua_State *L, int idx, const lrtm_field *f, unsigned char *row,
                    lrtm_str_store store, void *ud)
{
    idx = lua_absindex(L, idx);
    unsigned char *p = row + f->offset;
    if (f->count == 1) {
        /* checked into a scratch element, then copied: all or nothing */
        unsigned char small[64];
        unsigned char *tmp = f->elem_size <= sizeof small
                                 ? small
                                 : (unsigned char *)lua_newuserdatauv(L, f->elem_size, 0);
        memcpy(tmp, p, f->elem_size);
        set_one(L, idx, f, tmp, store, ud);
        memcpy(p, tmp, f->elem_size);
        if (tmp != small) lua_pop(L, 1);
        return;
    }
    if (lua_isnil(L, idx)) {
        memset(p, 0, f->elem_size * f->count);
        return;
    }
    if (!lua_istable(L, idx))
        field_error(L, f, "expected a table (an array), got %s", luaL_typename(L, idx));
    lua_Integer n = luaL_len(L, idx);
    if (n < 0 || (lua_Unsigned)n > f->count) {
        lua_pushfstring(L, "%d values for an array of %d", (int)n, (int)f->count);
        field_error(L, f, "%s", lua_tostring(L, -1));
    }
    unsigned char *tmp = (unsigned char *)lua_newuserdatauv(L, f->elem_size * f->count, 0);
    memset(tmp, 0, f->elem_size * f->count);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, idx, i);
        set_one(L, -1, f, tmp + (size_t)(i - 1) * f->elem_size, store, ud);
        lua_pop(L, 1);
    }
    memcpy(p, tmp, f->elem_size * f->count);
    lua_pop(L, 1);
}

void lrtm_row_from_table(lua_State *L, int idx, const lrtm_layout *lay, unsigned char *row,
                         lrtm_str_store store, void *ud)
{
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 8, "rtmem: nested records too deep");
    /* unknown keys are mistakes (a misspelt field would silently be 0) */
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        size_t len;
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (k == NULL || lrtm_layout_field(lay, k, len) == NULL) {
            const char *name = rtm_layout_name(lay->proto);
            if (k == NULL) luaL_error(L, "rtmem: a row has a key of type %s", luaL_typename(L, -1));
            luaL_error(L, "rtmem: no field '%s' in layout '%s'", k, name[0] ? name : "(anonymous)");
        }
    }
    for (size_t i = 0; i < lay->nfields; i++) {
        const lrtm_field *f = &lay->fields[i];
        lua_getfield(L, idx, f->name);
        lrtm_set_field(L, -1, f, row, store, ud);
        lua_pop(L, 1);
    }
}

void lrtm_row_to_table(lua_State *L, const lrtm_layout *lay, const unsigned char *row)
{
    luaL_checkstack(L, 8, "rtmem: nested records too deep");
    lua_createtable(L, 0, (int)lay->nfields);
    for (size_t i = 0; i < lay->nfields; i++) {
        lrtm_push_field(L, &lay->fields[i], row);
        lua_setfield(L, -2, lay->fields[i].name);
    }
}

/* ---- making layouts ------------------------------------------------------------ */

static rtm_ctx *proto_ctx(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &proto_key);
    lrtm_ctx *c = (lrtm_ctx *)lua_touserdata(L, -1);
    lua_pop(L, 1); /* the registry keeps it */
    return c->ctx;
}

/* rtmem.layout{ {"name", "kind" or Layout [, count]}, ..., name = "Record" } */
static int l_layout(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *rname = NULL;
    if (lua_getfield(L, 1, "name") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "rtmem: layout: name must be a string");
        rname = lua_tostring(L, -1);
    }
    lua_pop(L, 1); /* the string stays in the spec */
    lua_Integer n = luaL_len(L, 1);
    if (n < 1 || n > RTM_LAYOUT_MAX_FIELDS)
        return luaL_error(L, "rtmem: layout: a layout has 1 to %d fields, not %d",
                          RTM_LAYOUT_MAX_FIELDS, (int)n);
    rtm_field *fields = (rtm_field *)lua_newuserdatauv(L, sizeof(rtm_field) * (size_t)n, 0);
    lua_newtable(L); /* names seen */
    int seen = lua_gettop(L);
    lua_newtable(L); /* the nested Layout userdata, by field number */
    int subs = lua_gettop(L);
    for (lua_Integer i = 1; i <= n; i++) {
        rtm_field *fd = &fields[i - 1];
        if (lua_geti(L, 1, i) != LUA_TTABLE)
            return luaL_error(L, "rtmem: layout: field %d is not a table {name, kind[, count]}", (int)i);
        int fs = lua_gettop(L);
        if (lua_geti(L, fs, 1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
            return luaL_error(L, "rtmem: layout: field %d has no name", (int)i);
        fd->name = lua_tostring(L, -1);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, seen) != LUA_TNIL)
            return luaL_error(L, "rtmem: layout: two fields are called '%s'", fd->name);
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
        lua_rawset(L, seen); /* pops the name: it stays in the spec */
        fd->layout = NULL;
        int kt = lua_geti(L, fs, 2);
        if (kt == LUA_TSTRING) {
            const char *k = lua_tostring(L, -1);
            fd->kind = 0;
            for (size_t j = 0; j < sizeof kinds / sizeof kinds[0]; j++)
                if (strcmp(k, kinds[j].name) == 0) fd->kind = kinds[j].kind;
            if (fd->kind == 0)
                return luaL_error(L, "rtmem: layout: field '%s' has an unknown kind '%s'", fd->name, k);
        } else if (luaL_testudata(L, -1, LRTM_LAYOUT) != NULL) {
            fd->kind = RTM_KIND_RECORD;
            fd->layout = ((lrtm_layout *)lua_touserdata(L, -1))->proto;
            lua_pushvalue(L, -1);
            lua_rawseti(L, subs, i);
        } else {
            return luaL_error(L, "rtmem: layout: field '%s' needs a kind (a name such as "
                                 "\"u32\", or a layout)", fd->name);
        }
        lua_pop(L, 1);
        fd->count = 1;
        if (lua_geti(L, fs, 3) != LUA_TNIL) {
            int isnum;
            lua_Integer c = lua_tointegerx(L, -1, &isnum);
            if (!isnum || c < 1)
                return luaL_error(L, "rtmem: layout: field '%s' has a bad count", fd->name);
            fd->count = (size_t)c;
        }
        lua_pop(L, 2); /* count, field spec */
    }
    rtm_ctx *pc = proto_ctx(L);
    const rtm_layout *proto = rtm_layout_new(pc, rname, fields, (size_t)n);
    if (proto == NULL) return lrtm_fail(L, "layout", rtm_ctx_error(pc));

    lrtm_layout *lay = (lrtm_layout *)lua_newuserdatauv(
        L, sizeof(lrtm_layout) + sizeof(lrtm_field) * (size_t)n, 1);
    lay->proto = proto;
    lay->size = rtm_layout_size(proto);
    lay->align = rtm_layout_align(proto);
    lay->nfields = (size_t)n;
    for (size_t i = 0; i < (size_t)n; i++) {
        rtm_field_info info;
        rtm_layout_field(proto, i, &info);
        lrtm_field *f = &lay->fields[i];
        f->name = info.name;
        f->kind = info.kind;
        f->count = info.count;
        f->offset = info.offset;
        f->elem_size = info.elem_size;
        f->sub = NULL;
        if (f->kind == RTM_KIND_RECORD) {
            lua_rawgeti(L, subs, (lua_Integer)i + 1);
            f->sub = (const lrtm_layout *)lua_touserdata(L, -1);
            lua_pop(L, 1);
        }
    }
    lua_pushvalue(L, subs);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, LRTM_LAYOUT);
    return 1;
}

const rtm_layout *lrtm_layout_in(lua_State *L, int ctx_idx, int layout_idx)
{
    ctx_idx = lua_absindex(L, ctx_idx);
    layout_idx = lua_absindex(L, layout_idx);
    lrtm_ctx *c = lrtm_checkctx(L, ctx_idx);
    lrtm_layout *lay = lrtm_checklayout(L, layout_idx);
    luaL_checkstack(L, 8, "rtmem: nested records too deep");
    if (lua_getiuservalue(L, ctx_idx, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, ctx_idx, 1);
    }
    int cache = lua_gettop(L);
    lua_pushvalue(L, layout_idx);
    if (lua_rawget(L, cache) == LUA_TLIGHTUSERDATA) {
        const rtm_layout *l = (const rtm_layout *)lua_touserdata(L, -1);
        lua_pop(L, 2);
        return l;
    }
    lua_pop(L, 1);
    rtm_field *fields = (rtm_field *)lua_newuserdatauv(L, sizeof(rtm_field) * lay->nfields, 0);
    lua_getiuservalue(L, layout_idx, 1); /* the nested layouts */
    for (size_t i = 0; i < lay->nfields; i++) {
        const lrtm_field *f = &lay->fields[i];
        fields[i].name = f->name;
        fields[i].kind = f->kind;
        fields[i].count = f->count;
        fields[i].layout = NULL;
        if (f->kind == RTM_KIND_RECORD) {
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
            fields[i].layout = lrtm_layout_in(L, ctx_idx, -1);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    const rtm_layout *l = rtm_layout_new(c->ctx, rtm_layout_name(lay->proto), fields, lay->nfields);
    if (l == NULL) lrtm_fail(L, "layout", rtm_ctx_error(c->ctx));
    lua_pop(L, 1); /* fields */
    lua_pushvalue(L, layout_idx);
    lua_pushlightuserdata(L, (void *)l);
    lua_rawset(L, cache);
    lua_pop(L, 1);
    return l;
}

/* ---- methods ------------------------------------------------------------------ */

static int layout_size(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lrtm_checklayout(L, 1)->size);
    return 1;
}

static int layout_align(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lrtm_checklayout(L, 1)->align);
    return 1;
}

static int layout_name(lua_State *L)
{
    lua_pushstring(L, rtm_layout_name(lrtm_checklayout(L, 1)->proto));
    return 1;
}

/* Layout:offset(name): the field's offset, or nil and a message. */
static int layout_offset(lua_State *L)
{
    lrtm_layout *lay = lrtm_checklayout(L, 1);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    const lrtm_field *f = lrtm_layout_field(lay, name, len);
    if (f == NULL) return luaL_error(L, "rtmem: no field '%s' in layout '%s'", name, rtm_layout_name(lay->proto));
    lua_pushinteger(L, (lua_Integer)f->offset);
    return 1;
}

/* Layout:fields(): {{name=, kind=, count=, offset=, size=, layout=}, ...} */
static int layout_fields(lua_State *L)
{
    lrtm_layout *lay = lrtm_checklayout(L, 1);
    lua_createtable(L, (int)lay->nfields, 0);
    lua_getiuservalue(L, 1, 1);
    for (size_t i = 0; i < lay->nfields; i++) {
        const lrtm_field *f = &lay->fields[i];
        lua_createtable(L, 0, 6);
        lua_pushstring(L, f->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, lrtm_kind_name(f->kind));
        lua_setfield(L, -2, "kind");
        lua_pushinteger(L, (lua_Integer)f->count);
        lua_setfield(L, -2, "count");
        lua_pushinteger(L, (lua_Integer)f->offset);
        lua_setfield(L, -2, "offset");
        lua_pushinteger(L, (lua_Integer)(f->elem_size * f->count));
        lua_setfield(L, -2, "size");
        if (f->kind == RTM_KIND_RECORD) {
            lua_rawgeti(L, -2, (lua_Integer)i + 1);
            lua_setfield(L, -2, "layout");
        }
        lua_rawseti(L, -3, (lua_Integer)i + 1);
    }
    lua_pop(L, 1);
    return 1;
}

static int layout_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lrtm_checklayout(L, 1)->nfields);
    return 1;
}

static int layout_tostring(lua_State *L)
{
    lrtm_layout *lay = lrtm_checklayout(L, 1);
    const char *name = rtm_layout_name(lay->proto);
    lua_pushfstring(L, "rtmem.layout%s%s (%d fields, %d bytes)", name[0] ? " " : "", name,
                    (int)lay->nfields, (int)lay->size);
    return 1;
}

static const luaL_Reg layout_methods[] = {
    {"size", layout_size},     {"align", layout_align},   {"name", layout_name},
    {"offset", layout_offset}, {"fields", layout_fields}, {NULL, NULL}};

static const luaL_Reg layout_meta[] = {
    {"__len", layout_len}, {"__tostring", layout_tostring}, {NULL, NULL}};

void lrtm_open_layout(lua_State *L)
{
    lrtm_new_class(L, LRTM_LAYOUT, layout_meta, layout_methods);
    /* the module's own context, for the prototypes; closed with the state */
    lrtm_ctx *c = (lrtm_ctx *)lua_newuserdatauv(L, sizeof *c, 2);
    c->ctx = rtm_ctx_new(NULL);
    c->owned = 1;
    luaL_setmetatable(L, LRTM_CONTEXT);
    if (c->ctx == NULL) luaL_error(L, "rtmem: cannot make the module's context (no memory)");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &proto_key);
    lua_pushcfunction(L, l_layout);
    lua_setfield(L, -2, "layout");
}
