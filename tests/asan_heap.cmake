# A use after free of a freed heap block (and a write past a block's size)
# must be reported by ASan exactly as one through malloc would be: rtmem
# poisons its free memory through track.h. Only in the ASan build; under
# Valgrind when the client requests are compiled in (RTM_VALGRIND=ON).
set(RTM_HEAP_UAF_MODES small large tail shrunk)
if(RTM_SANITIZE STREQUAL "address" OR RTM_VALGRIND)
  add_executable(asan_heap_uaf ${CMAKE_CURRENT_LIST_DIR}/asan_heap_uaf.c)
  target_compile_options(asan_heap_uaf PRIVATE ${RTM_WARNINGS})
  target_link_libraries(asan_heap_uaf PRIVATE rtmem_static)
endif()
if(RTM_SANITIZE STREQUAL "address")
  foreach(mode ${RTM_HEAP_UAF_MODES})
    add_test(NAME asan_heap_uaf_${mode} COMMAND asan_heap_uaf ${mode})
    set_tests_properties(asan_heap_uaf_${mode} PROPERTIES
      PASS_REGULAR_EXPRESSION "heap-use-after-free|use-after-poison"
      FAIL_REGULAR_EXPRESSION "no report")
  endforeach()
elseif(RTM_VALGRIND)
  find_program(RTM_VALGRIND_EXE valgrind)
  if(RTM_VALGRIND_EXE)
    foreach(mode small large)
      add_test(NAME valgrind_heap_uaf_${mode}
               COMMAND ${RTM_VALGRIND_EXE} --error-exitcode=1 $<TARGET_FILE:asan_heap_uaf> ${mode})
      set_tests_properties(valgrind_heap_uaf_${mode} PROPERTIES
        PASS_REGULAR_EXPRESSION "Invalid write of size 1")
    endforeach()
  endif()
endif()
