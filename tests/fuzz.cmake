# Fuzz targets (clang's libFuzzer), in the ASan + UBSan build: each checks
# rtmem against an oracle of its own on inputs the fuzzer makes. ctest runs
# a fixed number of inputs from a fixed seed, so a run is repeatable; for a
# longer search, run a binary by hand (build-asan/tests/fuzz_heap DIR).
# The library is compiled once more for them with coverage counters, so the
# fuzzer keeps the inputs that reach new code in rtmem, not only in the target.
if(RTM_SANITIZE STREQUAL "address" AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_library(rtmem_fuzz STATIC ${RTM_SOURCES})
  target_include_directories(rtmem_fuzz
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${PROJECT_SOURCE_DIR}/runtime/mem ${PROJECT_BINARY_DIR}/generated)
  target_compile_options(rtmem_fuzz PRIVATE ${RTM_WARNINGS} -fsanitize=fuzzer-no-link)
  target_compile_definitions(rtmem_fuzz PRIVATE RTM_SHARED_BUILD $<$<CONFIG:Debug>:RTM_DEBUG>)
  target_link_libraries(rtmem_fuzz PUBLIC PkgConfig::FFI Threads::Threads)

  # target:longest input:inputs run (a layout list reads at most ~400 bytes;
  # an interner under its limit needs a few hundred strings to reach it; a
  # heap input of 600 bytes is 200 steps). About 5-15 s each.
  foreach(spec fuzz_layout:400:10000 fuzz_intern:4000:10000 fuzz_heap:600:3000)
    string(REPLACE ":" ";" spec ${spec})
    list(GET spec 0 target)
    list(GET spec 1 max_len)
    list(GET spec 2 runs)
    add_executable(${target} ${CMAKE_CURRENT_LIST_DIR}/fuzz/${target}.c)
    target_compile_options(${target} PRIVATE ${RTM_WARNINGS} -fsanitize=fuzzer)
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${target} PRIVATE rtmem_fuzz)
    add_test(NAME ${target}
             COMMAND ${target} -runs=${runs} -seed=1 -max_len=${max_len} -len_control=0)
    set_tests_properties(${target} PROPERTIES LABELS fuzz TIMEOUT 600
      PASS_REGULAR_EXPRESSION "Done ${runs} runs")
  endforeach()
endif()
