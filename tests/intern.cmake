# The interner's extra tests: the keyword suite reads tests/data, and the
# generated keyword files must match runtime/intern/keywords.txt.
if(TARGET test_intern_keywords)
  target_compile_definitions(test_intern_keywords PRIVATE
    RTM_TEST_DATA_DIR="${CMAKE_CURRENT_SOURCE_DIR}/data")
endif()

add_test(NAME intern_keywords_generated
  COMMAND ${CMAKE_COMMAND} -DCHECK=ON -DOUT_DIR=${CMAKE_CURRENT_BINARY_DIR}/keywords_generated
          -P ${PROJECT_SOURCE_DIR}/runtime/intern/gen_keywords.cmake)
