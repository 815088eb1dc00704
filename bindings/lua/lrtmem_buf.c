/*
 * lrtmem_buf.c: aligned buffers, as byte strings in and out.
 *
 *   local buf <close> = ctx:buffer(64)     -- data aligned to 64 (default 32)
 *   buf:append("abc", "def")  #buf  buf:bytes()  buf:bytes(2, 4)
 *   buf:write(3, "XY")  buf:resize(100)  buf:reserve(1 << 20)  buf:clear()
 *   buf:cap()  buf:align()  buf:address()   -- the data's address, an integer
 *
 * Positions are 1-based and inclusive, as string.sub's (negative ones count
 * from the end). Growing with resize zero-fills.
 */
#include "lrtmem.h"

#include <stdint.h>
#include <string.h>

typedef struct lrtm_buf {
    rtm_buf *b; /* NULL once closed */
    lrtm_ctx *owner;
} lrtm_buf;

static lrtm_buf *checkbuf(lua_State *L, int idx)
{
    lrtm_buf *bf = (lrtm_buf *)luaL_checkudata(L, idx, LRTM_BUFFER);
    if (bf->owner->ctx == NULL) luaL_error(L, "rtmem: the buffer's context was closed");
    if (bf->b == NULL) luaL_error(L, "rtmem: the buffer was closed");
    return bf;
}

static size_t check_size(lua_State *L, int idx, const char *what)
{
    lua_Integer n = luaL_checkinteger(L, idx);
    if (n < 0) luaL_error(L, "rtmem: %s: a negative size", what);
    return (size_t)n;
}

/* ctx:buffer([align]) */
int lrtm_ctx_buffer(lua_State *L)
{
    lrtm_ctx *c = lrtm_checkctx(L, 1);
    lua_Integer align = luaL_optinteger(L, 2, 0);
    if (align < 0) return luaL_error(L, "rtmem: buffer: a negative alignment");
    lrtm_buf *bf = (lrtm_buf *)lua_newuserdatauv(L, sizeof *bf, 1);
    bf->b = NULL;
    bf->owner = c;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    luaL_setmetatable(L, LRTM_BUFFER);
    bf->b = rtm_buf_new(c->ctx, (size_t)align);
    if (bf->b == NULL) {
        rtm_status s = rtm_ctx_error(c->ctx);
        if (s == RTM_EINVAL)
            return luaL_error(L, "rtmem: buffer: the alignment must be a power of two up to %d",
                              (int)RTM_BUF_MAX_ALIGN);
        return lrtm_fail(L, "buffer", s);
    }
    return 1;
}

/* buf:append(s, ...) --> the new length */
static int buf_append(lua_State *L)
{
    lrtm_buf *bf = checkbuf(L, 1);
    int n = lua_gettop(L);
    for (int i = 2; i <= n; i++) {
        size_t len;
        const char *s = luaL_checklstring(L, i, &len);
        rtm_status st = rtm_buf_append(bf->b, s, len);
        if (st != RTM_OK) return lrtm_fail(L, "append", st);
    }
    lua_pushinteger(L, (lua_Integer)rtm_buf_len(bf->b));
    return 1;
}

/* A string.sub-style range [i, j] of len bytes: *from and *n. */
static void range(lua_State *L, int ii, int jj, size_t len, size_t *from, size_t *n)
{
    lua_Integer i = luaL_optinteger(L, ii, 1), j = luaL_optinteger(L, jj, -1);
    lua_Integer l = (lua_Integer)len;
    if (i < 0) i = i < -l ? 1 : l + i + 1;
    else if (i == 0) i = 1;
    if (j < 0) j = l + j + 1;
    else if (j > l) j = l;
    *from = (size_t)(i - 1);
    *n = i <= j ? (size_t)(j - i + 1) : 0;
}

/* buf:bytes([i [, j]]) --> the bytes as a string */
static int buf_bytes(lua_State *L)
{
    lrtm_buf *bf = checkbuf(L, 1);
    size_t from, n;
    range(L, 2, 3, rtm_buf_len(bf->b), &from, &n);
    lua_pushlstring(L, n ? (const char *)rtm_buf_data(bf->b) + from : "", n);
    return 1;
}

/* buf:write(pos, s): overwrites bytes from pos (1-based) on, growing the
 * buffer when s reaches past its end; pos may be #buf + 1. */
static int buf_write(lua_State *L)
{
    lrtm_buf *bf = checkbuf(L, 1);
    lua_Integer pos = luaL_checkinteger(L, 2);
    size_t len;
    const char *s = luaL_checklstring(L, 3, &len);
    size_t cur = rtm_buf_len(bf->b);
    if (pos < 1 || (lua_Unsigned)pos > cur + 1)
        return luaL_error(L, "rtmem: write: position %d is out of 1..%d", (int)pos, (int)cur + 1);
    size_t at = (size_t)pos - 1;
    if (at + len > cur) {
        rtm_status st = rtm_buf_resize(bf->b, at + len);
        if (st != RTM_OK) return lrtm_fail(L, "write", st);
    }
    if (len) memcpy((char *)rtm_buf_data(bf->b) + at, s, len);
    return 0;
}

static int buf_resize(lua_State *L)
{
    lrtm_buf *bf = checkbuf(L, 1);
    rtm_status st = rtm_buf_resize(bf->b, check_size(L, 2, "resize"));
    if (st != RTM_OK) return lrtm_fail(L, "resize", st);
    return 0;
}

static int buf_reserve(lua_State *L)
{
    lrtm_buf *bf = checkbuf(L, 1);
    rtm_status st = rtm_buf_reserve(bf->b, check_size(L, 2, "reserve"));
    if (st != RTM_OK) return lrtm_fail(L, "reserve", st);
    return 0;
}

static int buf_clear(lua_State *L)
{
    rtm_buf_clear(checkbuf(L, 1)->b);
    return 0;
}

static int buf_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)rtm_buf_len(checkbuf(L, 1)->b));
    return 1;
}

static int buf_cap(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)rtm_buf_cap(checkbuf(L, 1)->b));
    return 1;
}

static int buf_align(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)rtm_buf_align(checkbuf(L, 1)->b));
    return 1;
}

/* buf:address() --> the data's address as an integer (0 while there is no
 * data), to see the alignment: buf:address() % buf:align() == 0 */
static int buf_address(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)(uintptr_t)rtm_buf_data(checkbuf(L, 1)->b));
    return 1;
}

static int buf_close(lua_State *L)
{
    lrtm_buf *bf = (lrtm_buf *)luaL_checkudata(L, 1, LRTM_BUFFER);
    if (bf->b != NULL && bf->owner->ctx != NULL) rtm_buf_destroy(bf->b);
    bf->b = NULL;
    return 0;
}

static int buf_tostring(lua_State *L)
{
    lrtm_buf *bf = (lrtm_buf *)luaL_checkudata(L, 1, LRTM_BUFFER);
    if (bf->b == NULL || bf->owner->ctx == NULL) lua_pushliteral(L, "rtmem.buffer (closed)");
    else lua_pushfstring(L, "rtmem.buffer (%d bytes)", (int)rtm_buf_len(bf->b));
    return 1;
}

static const luaL_Reg buf_methods[] = {
    {"append", buf_append}, {"bytes", buf_bytes},   {"write", buf_write},
    {"resize", buf_resize}, {"reserve", buf_reserve}, {"clear", buf_clear},
    {"len", buf_len},       {"cap", buf_cap},       {"align", buf_align},
    {"address", buf_address}, {"close", buf_close}, {NULL, NULL}};

static const luaL_Reg buf_meta[] = {
    {"__len", buf_len},     {"__gc", buf_close}, {"__close", buf_close},
    {"__tostring", buf_tostring}, {NULL, NULL}};

void lrtm_open_buffer(lua_State *L) { lrtm_new_class(L, LRTM_BUFFER, buf_meta, buf_methods); }
