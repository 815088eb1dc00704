/*
 * rtmem_lua.h: the `rtmem` Lua module's C entry points, for a host that
 * builds the module in (as rtlua does) rather than loading it with require.
 */
#ifndef RTMEM_LUA_H
#define RTMEM_LUA_H

#include "lua.h"
#include "rtmem.h"

/* Opens the module: leaves its table on the stack (lua_CFunction). */
RTM_API int luaopen_rtmem(lua_State *L);

/* Registers luaopen_rtmem in package.preload, so `require "rtmem"` finds it
 * before any file. Call after luaL_openlibs. */
void rtmem_lua_preload(lua_State *L);

#endif /* RTMEM_LUA_H */
