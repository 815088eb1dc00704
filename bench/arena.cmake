# bench_arena: arenas against malloc, mimalloc heaps, obstack, talloc pools,
# APR pools and a trivial bump pointer. Links the static library. mimalloc is
# dlopen'ed at run time (its shared library would otherwise replace malloc for
# every other peer); talloc and APR are optional rows.
add_executable(bench_arena ${CMAKE_CURRENT_LIST_DIR}/bench_arena.c)
target_compile_options(bench_arena PRIVATE ${RTM_WARNINGS})
target_include_directories(bench_arena PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(bench_arena PRIVATE rtmem_static ${CMAKE_DL_LIBS})
pkg_check_modules(BENCH_TALLOC IMPORTED_TARGET talloc)
if(BENCH_TALLOC_FOUND)
  target_link_libraries(bench_arena PRIVATE PkgConfig::BENCH_TALLOC)
  target_compile_definitions(bench_arena PRIVATE HAVE_TALLOC)
endif()
pkg_check_modules(BENCH_APR IMPORTED_TARGET apr-1)
if(BENCH_APR_FOUND)
  # Only its headers and library: its flags define _GNU_SOURCE, as bench.h does.
  target_include_directories(bench_arena PRIVATE ${BENCH_APR_INCLUDE_DIRS})
  target_link_libraries(bench_arena PRIVATE ${BENCH_APR_LINK_LIBRARIES})
  target_compile_definitions(bench_arena PRIVATE HAVE_APR)
endif()
