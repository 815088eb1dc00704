# The single-threaded Check suites again under Valgrind's Memcheck, in the
# build as it is (no client requests): a user who runs an interpreter on
# rtmem under Memcheck must see no error of rtmem's making. It found that
# Memcheck does not follow a range moved onto a mapping (mremap with
# MREMAP_FIXED) past its old size, which batches and buffers hit as they grew.
# The slowest suites (buffer, arena and heap stress, kernels: 15-60 s each
# under Memcheck) are left to the sanitizer builds. Where valgrind is found.
find_program(RTM_VALGRIND_EXE valgrind)
if(RTM_VALGRIND_EXE AND NOT RTM_SANITIZE)
  foreach(suite test_ctx test_heap test_heap_life test_arena_faults test_layout test_pool
                test_pool_handle test_intern test_intern_keywords test_batch)
    if(TARGET ${suite})
      add_test(NAME memcheck_${suite}
               COMMAND ${RTM_VALGRIND_EXE} -q --error-exitcode=9 --leak-check=full
                       $<TARGET_FILE:${suite}>)
      set_tests_properties(memcheck_${suite} PROPERTIES LABELS memcheck
        ENVIRONMENT "CK_FORK=no;RTM_TEST_PROFILE=small")
    endif()
  endforeach()
endif()
