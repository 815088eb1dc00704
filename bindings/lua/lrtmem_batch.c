/*
 * lrtmem_batch.c: batches, rows of a layout stored as columns, and their
 * column kernels.
 *
 *   local b <close> = ctx:batch(Token)
 *   b:push{kind = 3, line = 12, len = 5}       --> 1 (the row's number)
 *   b:get(1)                                    --> {kind = 3, line = 12, len = 5}
 *   #b, b:sum("len"), b:min("line"), b:max("line"), b:mean("len")
 *   b:select("len", ">", 3)                     --> {rows whose len > 3}
 *   b:count("len", ">", 3), b:column("line")    --> a Lua array of the column
 *
 * Rows are numbered from 1, as Lua arrays are. Columns are named as
 * rtm_batch names them ("x", "pos.y", "a[2]"). The kernels are rtmem's
 * vectorized ones for i32, i64, f32 and f64 columns; the other numeric kinds
 * (i8, i16, u8, u16, u32, u64, sym) take a plain loop with the same results.
 * String fields: a batch keeps the Lua strings it was given alive (it stores
 * slices, not copies).
 */
#include "lrtmem.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

typedef struct lrtm_batch {
    rtm_batch *b;           /* NULL once closed */
    lrtm_ctx *owner;        /* its context (user value 1 keeps it alive) */
    const lrtm_layout *lay; /* user value 2 keeps it alive */
} lrtm_batch;

enum { UV_CTX = 1, UV_LAYOUT, UV_STRINGS };

static lrtm_batch *checkbatch(lua_State *L, int idx)
{
    lrtm_batch *bt = (lrtm_batch *)luaL_checkudata(L, idx, LRTM_BATCH);
    if (bt->owner->ctx == NULL) luaL_error(L, "rtmem: the batch's context was closed");
    if (bt->b == NULL) luaL_error(L, "rtmem: the batch was closed");
    return bt;
}

/* String slices point into Lua strings the batch keeps (user value 3). */
static const char *anchor_string(lua_State *L, void *ud, int idx, size_t len)
{
    (void)len;
    int bidx = *(int *)ud;
    lua_getiuservalue(L, bidx, UV_STRINGS);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    return lua_tostring(L, idx);
}

/* A zeroed scratch row, on the stack as a userdata. */
static unsigned char *scratch_row(lua_State *L, const lrtm_layout *lay)
{
    unsigned char *row = (unsigned char *)lua_newuserdatauv(L, lay->size, 0);
    memset(row, 0, lay->size);
    return row;
}

static size_t check_row_index(lua_State *L, int idx, const lrtm_batch *bt)
{
    lua_Integer i = luaL_checkinteger(L, idx);
    size_t n = rtm_batch_len(bt->b);
    if (i < 1 || (lua_Unsigned)i > n)
        luaL_error(L, "rtmem: row %d is out of range (the batch has %d)", (int)i, (int)n);
    return (size_t)(i - 1);
}

/* ctx:batch(Layout) */
int lrtm_ctx_batch(lua_State *L)
{
    lrtm_ctx *c = lrtm_checkctx(L, 1);
    lrtm_layout *lay = lrtm_checklayout(L, 2);
    const rtm_layout *l = lrtm_layout_in(L, 1, 2);
    lrtm_batch *bt = (lrtm_batch *)lua_newuserdatauv(L, sizeof *bt, 3);
    bt->b = NULL;
    bt->owner = c;
    bt->lay = lay;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, UV_CTX);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, UV_LAYOUT);
    lua_newtable(L);
    lua_setiuservalue(L, -2, UV_STRINGS);
    luaL_setmetatable(L, LRTM_BATCH);
    bt->b = rtm_batch_new(c->ctx, l);
    if (bt->b == NULL) return lrtm_fail(L, "batch", rtm_ctx_error(c->ctx));
    return 1;
}

/* b:push(row) --> the row's number */
static int batch_push(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    unsigned char *row = scratch_row(L, bt->lay);
    int bidx = 1;
    lrtm_row_from_table(L, 2, bt->lay, row, anchor_string, &bidx);
    rtm_status s = rtm_batch_push(bt->b, row);
    if (s != RTM_OK) return lrtm_fail(L, "push", s);
    lua_pushinteger(L, (lua_Integer)rtm_batch_len(bt->b));
    return 1;
}

/* b:get(i) --> the row as a table */
static int batch_get(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    size_t i = check_row_index(L, 2, bt);
    unsigned char *row = scratch_row(L, bt->lay);
    rtm_status s = rtm_batch_get(bt->b, i, row);
    if (s != RTM_OK) return lrtm_fail(L, "get", s);
    lrtm_row_to_table(L, bt->lay, row);
    return 1;
}

/* b:set(i, row): replaces row i (missing fields become zero). */
static int batch_set(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    size_t i = check_row_index(L, 2, bt);
    luaL_checktype(L, 3, LUA_TTABLE);
    unsigned char *row = scratch_row(L, bt->lay);
    int bidx = 1;
    lrtm_row_from_table(L, 3, bt->lay, row, anchor_string, &bidx);
    rtm_status s = rtm_batch_set(bt->b, i, row);
    if (s != RTM_OK) return lrtm_fail(L, "set", s);
    return 0;
}

static int batch_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)rtm_batch_len(checkbatch(L, 1)->b));
    return 1;
}

static int batch_cap(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)rtm_batch_cap(checkbatch(L, 1)->b));
    return 1;
}

static int batch_reserve(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);
    if (n < 0) return luaL_error(L, "rtmem: reserve: a negative row count");
    rtm_status s = rtm_batch_reserve(bt->b, (size_t)n);
    if (s != RTM_OK) return lrtm_fail(L, "reserve", s);
    return 0;
}

/* b:clear(): forgets the rows (and the strings kept for them). */
static int batch_clear(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    rtm_batch_clear(bt->b);
    lua_newtable(L);
    lua_setiuservalue(L, 1, UV_STRINGS);
    return 0;
}

/* b:columns() --> {"kind", "line", "pos.x", ...} */
static int batch_columns(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    size_t n = rtm_batch_columns(bt->b);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        rtm_column_info info;
        rtm_batch_column_info(bt->b, i, &info);
        lua_pushstring(L, info.name);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* ---- columns ---------------------------------------------------------------- */

typedef struct column {
    const void *data;
    size_t n;
    rtm_kind kind;
    size_t width;
    const char *name;
} column;

static column check_column(lua_State *L, lrtm_batch *bt, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    /* looked up here rather than with rtm_batch_column_index, which records
     * a miss as a failure on the context: here it is the script's mistake */
    size_t ncols = rtm_batch_columns(bt->b), i;
    rtm_column_info info;
    for (i = 0; i < ncols; i++) {
        rtm_batch_column_info(bt->b, i, &info);
        if (strcmp(info.name, name) == 0) break;
    }
    if (i == ncols) luaL_error(L, "rtmem: the batch has no column '%s'", name);
    column c;
    c.data = rtm_batch_column(bt->b, i);
    c.n = rtm_batch_len(bt->b);
    c.kind = info.kind;
    c.width = info.width;
    c.name = info.name;
    return c;
}

static int is_signed_small(rtm_kind k) { return k == RTM_KIND_I8 || k == RTM_KIND_I16; }
static int is_unsigned_small(rtm_kind k)
{
    return k == RTM_KIND_U8 || k == RTM_KIND_U16 || k == RTM_KIND_U32 || k == RTM_KIND_SYM;
}

static int64_t load_int(const column *c, size_t i)
{
    const unsigned char *p = (const unsigned char *)c->data + i * c->width;
    switch (c->kind) {
    case RTM_KIND_I8: { int8_t x; memcpy(&x, p, 1); return x; }
    case RTM_KIND_I16: { int16_t x; memcpy(&x, p, 2); return x; }
    case RTM_KIND_U8: { uint8_t x; memcpy(&x, p, 1); return x; }
    case RTM_KIND_U16: { uint16_t x; memcpy(&x, p, 2); return x; }
    default: { uint32_t x; memcpy(&x, p, 4); return x; } /* u32, sym */
    }
}

static uint64_t load_u64(const column *c, size_t i)
{
    uint64_t x;
    memcpy(&x, (const unsigned char *)c->data + i * 8, 8);
    return x;
}

static int numeric_error(lua_State *L, const column *c, const char *what)
{
    return luaL_error(L, "rtmem: %s: column '%s' holds %s values, not numbers", what, c->name,
                      lrtm_kind_name(c->kind));
}

static int kernel_fail(lua_State *L, const char *what, rtm_status s)
{
    if (s == RTM_ELIMIT) return luaL_error(L, "rtmem: %s: the sum does not fit a 64-bit integer", what);
    return lrtm_fail(L, what, s);
}

/* b:sum(name): an integer for integer columns (exact; an error if it does
 * not fit 64 bits), a float for f32 and f64 ones. */
static int batch_sum(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    column c = check_column(L, bt, 2);
    rtm_status s = RTM_OK;
    int64_t si = 0;
    double sd = 0;
    switch (c.kind) {
    case RTM_KIND_I32: s = rtm_col_sum_i32((const int32_t *)c.data, c.n, &si); break;
    case RTM_KIND_I64: s = rtm_col_sum_i64((const int64_t *)c.data, c.n, &si); break;
    case RTM_KIND_F32: s = rtm_col_sum_f32((const float *)c.data, c.n, &sd); break;
    case RTM_KIND_F64: s = rtm_col_sum_f64((const double *)c.data, c.n, &sd); break;
    case RTM_KIND_U64: {
        uint64_t u = 0;
        for (size_t i = 0; i < c.n; i++)
            if (__builtin_add_overflow(u, load_u64(&c, i), &u) || u > (uint64_t)INT64_MAX)
                return kernel_fail(L, "sum", RTM_ELIMIT);
        si = (int64_t)u;
        break;
    }
    default:
        if (!is_signed_small(c.kind) && !is_unsigned_small(c.kind)) return numeric_error(L, &c, "sum");
        for (size_t i = 0; i < c.n; i++)
            if (__builtin_add_overflow(si, load_int(&c, i), &si)) return kernel_fail(L, "sum", RTM_ELIMIT);
    }
    if (s != RTM_OK) return kernel_fail(L, "sum", s);
    if (c.kind == RTM_KIND_F32 || c.kind == RTM_KIND_F64) lua_pushnumber(L, sd);
    else lua_pushinteger(L, si);
    return 1;
}

/* b:mean(name): a float; nil for an empty batch. */
static int batch_mean(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    column c = check_column(L, bt, 2);
    if (c.n == 0) {
        lua_pushnil(L);
        return 1;
    }
    double m = 0;
    rtm_status s = RTM_OK;
    switch (c.kind) {
    case RTM_KIND_I32: s = rtm_col_mean_i32((const int32_t *)c.data, c.n, &m); break;
    case RTM_KIND_I64: s = rtm_col_mean_i64((const int64_t *)c.data, c.n, &m); break;
    case RTM_KIND_F32: s = rtm_col_mean_f32((const float *)c.data, c.n, &m); break;
    case RTM_KIND_F64: s = rtm_col_mean_f64((const double *)c.data, c.n, &m); break;
    case RTM_KIND_U64: {
        long double sum = 0;
        for (size_t i = 0; i < c.n; i++) sum += (long double)load_u64(&c, i);
        m = (double)(sum / (long double)c.n);
        break;
    }
    default: {
        if (!is_signed_small(c.kind) && !is_unsigned_small(c.kind)) return numeric_error(L, &c, "mean");
        long double sum = 0; /* exact: 64-bit mantissa, values under 2^32 */
        for (size_t i = 0; i < c.n; i++) sum += (long double)load_int(&c, i);
        m = (double)(sum / (long double)c.n);
    }
    }
    if (s != RTM_OK) return lrtm_fail(L, "mean", s);
    lua_pushnumber(L, m);
    return 1;
}

/* b:min(name), b:max(name): nil for an empty batch. */
static int min_or_max(lua_State *L, int want_max)
{
    lrtm_batch *bt = checkbatch(L, 1);
    column c = check_column(L, bt, 2);
    const char *what = want_max ? "max" : "min";
    if (c.n == 0) {
        lua_pushnil(L);
        return 1;
    }
    rtm_status s = RTM_OK;
    switch (c.kind) {
    case RTM_KIND_I32: {
        int32_t v;
        s = want_max ? rtm_col_max_i32((const int32_t *)c.data, c.n, &v)
                     : rtm_col_min_i32((const int32_t *)c.data, c.n, &v);
        lua_pushinteger(L, v);
        break;
    }
    case RTM_KIND_I64: {
        int64_t v;
        s = want_max ? rtm_col_max_i64((const int64_t *)c.data, c.n, &v)
                     : rtm_col_min_i64((const int64_t *)c.data, c.n, &v);
        lua_pushinteger(L, v);
        break;
    }
    case RTM_KIND_F32: {
        float v;
        s = want_max ? rtm_col_max_f32((const float *)c.data, c.n, &v)
                     : rtm_col_min_f32((const float *)c.data, c.n, &v);
        lua_pushnumber(L, (lua_Number)v);
        break;
    }
    case RTM_KIND_F64: {
        double v;
        s = want_max ? rtm_col_max_f64((const double *)c.data, c.n, &v)
                     : rtm_col_min_f64((const double *)c.data, c.n, &v);
        lua_pushnumber(L, v);
        break;
    }
    case RTM_KIND_U64: {
        uint64_t v = load_u64(&c, 0);
        for (size_t i = 1; i < c.n; i++) {
            uint64_t x = load_u64(&c, i);
            if (want_max ? x > v : x < v) v = x;
        }
        lua_pushinteger(L, (lua_Integer)v);
        break;
    }
    default: {
        if (!is_signed_small(c.kind) && !is_unsigned_small(c.kind)) return numeric_error(L, &c, what);
        int64_t v = load_int(&c, 0);
        for (size_t i = 1; i < c.n; i++) {
            int64_t x = load_int(&c, i);
            if (want_max ? x > v : x < v) v = x;
        }
        lua_pushinteger(L, v);
    }
    }
    if (s != RTM_OK) return lrtm_fail(L, what, s);
    return 1;
}

static int batch_min(lua_State *L) { return min_or_max(L, 0); }
static int batch_max(lua_State *L) { return min_or_max(L, 1); }

/* ---- selections ---------------------------------------------------------------- */

static rtm_cmp check_op(lua_State *L, int idx)
{
    static const char *const ops[] = {"<", "<=", "==", "~=", ">=", ">", "!=", NULL};
    static const rtm_cmp codes[] = {RTM_CMP_LT, RTM_CMP_LE, RTM_CMP_EQ, RTM_CMP_NE,
                                    RTM_CMP_GE, RTM_CMP_GT, RTM_CMP_NE};
    return codes[luaL_checkoption(L, idx, NULL, ops)];
}

static int cmp_ld(long double x, rtm_cmp op, long double v)
{
    switch (op) {
    case RTM_CMP_LT: return x < v;
    case RTM_CMP_LE: return x <= v;
    case RTM_CMP_EQ: return x == v;
    case RTM_CMP_NE: return x != v;
    case RTM_CMP_GE: return x >= v;
    default: return x > v;
    }
}

/* The bitmap of rows whose column compares true with the value at vidx, as
 * Lua would compare the two numbers; left on the stack as a userdata. */
static const uint64_t *select_bits(lua_State *L, lrtm_batch *bt, const column *c, rtm_cmp op, int vidx)
{
    if (lua_type(L, vidx) != LUA_TNUMBER)
        luaL_error(L, "rtmem: select: expected a number to compare with, got %s", luaL_typename(L, vidx));
    if (c->n > UINT32_MAX) luaL_error(L, "rtmem: select: more than 2^32 rows");
    uint64_t *bits = (uint64_t *)lua_newuserdatauv(L, sizeof(uint64_t) * RTM_SEL_WORDS(c->n) + 8, 0);
    int isint = lua_isinteger(L, vidx);
    lua_Integer vi = lua_tointeger(L, vidx);
    lua_Number vd = lua_tonumber(L, vidx);
    rtm_status s = RTM_EINVAL;
    int done = 1;
    switch (c->kind) { /* the kernels, when the value is exact in the column's type */
    case RTM_KIND_I32:
        if (isint && vi >= INT32_MIN && vi <= INT32_MAX)
            s = rtm_col_cmp_i32((const int32_t *)c->data, c->n, op, (int32_t)vi, bits);
        else done = 0;
        break;
    case RTM_KIND_I64:
        if (isint) s = rtm_col_cmp_i64((const int64_t *)c->data, c->n, op, (int64_t)vi, bits);
        else done = 0;
        break;
    case RTM_KIND_F32:
        if (!isint && (double)(float)vd == vd) s = rtm_col_cmp_f32((const float *)c->data, c->n, op, (float)vd, bits);
        else done = 0;
        break;
    case RTM_KIND_F64:
        if (!isint || (vi >= -(1LL << 53) && vi <= (1LL << 53)))
            s = rtm_col_cmp_f64((const double *)c->data, c->n, op, isint ? (double)vi : vd, bits);
        else done = 0;
        break;
    default:
        if (!is_signed_small(c->kind) && !is_unsigned_small(c->kind) && c->kind != RTM_KIND_U64)
            numeric_error(L, c, "select");
        done = 0;
    }
    if (done) {
        if (s != RTM_OK) lrtm_fail(L, "select", s);
        return bits;
    }
    /* the plain loop: long double holds every int64 and double exactly */
    long double v = isint ? (long double)vi : (long double)vd;
    memset(bits, 0, sizeof(uint64_t) * RTM_SEL_WORDS(c->n));
    for (size_t i = 0; i < c->n; i++) {
        long double x;
        const unsigned char *p = (const unsigned char *)c->data + i * c->width;
        switch (c->kind) {
        case RTM_KIND_I32: { int32_t t; memcpy(&t, p, 4); x = t; break; }
        case RTM_KIND_I64: { int64_t t; memcpy(&t, p, 8); x = (long double)t; break; }
        case RTM_KIND_F32: { float t; memcpy(&t, p, 4); x = t; break; }
        case RTM_KIND_F64: { double t; memcpy(&t, p, 8); x = t; break; }
        case RTM_KIND_U64: x = (long double)load_u64(c, i); break;
        default: x = (long double)load_int(c, i);
        }
        if (cmp_ld(x, op, v)) bits[i / 64] |= (uint64_t)1 << (i % 64);
    }
    (void)bt;
    return bits;
}

/* b:select(name, op, value) --> {row numbers, increasing} */
static int batch_select(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    column c = check_column(L, bt, 2);
    rtm_cmp op = check_op(L, 3);
    const uint64_t *bits = select_bits(L, bt, &c, op, 4);
    size_t k = rtm_sel_count(bits, c.n);
    uint32_t *idx = (uint32_t *)lua_newuserdatauv(L, sizeof(uint32_t) * (k + 1), 0);
    size_t got = rtm_sel_indices(bits, c.n, idx);
    lua_createtable(L, (int)got, 0);
    for (size_t i = 0; i < got; i++) {
        lua_pushinteger(L, (lua_Integer)idx[i] + 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* b:count(name, op, value) --> how many rows compare true */
static int batch_count(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    column c = check_column(L, bt, 2);
    rtm_cmp op = check_op(L, 3);
    const uint64_t *bits = select_bits(L, bt, &c, op, 4);
    lua_pushinteger(L, (lua_Integer)rtm_sel_count(bits, c.n));
    return 1;
}

/* b:column(name) --> a Lua array of the column's values */
static int batch_column(lua_State *L)
{
    lrtm_batch *bt = checkbatch(L, 1);
    column c = check_column(L, bt, 2);
    lrtm_field f; /* one element of the column's kind, for the converter */
    memset(&f, 0, sizeof f);
    f.name = c.name;
    f.kind = c.kind;
    f.count = 1;
    f.elem_size = c.width;
    lua_createtable(L, (int)c.n, 0);
    for (size_t i = 0; i < c.n; i++) {
        lrtm_push_field(L, &f, (const unsigned char *)c.data + i * c.width);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* ---- lifetime ------------------------------------------------------------------ */

/* b:close(): gives the batch's memory back now; it refuses every use after. */
static int batch_close(lua_State *L)
{
    lrtm_batch *bt = (lrtm_batch *)luaL_checkudata(L, 1, LRTM_BATCH);
    if (bt->b != NULL && bt->owner->ctx != NULL) rtm_batch_destroy(bt->b);
    bt->b = NULL;
    return 0;
}

static int batch_tostring(lua_State *L)
{
    lrtm_batch *bt = (lrtm_batch *)luaL_checkudata(L, 1, LRTM_BATCH);
    const char *name = rtm_layout_name(bt->lay->proto);
    if (bt->b == NULL || bt->owner->ctx == NULL) lua_pushfstring(L, "rtmem.batch of %s (closed)", name);
    else lua_pushfstring(L, "rtmem.batch of %s (%d rows)", name, (int)rtm_batch_len(bt->b));
    return 1;
}

static const luaL_Reg batch_methods[] = {
    {"push", batch_push},     {"get", batch_get},       {"set", batch_set},
    {"len", batch_len},       {"cap", batch_cap},       {"reserve", batch_reserve},
    {"clear", batch_clear},   {"columns", batch_columns}, {"column", batch_column},
    {"sum", batch_sum},       {"mean", batch_mean},     {"min", batch_min},
    {"max", batch_max},       {"select", batch_select}, {"count", batch_count},
    {"close", batch_close},   {NULL, NULL}};

static const luaL_Reg batch_meta[] = {
    {"__len", batch_len},   {"__gc", batch_close}, {"__close", batch_close},
    {"__tostring", batch_tostring}, {NULL, NULL}};

void lrtm_open_batch(lua_State *L) { lrtm_new_class(L, LRTM_BATCH, batch_meta, batch_methods); }
