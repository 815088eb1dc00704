# AddressSanitizer must report a use of memory an arena or a buffer has taken
# back: rewound arena space (also when made through a lease), reset arena
# space, a buffer's bytes past its length. Only in the RTM_SANITIZE=address build.
if(RTM_SANITIZE STREQUAL "address")
  add_executable(asan_arena ${CMAKE_CURRENT_LIST_DIR}/asan_arena.c)
  target_compile_options(asan_arena PRIVATE ${RTM_WARNINGS})
  target_link_libraries(asan_arena PRIVATE rtmem_static)
  foreach(mode rewind reset lease buf)
    rtm_add_asan_report_test(asan_arena_${mode} "use-after-poison" asan_arena ${mode})
  endforeach()
endif()
