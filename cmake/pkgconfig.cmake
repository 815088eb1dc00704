# Writes rtmem.pc. Its paths are relative to ${pcfiledir}, where pkg-config
# finds the file, so an install to any prefix (cmake --install --prefix P,
# DESTDIR) gives a file that is right where it lands. An absolute
# CMAKE_INSTALL_LIBDIR or INCLUDEDIR is kept as given.
set(_rtm_pcdir ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH _rtm_up ${_rtm_pcdir} ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" _rtm_up "${_rtm_up}")
set(RTM_PC_PREFIX "\${pcfiledir}/${_rtm_up}")
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(RTM_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(RTM_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/rtmem.pc.in ${PROJECT_BINARY_DIR}/rtmem.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rtmem.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
