# bench_intern: the interner against GLib quarks, a GHashTable and a tight
# single-threaded table, on the identifiers of the Python standard library.
pkg_check_modules(GLIB glib-2.0 IMPORTED_TARGET)
if(GLIB_FOUND)
  add_executable(bench_intern ${CMAKE_CURRENT_SOURCE_DIR}/bench_intern.c)
  target_compile_options(bench_intern PRIVATE ${RTM_WARNINGS})
  target_include_directories(bench_intern PRIVATE ${PROJECT_SOURCE_DIR}/runtime/mem)
  target_link_libraries(bench_intern PRIVATE rtmem_static PkgConfig::GLIB PkgConfig::FFI Threads::Threads m)
else()
  message(STATUS "bench_intern: GLib not found, skipped")
endif()
