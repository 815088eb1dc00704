# The Lua binding's tests, label `lua`:
#  - lua_compat_*: the same command lines under the stock lua5.4 and under
#    rtlua, stdout, stderr and exit status compared byte for byte
#    (tests/lua/compat.sh); again with the context in debug mode.
#  - lua_test_<x>_{rtlua,stock}: the rtmem module's test scripts
#    (tests/lua/module), under rtlua and under lua5.4 with rtmem.so.
#  - lua_module_install: rtmem.so installed, then required by lua5.4.
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

  # The module's test scripts, each under rtlua (rtmem built in, on the
  # interpreter's own context too) and under the stock lua5.4 loading
  # rtmem.so from the build tree. A sanitized rtmem.so cannot load into the
  # uninstrumented lua5.4, so the sanitizer builds run the rtlua half.
  file(GLOB RTM_LUA_MODULE_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/lua/module/test_*.lua)
  foreach(script ${RTM_LUA_MODULE_TESTS})
    get_filename_component(name ${script} NAME_WE)
    add_test(NAME lua_${name}_rtlua COMMAND $<TARGET_FILE:rtlua> ${script})
    set_tests_properties(lua_${name}_rtlua PROPERTIES LABELS lua TIMEOUT 300
      ENVIRONMENT "RTM_CTX_DEBUG=1;${RTM_TEST_ENV}")
    # and under Memcheck (as in valgrind.cmake), but for the churn test (20 s there)
    find_program(RTM_VALGRIND_EXE valgrind)
    if(RTM_VALGRIND_EXE AND NOT RTM_SANITIZE AND NOT name STREQUAL "test_churn")
      add_test(NAME memcheck_lua_${name}
               COMMAND ${RTM_VALGRIND_EXE} -q --error-exitcode=9 $<TARGET_FILE:rtlua> ${script})
      set_tests_properties(memcheck_lua_${name} PROPERTIES LABELS "lua;memcheck" TIMEOUT 300)
    endif()
    if(RTM_LUA_STOCK AND NOT RTM_SANITIZE)
      add_test(NAME lua_${name}_stock COMMAND ${RTM_LUA_STOCK} ${script})
      set_tests_properties(lua_${name}_stock PROPERTIES LABELS lua TIMEOUT 300
        ENVIRONMENT "LUA_CPATH=$<TARGET_FILE_DIR:rtmem_lua>/?.so;${RTM_TEST_ENV}")
    endif()
  endforeach()
  if(RTM_LUA_STOCK AND NOT RTM_SANITIZE)
    add_test(NAME lua_module_install
      COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/lua/install_check.sh ${PROJECT_BINARY_DIR} ${RTM_LUA_STOCK})
    set_tests_properties(lua_module_install PROPERTIES LABELS lua TIMEOUT 300)
  endif()

  # The main job's demo, under rtlua and under lua5.4 with rtmem.so.
  add_test(NAME lua_demo_rtlua COMMAND $<TARGET_FILE:rtlua> ${PROJECT_SOURCE_DIR}/examples/lua_demo.lua)
  set_tests_properties(lua_demo_rtlua PROPERTIES LABELS lua TIMEOUT 300
    ENVIRONMENT "RTM_CTX_DEBUG=1;${RTM_TEST_ENV}"
    PASS_REGULAR_EXPRESSION "block tree: [0-9]+ blocks.*context stats:.*the interpreter's own context")
  if(RTM_LUA_STOCK AND NOT RTM_SANITIZE)
    add_test(NAME lua_demo_stock COMMAND ${RTM_LUA_STOCK} ${PROJECT_SOURCE_DIR}/examples/lua_demo.lua
      ${PROJECT_SOURCE_DIR}/tests/lua/module/test_batch.lua)
    set_tests_properties(lua_demo_stock PROPERTIES LABELS lua TIMEOUT 300
      ENVIRONMENT "LUA_CPATH=$<TARGET_FILE_DIR:rtmem_lua>/?.so;${RTM_TEST_ENV}"
      PASS_REGULAR_EXPRESSION "block tree: [0-9]+ blocks.*context stats:")
  endif()

  add_executable(test_rtlua_host ${CMAKE_CURRENT_SOURCE_DIR}/lua/test_rtlua_host.c)
  target_compile_options(test_rtlua_host PRIVATE ${RTM_WARNINGS})
  target_link_libraries(test_rtlua_host PRIVATE PkgConfig::RTM_LUA_CHECK)
  add_test(NAME lua_rtlua_host COMMAND test_rtlua_host $<TARGET_FILE:rtlua>)
  set_tests_properties(lua_rtlua_host PROPERTIES LABELS lua TIMEOUT 600
    ENVIRONMENT "CK_FORK=no;${RTM_TEST_ENV}")
endif()
