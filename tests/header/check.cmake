# Compiles one translation unit that includes include/rtmem.h, then checks
# that its calls reach the public functions under their C names (a C++
# compiler without the header's extern "C" would mangle them).
#   cmake -DCOMPILER=... -DFLAGS="..." -DSOURCE=... -DINCLUDE=... -DOBJECT=... -DNM=... -P check.cmake
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
execute_process(
  COMMAND ${COMPILER} ${flags} -I${INCLUDE} -c ${SOURCE} -o ${OBJECT}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "rtmem.h does not compile with ${COMPILER} ${FLAGS}:\n${out}")
endif()

execute_process(COMMAND ${NM} -u ${OBJECT} RESULT_VARIABLE rc OUTPUT_VARIABLE syms)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} -u ${OBJECT} failed")
endif()
# RTM_ARENA_NEW expands to the inline fast path, whose out-of-line half is
# rtm_arena_alloc_slow; RTM_LEASE_NEW's is rtm_arena_lease_alloc_slow.
foreach(fn rtm_ctx_new rtm_ctx_destroy rtm_ctx_stats_sized rtm_arena_alloc_slow
        rtm_arena_lease_open rtm_arena_lease_alloc_slow rtm_arena_lease_close)
  if(NOT syms MATCHES "U ${fn}\n")
    message(FATAL_ERROR "${OBJECT} does not call ${fn} by its C name; undefined symbols:\n${syms}")
  endif()
endforeach()
if(syms MATCHES "_Z[^\n]*rtm_")
  message(FATAL_ERROR "mangled rtm_ names in ${OBJECT} (extern \"C\" missing?):\n${syms}")
endif()
message(STATUS "rtmem.h: ok with ${COMPILER} ${FLAGS}")
