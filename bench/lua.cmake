# The interpreter benchmark: `cmake --build build-rel --target bench_lua`
# runs bench/lua/run.sh on this build's rtlua against the stock lua5.4 and
# rtlua on glibc, mimalloc and jemalloc (LD_PRELOAD). Needs lua5.4,
# valgrind and /usr/bin/time.
if(RTM_BUILD_LUA)
  add_custom_target(bench_lua
    COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/lua/run.sh $<TARGET_FILE:rtlua>
    WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
    USES_TERMINAL
    COMMENT "rtlua against lua5.4, glibc, mimalloc and jemalloc")
  add_dependencies(bench_lua rtlua)
endif()
