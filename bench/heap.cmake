# bench_heap: the small-object heap against glibc, jemalloc, mimalloc and
# tcmalloc. The peers are loaded at run time (dlopen, or LD_PRELOAD in a
# child for jemalloc): Debian's libjemalloc2, libmimalloc2.0 and
# libtcmalloc-minimal4 (the -dev packages pull them in).
add_executable(bench_heap ${CMAKE_CURRENT_LIST_DIR}/bench_heap.c)
target_compile_options(bench_heap PRIVATE ${RTM_WARNINGS})
target_include_directories(bench_heap PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(bench_heap PRIVATE rtmem_static ${CMAKE_DL_LIBS})
