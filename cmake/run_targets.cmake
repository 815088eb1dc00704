# rtm_run_target(NAME DIR): a target that builds, then runs in turn, every
# program defined in DIR (a subdirectory already added). Without any, it
# fails and says so. If a target NAME exists already, this one yields: a part
# whose demo is more than a program (the Lua one) defines `demo` itself.
function(rtm_run_target name dir)
  if(TARGET ${name})
    return()
  endif()
  get_property(targets DIRECTORY ${dir} PROPERTY BUILDSYSTEM_TARGETS)
  set(commands)
  foreach(t IN LISTS targets)
    get_target_property(type ${t} TYPE)
    if(type STREQUAL "EXECUTABLE")
      list(APPEND commands COMMAND ${CMAKE_COMMAND} -E echo "== ${t}" COMMAND ${t})
    endif()
  endforeach()
  if(NOT commands)
    file(RELATIVE_PATH rel ${PROJECT_SOURCE_DIR} ${dir})
    set(commands
      COMMAND ${CMAKE_COMMAND} -E echo "${name}: there is no program in ${rel}/ yet"
      COMMAND ${CMAKE_COMMAND} -E false)
  endif()
  add_custom_target(${name} ${commands} USES_TERMINAL VERBATIM)
endfunction()
