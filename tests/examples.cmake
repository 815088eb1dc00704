# The examples a newcomer reads first must keep working: run each one.
if(RTM_BUILD_EXAMPLES)
  add_test(NAME example_hello COMMAND hello)
  set_tests_properties(example_hello PROPERTIES
    PASS_REGULAR_EXPRESSION "\\(1 \\+ 2\\) \\* \\(3 \\+ 4\\) = 21.*\"heap_allocs\": 4")
endif()
