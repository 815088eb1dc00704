# AddressSanitizer must report a use of memory an arena or a buffer has taken
# back: rewound arena space (also when made through a lease), reset arena
# space, a buffer's bytes past its length. Only in the RTM_SANITIZE=address build.
if(RTM_SANITIZE STREQUAL "address")
  add_executable(asan_arena ${CMAKE_CURRENT_LIST_DIR}/asan_arena.c)
  target_compile_options(asan_arena PRIVATE ${RTM_WARNINGS})
  target_link_libraries(asan_arena PRIVATE rtmem_static)
  foreach(mode rewind reset lease buf)
    add_test(NAME asan_arena_${mode} COMMAND asan_arena ${mode})
    set_tests_properties(asan_arena_${mode} PROPERTIES
      PASS_REGULAR_EXPRESSION "use-after-poison")
  endforeach()
endif()
