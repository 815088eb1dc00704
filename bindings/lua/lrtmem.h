/*
 * lrtmem.h: what the files of the `rtmem` Lua module share.
 *
 *   lrtmem.c          the module table, contexts and their stats
 *   lrtmem_layout.c   layouts, and converting values between Lua and C rows
 *   lrtmem_batch.c    batches and their column kernels
 *   lrtmem_arena.c    arenas and the record views on their records
 *   lrtmem_buf.c      aligned buffers
 *   lrtmem_pool.c     pools and their handles
 *   lrtmem_intern.c   the interner and the shipped keyword sets
 *
 * Every rtmem object a script holds is a full userdata whose first user value
 * is the context userdata it belongs to, so a context lives as long as any of
 * its objects. A context can still be closed early (ctx:close(), or a
 * `<close>` variable): its objects then refuse every use with a clear error
 * instead of touching freed memory, and their finalizers do nothing.
 *
 * Errors: misuse (a wrong type, a field that does not exist, a value out of
 * range, a closed object) and failures (the limit, no memory) raise Lua
 * errors, "rtmem: <what>: <why>", which pcall catches; the context stays
 * usable after every one.
 */
#ifndef LRTMEM_H
#define LRTMEM_H

#include "lauxlib.h"
#include "lua.h"
#include "rtmem.h"

/* Metatable names (in the registry). */
#define LRTM_CONTEXT "rtmem.context"
#define LRTM_LAYOUT "rtmem.layout"
#define LRTM_BATCH "rtmem.batch"
#define LRTM_ARENA "rtmem.arena"
#define LRTM_RECORD "rtmem.record"
#define LRTM_MARK "rtmem.mark"
#define LRTM_BUFFER "rtmem.buffer"
#define LRTM_POOL "rtmem.pool"
#define LRTM_HANDLE "rtmem.handle"

/* ---- contexts ------------------------------------------------------------- */

/* A context as Lua holds it. User value 1: a table caching this context's
 * copies of layouts (weak keys: Layout userdata -> light userdata); 2: its
 * live record views by address (lrtmem_arena.c). */
typedef struct lrtm_ctx {
    rtm_ctx *ctx; /* NULL once closed */
    int owned;    /* made by rtmem.context: destroyed with its userdata. 0 for
                     rtmem.current(), the interpreter's own, never destroyed here */
} lrtm_ctx;

/* The context at index idx, open: raises an error otherwise. */
lrtm_ctx *lrtm_checkctx(lua_State *L, int idx);

/* Raises "rtmem: <what>: <status text>"; never returns. */
int lrtm_fail(lua_State *L, const char *what, rtm_status s);

/* Makes the metatable `name` with the metamethods and, as __index, the
 * methods. Leaves nothing on the stack. */
void lrtm_new_class(lua_State *L, const char *name, const luaL_Reg *meta, const luaL_Reg *methods);

/* ---- layouts ---------------------------------------------------------------- */

typedef struct lrtm_layout lrtm_layout;

/* One field as the binding converts it. */
typedef struct lrtm_field {
    const char *name;          /* the prototype layout's copy */
    rtm_kind kind;
    size_t count;              /* 1, or n for an array of n */
    size_t offset;             /* in the row */
    size_t elem_size;          /* one element */
    const lrtm_layout *sub;    /* a RTM_KIND_RECORD's layout, else NULL */
} lrtm_field;

/* A layout as Lua holds it: a description, usable with any context. Its
 * prototype (in the module's own context) gives size, alignment and
 * offsets; lrtm_layout_in makes the copy a given context needs. User value 1:
 * a table anchoring the nested Layout userdata. */
struct lrtm_layout {
    const rtm_layout *proto;
    size_t size, align;
    size_t nfields;
    lrtm_field fields[];
};

lrtm_layout *lrtm_checklayout(lua_State *L, int idx);

/* This context's rtm_layout for the Layout at layout_idx (made on first
 * use, cached on the context). Raises on failure. */
const rtm_layout *lrtm_layout_in(lua_State *L, int ctx_idx, int layout_idx);

/* The field called name, or NULL. */
const lrtm_field *lrtm_layout_field(const lrtm_layout *lay, const char *name, size_t len);

/* Where string bytes go when a STR field is written: returns a pointer
 * that stays valid as long as the row's owner (a batch anchors the Lua
 * string; an arena copies the bytes). NULL: raise (no memory). */
typedef const char *(*lrtm_str_store)(lua_State *L, void *ud, int idx, size_t len);

/* Pushes the value of field f (element i of an array field; a whole array or
 * record as a table when whole is set) of the row at `row`. */
void lrtm_push_field(lua_State *L, const lrtm_field *f, const unsigned char *row);

/* Writes the Lua value at idx into field f of the row: a value of the field's
 * kind (a table for an array or a record), or nil for zero. Raises on a wrong
 * type or a value out of range, before writing anything to the field. */
void lrtm_set_field(lua_State *L, int idx, const lrtm_field *f, unsigned char *row,
                    lrtm_str_store store, void *ud);

/* A whole row from the table at idx (missing keys are zero; an unknown key
 * raises), or into a new table. */
void lrtm_row_from_table(lua_State *L, int idx, const lrtm_layout *lay, unsigned char *row,
                         lrtm_str_store store, void *ud);
void lrtm_row_to_table(lua_State *L, const lrtm_layout *lay, const unsigned char *row);

/* The kind's name ("u16", ...). */
const char *lrtm_kind_name(rtm_kind k);

/* The address of the record view at idx (raising if it is freed), or NULL
 * when the value is not a view. */
void *lrtm_view_address(lua_State *L, int idx);

/* When the value at idx is a pool handle: its bits in *bits (raising if it
 * is stale) and 1; else 0. lrtm_handle_totable pushes a handle's fields as
 * a table and returns 1, or returns 0 for another value. */
int lrtm_handle_bits(lua_State *L, int idx, uint64_t *bits);
int lrtm_handle_totable(lua_State *L, int idx);

/* Register the classes; the module table is on top (they add their
 * functions to it: rtmem.layout, rtmem.totable, ...). */
void lrtm_open_layout(lua_State *L);
void lrtm_open_batch(lua_State *L);
void lrtm_open_arena(lua_State *L);
void lrtm_open_buffer(lua_State *L);
void lrtm_open_pool(lua_State *L);
void lrtm_open_intern(lua_State *L);

/* ctx:batch(Layout), ctx:arena(), ctx:buffer([align]), ctx:pool(Layout [, opts]) */
int lrtm_ctx_batch(lua_State *L);
int lrtm_ctx_arena(lua_State *L);
int lrtm_ctx_buffer(lua_State *L);
int lrtm_ctx_pool(lua_State *L);

/* ctx:intern(s), :intern_find(s), :symstr(sym), :is_keyword(sym), :add_keywords{} */
int lrtm_ctx_intern(lua_State *L);
int lrtm_ctx_intern_find(lua_State *L);
int lrtm_ctx_symstr(lua_State *L);
int lrtm_ctx_is_keyword(lua_State *L);
int lrtm_ctx_add_keywords(lua_State *L);

#endif /* LRTMEM_H */
