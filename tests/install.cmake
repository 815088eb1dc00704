# Packaging: install the library into a prefix inside the build tree and build
# the outside program in tests/consumer/ against it, with CMake and with
# pkg-config, shared and static; and check what the shared library exports.
# Only in the build without sanitizers: that is what users install.
if(NOT RTM_SANITIZE)
  find_program(RTM_READELF readelf REQUIRED)
  find_program(RTM_PKG_CONFIG pkg-config REQUIRED)
  find_program(RTM_NM nm REQUIRED)
  set(_rtm_check ${CMAKE_COMMAND}
    -DSOURCE=${PROJECT_SOURCE_DIR} -DBUILD=${PROJECT_BINARY_DIR} -DCONFIG=$<CONFIG>
    -DPREFIX=${CMAKE_CURRENT_BINARY_DIR}/install/prefix -DLIBDIR=${CMAKE_INSTALL_LIBDIR}
    -DWORK=${CMAKE_CURRENT_BINARY_DIR}/install/work -DCC=${CMAKE_C_COMPILER}
    -DREADELF=${RTM_READELF} -DPKG_CONFIG=${RTM_PKG_CONFIG})
  add_test(NAME install COMMAND ${_rtm_check} -DSTEP=install -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/check.cmake)
  set_tests_properties(install PROPERTIES FIXTURES_SETUP rtm_installed LABELS packaging)
  foreach(step cmake pkgconfig pkgconfig_static)
    add_test(NAME install_${step}
      COMMAND ${_rtm_check} -DSTEP=${step} -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/check.cmake)
    set_tests_properties(install_${step} PROPERTIES FIXTURES_REQUIRED rtm_installed LABELS packaging)
  endforeach()
  add_test(NAME exports_only_api
    COMMAND ${CMAKE_COMMAND} -DNM=${RTM_NM} -DLIB=$<TARGET_FILE:rtmem>
            -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/exports.cmake)
  set_tests_properties(exports_only_api PROPERTIES LABELS packaging)
endif()
