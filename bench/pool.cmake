# bench_pool: rtmem pools against glibc malloc, mimalloc (loaded with dlopen at
# run time, so it replaces nobody's malloc) and a trivial free list.
add_executable(bench_pool ${CMAKE_CURRENT_LIST_DIR}/bench_pool.c)
target_compile_options(bench_pool PRIVATE ${RTM_WARNINGS})
target_link_libraries(bench_pool PRIVATE rtmem_static Threads::Threads ${CMAKE_DL_LIBS})
