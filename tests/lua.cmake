# The Lua binding's tests, label `lua`:
#  - lua_compat_*: the same command lines under the stock lua5.4 and under
#    rtlua, stdout, stderr and exit status compared byte for byte
#    (tests/lua/compat.sh); again with the context in debug mode.
#  - lua_rtlua_host: rtlua's own behaviour: the limit, stats, heap choice.
if(RTM_BUILD_LUA)
  find_program(RTM_LUA_STOCK NAMES lua5.4)
  pkg_check_modules(RTM_LUA_CHECK REQUIRED IMPORTED_TARGET check)

  # Debian's lua5.4 reads -i lines with readline, which echoes them when
  # stdin is not a terminal; rtlua does the same only when built with it.
  pkg_check_modules(RTM_LUA_READLINE QUIET readline)
  if(RTM_LUA_READLINE_FOUND)
    set(rl 1)
  else()
    set(rl 0)
  endif()
  if(RTM_LUA_STOCK)
    foreach(group scripts cli)
      add_test(NAME lua_compat_${group}
        COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/lua/compat.sh ${RTM_LUA_STOCK} $<TARGET_FILE:rtlua> ${group})
      add_test(NAME lua_compat_${group}_debug
        COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/lua/compat.sh ${RTM_LUA_STOCK} $<TARGET_FILE:rtlua> ${group})
      set_tests_properties(lua_compat_${group} PROPERTIES LABELS lua TIMEOUT 300
        ENVIRONMENT "RTLUA_READLINE=${rl};${RTM_TEST_ENV}")
      set_tests_properties(lua_compat_${group}_debug PROPERTIES LABELS lua TIMEOUT 300
        ENVIRONMENT "RTLUA_READLINE=${rl};RTM_CTX_DEBUG=1;${RTM_TEST_ENV}")
    endforeach()
    # under a limit (high enough for every script): nothing changes
    add_test(NAME lua_compat_scripts_limit
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/lua/compat.sh ${RTM_LUA_STOCK} "$<TARGET_FILE:rtlua> --limit=256M" scripts)
    set_tests_properties(lua_compat_scripts_limit PROPERTIES LABELS lua TIMEOUT 300
      ENVIRONMENT "RTLUA_READLINE=${rl};${RTM_TEST_ENV}")
  else()
    message(STATUS "lua5.4 not found: the rtlua compatibility tests are not registered")
  endif()

  add_executable(test_rtlua_host ${CMAKE_CURRENT_SOURCE_DIR}/lua/test_rtlua_host.c)
  target_compile_options(test_rtlua_host PRIVATE ${RTM_WARNINGS})
  target_link_libraries(test_rtlua_host PRIVATE PkgConfig::RTM_LUA_CHECK)
  add_test(NAME lua_rtlua_host COMMAND test_rtlua_host $<TARGET_FILE:rtlua>)
  set_tests_properties(lua_rtlua_host PROPERTIES LABELS lua TIMEOUT 600
    ENVIRONMENT "CK_FORK=no;${RTM_TEST_ENV}")
endif()
