# The packaging tests, one STEP per ctest test (registered by tests/install.cmake):
#   install    cmake --install the build into PREFIX, and check what landed
#   cmake      build this directory with find_package(rtmem): shared and static
#   pkgconfig  build consumer.c with `pkg-config --cflags --libs rtmem`
#   pkgconfig_static   ... and with `pkg-config --static`, linked -static
# Each built program runs and must print the context's stats as JSON.
cmake_minimum_required(VERSION 3.20)
set(here ${CMAKE_CURRENT_LIST_DIR})
set(libdir ${PREFIX}/${LIBDIR})
set(ENV{PKG_CONFIG_PATH} ${libdir}/pkgconfig)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

# Runs a consumer program; it must print the stats as JSON.
function(check_program exe)
  run(${exe})
  if(NOT out MATCHES "^[ \n]*{" OR NOT out MATCHES "\"page_bytes\": *[1-9]")
    message(FATAL_ERROR "${exe} did not print the stats as JSON:\n${out}")
  endif()
endfunction()

# Whether exe loads librtmem.so at run time must match how it was linked.
function(check_needed exe want)
  run(${READELF} -d ${exe})
  if(out MATCHES "NEEDED[^\n]*librtmem\\.so")
    set(has TRUE)
  else()
    set(has FALSE)
  endif()
  if(NOT has STREQUAL want)
    message(FATAL_ERROR "${exe}: needs librtmem.so is ${has}, expected ${want}:\n${out}")
  endif()
endfunction()

function(pkg_config)
  run(${PKG_CONFIG} ${ARGN} rtmem)
  string(STRIP "${out}" out)
  separate_arguments(out UNIX_COMMAND "${out}")
  set(out "${out}" PARENT_SCOPE)
endfunction()

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE ${PREFIX})
  if(CONFIG)
    set(config --config ${CONFIG})
  endif()
  run(${CMAKE_COMMAND} --install ${BUILD} --prefix ${PREFIX} ${config})
  foreach(f include/rtmem.h ${LIBDIR}/librtmem.so ${LIBDIR}/librtmem.a
            ${LIBDIR}/cmake/rtmem/rtmemConfig.cmake ${LIBDIR}/cmake/rtmem/rtmemTargets.cmake
            ${LIBDIR}/pkgconfig/rtmem.pc)
    if(NOT EXISTS ${PREFIX}/${f})
      message(FATAL_ERROR "not installed: ${f}")
    endif()
  endforeach()
  # The public headers and nothing else: internal ones stay beside their sources.
  file(GLOB_RECURSE installed RELATIVE ${PREFIX}/include ${PREFIX}/include/*)
  file(GLOB_RECURSE public RELATIVE ${SOURCE}/include ${SOURCE}/include/*.h)
  list(SORT installed)
  list(SORT public)
  if(NOT installed STREQUAL public)
    message(FATAL_ERROR "installed headers: ${installed}; the public ones: ${public}")
  endif()

elseif(STEP STREQUAL "cmake")
  set(bin ${WORK}/cmake)
  file(REMOVE_RECURSE ${bin})
  run(${CMAKE_COMMAND} -S ${here} -B ${bin} -DCMAKE_C_COMPILER=${CC}
      -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=${CONFIG})
  file(STRINGS ${bin}/CMakeCache.txt found REGEX "^rtmem_DIR:")
  if(NOT found MATCHES "=${PREFIX}/")
    message(FATAL_ERROR "find_package(rtmem) found another install: ${found}")
  endif()
  run(${CMAKE_COMMAND} --build ${bin})
  check_program(${bin}/consumer_shared)
  check_needed(${bin}/consumer_shared TRUE)
  check_program(${bin}/consumer_static)
  check_needed(${bin}/consumer_static FALSE)

elseif(STEP STREQUAL "pkgconfig")
  pkg_config(--variable=libdir)
  file(REAL_PATH "${out}" found)
  file(REAL_PATH "${libdir}" want)
  if(NOT found STREQUAL want)
    message(FATAL_ERROR "pkg-config rtmem: libdir is ${found}, installed in ${want}")
  endif()
  pkg_config(--cflags --libs)
  file(MAKE_DIRECTORY ${WORK})
  run(${CC} ${here}/consumer.c ${out} -Wl,-rpath,${libdir} -o ${WORK}/consumer_pc_shared)
  check_program(${WORK}/consumer_pc_shared)
  check_needed(${WORK}/consumer_pc_shared TRUE)

elseif(STEP STREQUAL "pkgconfig_static")
  # A fully static link: any library missing from Libs.private or
  # Requires.private shows up as an undefined symbol here.
  pkg_config(--static --cflags --libs)
  file(MAKE_DIRECTORY ${WORK})
  run(${CC} -static ${here}/consumer.c ${out} -o ${WORK}/consumer_pc_static)
  check_program(${WORK}/consumer_pc_static)
  check_needed(${WORK}/consumer_pc_static FALSE)

else()
  message(FATAL_ERROR "unknown STEP '${STEP}'")
endif()
