# A real Lua 5.4 on rtm_lua_alloc (liblua5.4-dev): the lua_Alloc contract as
# Lua itself exercises it, plain and with RTM_CTX_DEBUG, out of memory and back.
pkg_check_modules(LUA54 QUIET IMPORTED_TARGET lua5.4)
if(LUA54_FOUND)
  add_executable(heap_lua_run ${CMAKE_CURRENT_LIST_DIR}/heap_lua_run.c)
  target_compile_options(heap_lua_run PRIVATE ${RTM_WARNINGS})
  target_link_libraries(heap_lua_run PRIVATE rtmem_static PkgConfig::LUA54)
  add_test(NAME heap_lua_run COMMAND heap_lua_run)
else()
  message(STATUS "lua5.4 not found: heap_lua_run is not built")
endif()
