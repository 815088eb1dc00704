# The public header compiles cleanly, alone, as C99, C11, C++11 and C++17,
# with each of gcc and clang that is installed (sources in tests/header/).
set(_rtm_strict "-pedantic -Wall -Wextra -Werror")
find_program(RTM_NM nm REQUIRED)
foreach(family gcc clang)
  if(family STREQUAL "gcc")
    find_program(RTM_HEADER_C_gcc gcc)
    find_program(RTM_HEADER_CXX_gcc g++)
  else()
    find_program(RTM_HEADER_C_clang clang)
    find_program(RTM_HEADER_CXX_clang clang++)
  endif()
  foreach(std c99 c11 c++11 c++17)
    if(std MATCHES "^c\\+\\+")
      set(compiler ${RTM_HEADER_CXX_${family}})
      set(src ${CMAKE_CURRENT_SOURCE_DIR}/header/use.cpp)
    else()
      set(compiler ${RTM_HEADER_C_${family}})
      set(src ${CMAKE_CURRENT_SOURCE_DIR}/header/use.c)
    endif()
    string(REPLACE "+" "x" name "header_${std}_${family}")
    if(NOT compiler)
      message(STATUS "${name}: no ${family} compiler for ${std}, not registered")
      continue()
    endif()
    add_test(NAME ${name}
      COMMAND ${CMAKE_COMMAND} -DCOMPILER=${compiler} "-DFLAGS=-std=${std} ${_rtm_strict}"
              -DSOURCE=${src} -DINCLUDE=${PROJECT_SOURCE_DIR}/include
              -DOBJECT=${CMAKE_CURRENT_BINARY_DIR}/${name}.o -DNM=${RTM_NM}
              -P ${CMAKE_CURRENT_SOURCE_DIR}/header/check.cmake)
    set_tests_properties(${name} PROPERTIES LABELS header)
  endforeach()
endforeach()
