# bench_batch: batch column kernels against an AoS loop, the scalar path and
# GCC's auto-vectorized loops; bulk transposes against per-row copies. The
# rival loops are compiled on their own with -march=native.
add_executable(bench_batch ${CMAKE_CURRENT_SOURCE_DIR}/bench_batch.c
  ${CMAKE_CURRENT_SOURCE_DIR}/batch_autovec.c ${CMAKE_CURRENT_SOURCE_DIR}/batch_autovec_fast.c)
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/batch_autovec.c
  PROPERTIES COMPILE_OPTIONS "-O3;-march=native")
set_source_files_properties(${CMAKE_CURRENT_SOURCE_DIR}/batch_autovec_fast.c
  PROPERTIES COMPILE_OPTIONS "-O3;-march=native;-ffast-math")
target_compile_options(bench_batch PRIVATE ${RTM_WARNINGS})
target_include_directories(bench_batch PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(bench_batch PRIVATE rtmem_static m)
