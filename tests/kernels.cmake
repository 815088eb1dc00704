# The kernel suite's "env" case once per dispatch path, with RTM_SIMD set:
# it checks that the variable chooses the path (or the best the CPU has).
if(TARGET test_kernels)
  foreach(path scalar sse2 avx2 avx512)
    add_test(NAME test_kernels_env_${path} COMMAND test_kernels)
    set_tests_properties(test_kernels_env_${path} PROPERTIES
      ENVIRONMENT "CK_FORK=no;CK_RUN_CASE=env;RTM_SIMD=${path};${RTM_TEST_ENV}" TIMEOUT 60)
  endforeach()
endif()
