# Static linking of the libraries every `strata` invocation loads.
#
# A no-op rebuild takes a few milliseconds, and loading shared objects was
# the largest single part of it: libarchive.so brings libxml2, ICU (and with
# it a second libstdc++), nettle, lzma, zstd, bz2, lz4, acl — 17 objects whose
# mapping and symbol relocation cost ~2 ms at every start (docs/performance.md).
# With STRATA_STATIC_RUNTIME the same libraries are linked from Debian's .a
# files; fmt's out-of-line part is compiled once (Debian ships no libfmt.a). What is not found
# stays shared, so the build works either way.
#
# Defines strata::fmt, to be used instead of fmt::fmt, and retargets
# LibArchive::LibArchive and PkgConfig::XXHASH at the static archives.

add_library(strata_fmt INTERFACE)
add_library(strata::fmt ALIAS strata_fmt)

if(NOT STRATA_STATIC_RUNTIME)
  target_link_libraries(strata_fmt INTERFACE fmt::fmt)
  return()
endif()

# Debian ships no libfmt.a: fmt's out-of-line part is compiled once, into a
# static library of strata's own (cmake/fmt/fmt_compiled.cpp), rather than in
# every file that includes fmt/format.h, as FMT_HEADER_ONLY would.
add_library(strata_fmt_compiled STATIC ${CMAKE_CURRENT_LIST_DIR}/fmt/fmt_compiled.cpp)
target_include_directories(strata_fmt_compiled PUBLIC
  $<TARGET_PROPERTY:fmt::fmt,INTERFACE_INCLUDE_DIRECTORIES>)
target_link_libraries(strata_fmt INTERFACE strata_fmt_compiled)

# find_static(VAR name...): the first lib<name>.a found, or VAR-NOTFOUND.
function(strata_find_static var)
  unset(${var})  # find_library skips the search when the variable is set
  set(names)
  foreach(n IN LISTS ARGN)
    list(APPEND names lib${n}.a)
  endforeach()
  find_library(${var} NAMES ${names} NO_CACHE)
  set(${var} ${${var}} PARENT_SCOPE)
endfunction()

strata_find_static(STRATA_XXHASH_A xxhash)
if(STRATA_XXHASH_A)
  set_property(TARGET PkgConfig::XXHASH PROPERTY INTERFACE_LINK_LIBRARIES ${STRATA_XXHASH_A})
endif()

# libarchive.a and what the members we link need. The pax writer's object
# file also holds the table of every write format, which drags in the xar
# writer and with it libxml2 and ICU, hence those two. (The `strata`
# executable defines the xar writer itself and links neither:
# src/cli/link/no_xar_writer.cpp. The tests still do.)
strata_find_static(STRATA_ARCHIVE_A archive)
set(_archive_deps)
set(_archive_ok ${STRATA_ARCHIVE_A})
foreach(dep nettle xml2 icuuc icudata zstd lz4 lzma bz2 z)
  strata_find_static(_a ${dep})
  if(NOT _a)
    set(_archive_ok FALSE)
    message(STATUS "strata: lib${dep}.a not found; libarchive stays shared")
    break()
  endif()
  list(APPEND _archive_deps ${_a})
endforeach()
# Whether libzstd.a (single-threaded) is linked in with libarchive: tests/
# must then not link libzstd.so beside it (see tests/CMakeLists.txt).
set(STRATA_ARCHIVE_STATIC ${_archive_ok})
if(_archive_ok)
  set_target_properties(LibArchive::LibArchive PROPERTIES
    IMPORTED_LOCATION ${STRATA_ARCHIVE_A}
    INTERFACE_LINK_LIBRARIES "${_archive_deps};Threads::Threads;${CMAKE_DL_LIBS};m")
endif()
