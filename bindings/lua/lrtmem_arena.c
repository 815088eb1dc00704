/*
 * lrtmem_arena.c: arenas, and record views on the records made in them.
 *
 *   local a <close> = ctx:arena()
 *   local n = a:new(Node)             -- a record in the arena, zeroed
 *   n.kind, n.line = 3, 12            -- fields by name, checked
 *   n.left = a:new(Node)              -- a ptr field holds a record's address;
 *   n.left.line                       -- reading it gives that record's view
 *   n.pos.x = 1.5                     -- a nested record is a view too
 *   local m = a:save() ... a:rewind(m)   a:reset()   a:close()
 *
 * Safety. A view is never a raw pointer to Lua: each view is known to its
 * arena, in the order made (so in the order of arena positions), and a
 * rewind, a reset or a close marks the views it frees as dead. A dead view,
 * or a view whose context was closed, raises "rtmem: the record was freed
 * (its arena was rewound, reset or closed)" on every use. Strings written to
 * str fields are copied into a second arena of the arena's own, which only a
 * reset or a close frees, so a rewind can never leave a view's string
 * dangling.
 *
 * A ptr field holds an address: a view stores its record's, and reading one
 * gives the live view of the context at that address, or a light userdata
 * when no view of this context lives there (nil for NULL).
 */
#include "lrtmem.h"

#include <string.h>

typedef struct lrtm_arena {
    rtm_arena *a;        /* NULL once closed */
    rtm_arena *strings;  /* the copies of str fields, made on first use */
    lrtm_ctx *owner;
    size_t nviews;       /* views in user value 2, in position order */
} lrtm_arena;

typedef struct lrtm_view {
    unsigned char *p;
    const lrtm_layout *lay;
    lrtm_arena *arena;
    struct lrtm_view *root; /* itself, or the record a nested view is in */
    size_t pos;             /* the arena position before its allocation */
    int dead;
} lrtm_view;

enum { A_CTX = 1, A_VIEWS };            /* arena user values */
enum { V_ARENA = 1, V_LAYOUT, V_ROOT }; /* view user values */

static const char *copy_string(lua_State *L, void *ud, int idx, size_t len);
static void apply_fields(lua_State *L, int tidx, const lrtm_layout *lay, unsigned char *row,
                         lrtm_arena *ar);

/* The context's table of live views by address (context user value 2).
 * Its values are weak: an arena keeps its views alive (and they it), so a
 * view is in the table while its arena lives, and an arena nobody holds is
 * collected with its views. */
static void push_address_table(lua_State *L, int ctx_idx)
{
    ctx_idx = lua_absindex(L, ctx_idx);
    if (lua_getiuservalue(L, ctx_idx, 2) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "v");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, ctx_idx, 2);
    }
}

static lrtm_arena *checkarena(lua_State *L, int idx)
{
    lrtm_arena *ar = (lrtm_arena *)luaL_checkudata(L, idx, LRTM_ARENA);
    if (ar->owner->ctx == NULL) luaL_error(L, "rtmem: the arena's context was closed");
    if (ar->a == NULL) luaL_error(L, "rtmem: the arena was closed");
    return ar;
}

static lrtm_view *checkview(lua_State *L, int idx)
{
    lrtm_view *v = (lrtm_view *)luaL_checkudata(L, idx, LRTM_RECORD);
    if (v->arena->owner->ctx == NULL) luaL_error(L, "rtmem: the record's context was closed");
    if (v->root->dead) luaL_error(L, "rtmem: the record was freed (its arena was rewound, reset or closed)");
    return v;
}

void *lrtm_view_address(lua_State *L, int idx)
{
    if (luaL_testudata(L, idx, LRTM_RECORD) == NULL) return NULL;
    return checkview(L, idx)->p;
}

/* Marks dead, and forgets, the views made at or after position pos (all of
 * them for pos 0). The arena's userdata is at idx. */
static void drop_views(lua_State *L, int idx, lrtm_arena *ar, size_t pos)
{
    idx = lua_absindex(L, idx);
    lua_getiuservalue(L, idx, A_VIEWS);
    lua_getiuservalue(L, idx, A_CTX);
    push_address_table(L, -1);
    lua_remove(L, -2); /* views, addresses */
    while (ar->nviews > 0) {
        lua_rawgeti(L, -2, (lua_Integer)ar->nviews);
        lrtm_view *v = (lrtm_view *)lua_touserdata(L, -1);
        if (v->pos < pos) {
            lua_pop(L, 1);
            break;
        }
        v->dead = 1;
        lua_pushlightuserdata(L, v->p); /* forget the address if it is this view's */
        if (lua_rawget(L, -3) == LUA_TUSERDATA && lua_touserdata(L, -1) == (void *)v) {
            lua_pushlightuserdata(L, v->p);
            lua_pushnil(L);
            lua_rawset(L, -5);
        }
        lua_pop(L, 2);
        lua_pushnil(L);
        lua_rawseti(L, -3, (lua_Integer)ar->nviews);
        ar->nviews--;
    }
    lua_pop(L, 2);
}

/* ctx:arena() */
int lrtm_ctx_arena(lua_State *L)
{
    lrtm_ctx *c = lrtm_checkctx(L, 1);
    lrtm_arena *ar = (lrtm_arena *)lua_newuserdatauv(L, sizeof *ar, 2);
    ar->a = NULL;
    ar->strings = NULL;
    ar->owner = c;
    ar->nviews = 0;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, A_CTX);
    lua_newtable(L);
    lua_setiuservalue(L, -2, A_VIEWS);
    luaL_setmetatable(L, LRTM_ARENA);
    ar->a = rtm_arena_new(c->ctx);
    if (ar->a == NULL) return lrtm_fail(L, "arena", rtm_ctx_error(c->ctx));
    return 1;
}

/* A view of the record at p, of layout lay (its Layout userdata at lay_idx),
 * in the arena at arena_idx; root_idx 0 for a record of its own. */
static lrtm_view *push_view(lua_State *L, int arena_idx, lrtm_arena *ar, unsigned char *p,
                            const lrtm_layout *lay, int lay_idx, int root_idx, size_t pos)
{
    arena_idx = lua_absindex(L, arena_idx);
    lay_idx = lua_absindex(L, lay_idx);
    if (root_idx != 0) root_idx = lua_absindex(L, root_idx);
    lrtm_view *v = (lrtm_view *)lua_newuserdatauv(L, sizeof *v, 3);
    v->p = p;
    v->lay = lay;
    v->arena = ar;
    v->pos = pos;
    v->dead = 0;
    v->root = root_idx != 0 ? ((lrtm_view *)lua_touserdata(L, root_idx))->root : v;
    lua_pushvalue(L, arena_idx);
    lua_setiuservalue(L, -2, V_ARENA);
    lua_pushvalue(L, lay_idx);
    lua_setiuservalue(L, -2, V_LAYOUT);
    if (root_idx != 0) {
        lua_pushvalue(L, root_idx);
        lua_setiuservalue(L, -2, V_ROOT);
    }
    luaL_setmetatable(L, LRTM_RECORD);
    return v;
}

/* a:new(Layout [, fields]) --> a view of a new, zeroed record; the optional
 * table sets fields as a batch row would. */
static int arena_new(lua_State *L)
{
    lrtm_arena *ar = checkarena(L, 1);
    lrtm_layout *lay = lrtm_checklayout(L, 2);
    int has_fields = !lua_isnoneornil(L, 3);
    if (has_fields) luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    unsigned char *init = NULL;
    if (has_fields) { /* checked on a scratch copy first: a bad field makes no record */
        init = (unsigned char *)lua_newuserdatauv(L, lay->size, 0);
        memset(init, 0, lay->size);
        apply_fields(L, 3, lay, init, ar);
    }
    size_t pos = rtm_arena_save(ar->a).pos;
    unsigned char *p = (unsigned char *)rtm_arena_alloc_zero(ar->a, lay->size, lay->align);
    if (p == NULL) return lrtm_fail(L, "new", rtm_ctx_error(ar->owner->ctx));
    if (init != NULL) memcpy(p, init, lay->size);
    lrtm_view *v = push_view(L, 1, ar, p, lay, 2, 0, pos);
    /* known to the arena (to be freed by rewind, reset, close) and to the
     * context (to be found by address) */
    lua_getiuservalue(L, 1, A_VIEWS);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, (lua_Integer)++ar->nviews);
    lua_pop(L, 1);
    lua_getiuservalue(L, 1, A_CTX);
    push_address_table(L, -1);
    lua_pushlightuserdata(L, p);
    lua_pushvalue(L, -4);
    lua_rawset(L, -3);
    lua_pop(L, 2);
    (void)v;
    return 1;
}

/* The copy of a str field's bytes: in the arena's string arena. */
static const char *copy_string(lua_State *L, void *ud, int idx, size_t len)
{
    lrtm_arena *ar = (lrtm_arena *)ud;
    if (ar->strings == NULL) {
        ar->strings = rtm_arena_new(ar->owner->ctx);
        if (ar->strings == NULL) lrtm_fail(L, "string copy", rtm_ctx_error(ar->owner->ctx));
    }
    const char *s = lua_tostring(L, idx);
    char *copy = rtm_arena_strdup(ar->strings, s, len);
    if (copy == NULL) lrtm_fail(L, "string copy", rtm_ctx_error(ar->owner->ctx));
    return copy;
}

/* ---- views -------------------------------------------------------------------- */

static const lrtm_field *field_by_key(lua_State *L, const lrtm_layout *lay, int key_idx)
{
    size_t len;
    const char *k = lua_type(L, key_idx) == LUA_TSTRING ? lua_tolstring(L, key_idx, &len) : NULL;
    const lrtm_field *f = k != NULL ? lrtm_layout_field(lay, k, len) : NULL;
    if (f == NULL) {
        const char *name = rtm_layout_name(lay->proto);
        if (k == NULL) luaL_error(L, "rtmem: a record's fields are named by strings, not %s", luaL_typename(L, key_idx));
        luaL_error(L, "rtmem: no field '%s' in layout '%s'", k, name[0] ? name : "(anonymous)");
    }
    return f;
}

static const lrtm_field *view_field(lua_State *L, lrtm_view *v, int key_idx)
{
    return field_by_key(L, v->lay, key_idx);
}

/* Sets the fields named in the table at tidx on the row (a scratch copy:
 * the caller copies it to the record once every field passed). */
static void apply_fields(lua_State *L, int tidx, const lrtm_layout *lay, unsigned char *row,
                         lrtm_arena *ar)
{
    tidx = lua_absindex(L, tidx);
    lua_pushnil(L);
    while (lua_next(L, tidx) != 0) {
        const lrtm_field *f = field_by_key(L, lay, -2);
        lrtm_set_field(L, -1, f, row, copy_string, ar);
        lua_pop(L, 1);
    }
}

static int view_index(lua_State *L)
{
    lrtm_view *v = checkview(L, 1);
    const lrtm_field *f = view_field(L, v, 2);
    if (f->count == 1 && f->kind == RTM_KIND_RECORD) { /* a view of the nested record */
        lua_getiuservalue(L, 1, V_ARENA);
        lua_getiuservalue(L, 1, V_LAYOUT);
        lua_getiuservalue(L, -1, 1); /* the layout's nested layouts */
        lua_rawgeti(L, -1, (lua_Integer)(f - v->lay->fields) + 1);
        push_view(L, -4, v->arena, v->p + f->offset, f->sub, -1, 1, v->pos);
        return 1;
    }
    if (f->count == 1 && f->kind == RTM_KIND_PTR) { /* the view living there, if any */
        void *p;
        memcpy(&p, v->p + f->offset, sizeof p);
        if (p == NULL) {
            lua_pushnil(L);
            return 1;
        }
        lua_getiuservalue(L, 1, V_ARENA);
        lua_getiuservalue(L, -1, A_CTX);
        push_address_table(L, -1);
        lua_pushlightuserdata(L, p);
        if (lua_rawget(L, -2) != LUA_TUSERDATA) lua_pushlightuserdata(L, p);
        return 1;
    }
    lrtm_push_field(L, f, v->p);
    return 1;
}

static int view_newindex(lua_State *L)
{
    lrtm_view *v = checkview(L, 1);
    const lrtm_field *f = view_field(L, v, 2);
    lrtm_set_field(L, 3, f, v->p, copy_string, v->arena);
    return 0;
}

static int view_eq(lua_State *L)
{
    lrtm_view *a = checkview(L, 1), *b = checkview(L, 2);
    lua_pushboolean(L, a->p == b->p && a->lay == b->lay);
    return 1;
}

static int view_tostring(lua_State *L)
{
    lrtm_view *v = (lrtm_view *)luaL_checkudata(L, 1, LRTM_RECORD);
    const char *name = rtm_layout_name(v->lay->proto);
    if (v->root->dead || v->arena->owner->ctx == NULL)
        lua_pushfstring(L, "rtmem.record %s (freed)", name[0] ? name : "(anonymous)");
    else lua_pushfstring(L, "rtmem.record %s (%p)", name[0] ? name : "(anonymous)", (void *)v->p);
    return 1;
}

/* rtmem.totable(view or handle) --> the fields as a table (records nested) */
static int l_totable(lua_State *L)
{
    if (lrtm_handle_totable(L, 1)) return 1; /* a pool handle */
    lrtm_view *v = checkview(L, 1);
    lrtm_row_to_table(L, v->lay, v->p);
    return 1;
}

/* rtmem.layout_of(view), rtmem.address(view) (a light userdata) */
static int l_layout_of(lua_State *L)
{
    checkview(L, 1);
    lua_getiuservalue(L, 1, V_LAYOUT);
    return 1;
}

static int l_address(lua_State *L)
{
    lua_pushlightuserdata(L, checkview(L, 1)->p);
    return 1;
}

/* rtmem.set(view, fields): sets several fields at once, all or none. */
static int l_set(lua_State *L)
{
    lrtm_view *v = checkview(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    unsigned char *tmp = (unsigned char *)lua_newuserdatauv(L, v->lay->size, 0);
    memcpy(tmp, v->p, v->lay->size);
    apply_fields(L, 2, v->lay, tmp, v->arena);
    memcpy(v->p, tmp, v->lay->size);
    return 0;
}

/* ---- marks, rewind, reset, close ------------------------------------------------- */

typedef struct lrtm_mark {
    rtm_arena_mark m;
} lrtm_mark;

/* a:save() --> a mark */
static int arena_save(lua_State *L)
{
    lrtm_arena *ar = checkarena(L, 1);
    lrtm_mark *mk = (lrtm_mark *)lua_newuserdatauv(L, sizeof *mk, 0);
    mk->m = rtm_arena_save(ar->a);
    luaL_setmetatable(L, LRTM_MARK);
    return 1;
}

/* a:rewind(mark): frees everything made since the mark. */
static int arena_rewind(lua_State *L)
{
    lrtm_arena *ar = checkarena(L, 1);
    lrtm_mark *mk = (lrtm_mark *)luaL_checkudata(L, 2, LRTM_MARK);
    rtm_status s = rtm_arena_rewind(ar->a, mk->m);
    if (s == RTM_EFOREIGN) return luaL_error(L, "rtmem: rewind: the mark is another arena's");
    if (s == RTM_ESTALE)
        return luaL_error(L, "rtmem: rewind: the mark is stale (a reset or an earlier rewind freed it)");
    if (s != RTM_OK) return lrtm_fail(L, "rewind", s);
    drop_views(L, 1, ar, mk->m.pos);
    return 0;
}

/* a:reset(): frees everything, keeps the chunks. */
static int arena_reset(lua_State *L)
{
    lrtm_arena *ar = checkarena(L, 1);
    drop_views(L, 1, ar, 0);
    rtm_arena_reset(ar->a);
    if (ar->strings != NULL) rtm_arena_reset(ar->strings);
    return 0;
}

/* a:close(): frees everything and ends the arena; allowed twice. */
static int arena_close(lua_State *L)
{
    lrtm_arena *ar = (lrtm_arena *)luaL_checkudata(L, 1, LRTM_ARENA);
    if (ar->a != NULL && ar->owner->ctx != NULL) {
        drop_views(L, 1, ar, 0);
        rtm_arena_destroy(ar->a);
        rtm_arena_destroy(ar->strings);
    }
    ar->a = ar->strings = NULL;
    return 0;
}

/* The finalizer: the views are garbage too (they keep the arena alive), so
 * there is nothing to mark; give the chunks back. */
static int arena_gc(lua_State *L)
{
    lrtm_arena *ar = (lrtm_arena *)luaL_checkudata(L, 1, LRTM_ARENA);
    if (ar->a != NULL && ar->owner->ctx != NULL) {
        rtm_arena_destroy(ar->a);
        rtm_arena_destroy(ar->strings);
    }
    ar->a = ar->strings = NULL;
    return 0;
}

/* a:records() --> how many records the arena's views cover now */
static int arena_records(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)checkarena(L, 1)->nviews);
    return 1;
}

static int arena_tostring(lua_State *L)
{
    lrtm_arena *ar = (lrtm_arena *)luaL_checkudata(L, 1, LRTM_ARENA);
    if (ar->a == NULL || ar->owner->ctx == NULL) lua_pushliteral(L, "rtmem.arena (closed)");
    else lua_pushfstring(L, "rtmem.arena (%d records)", (int)ar->nviews);
    return 1;
}

static const luaL_Reg arena_methods[] = {
    {"new", arena_new},       {"save", arena_save},   {"rewind", arena_rewind},
    {"reset", arena_reset},   {"close", arena_close}, {"records", arena_records},
    {NULL, NULL}};

static const luaL_Reg arena_meta[] = {
    {"__gc", arena_gc}, {"__close", arena_close}, {"__tostring", arena_tostring}, {NULL, NULL}};

static const luaL_Reg view_meta[] = {
    {"__index", view_index},   {"__newindex", view_newindex},
    {"__eq", view_eq},         {"__tostring", view_tostring},
    {NULL, NULL}};

static const luaL_Reg no_methods[] = {{NULL, NULL}};

static const luaL_Reg module_functions[] = {
    {"totable", l_totable}, {"layout_of", l_layout_of}, {"address", l_address}, {"set", l_set},
    {NULL, NULL}};

void lrtm_open_arena(lua_State *L)
{
    lrtm_new_class(L, LRTM_ARENA, arena_meta, arena_methods);
    lrtm_new_class(L, LRTM_MARK, no_methods, no_methods);
    /* a view's __index is the field lookup, not a method table */
    luaL_newmetatable(L, LRTM_RECORD);
    luaL_setfuncs(L, view_meta, 0);
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    luaL_setfuncs(L, module_functions, 0);
}
