# The dependencies of a mingw-w64 cross build, from the same Debian packages as the native build,
# under the target names find_package gives natively: fmt::fmt, Boost::headers,
# nlohmann_json::nlohmann_json, GTest::gtest, GTest::gtest_main, GTest::gmock.

# fmt (in its header-only mode), Boost and nlohmann_json are headers. The host's /usr/include
# cannot be an include directory of the cross compiler (glibc's <stdio.h> would win over
# mingw-w64's), so the build sees them through a directory that links to those three alone.
set(irqsim_host_headers ${PROJECT_BINARY_DIR}/host-headers)
file(MAKE_DIRECTORY ${irqsim_host_headers})
foreach(library fmt boost nlohmann)
  if(NOT EXISTS /usr/include/${library})
    message(FATAL_ERROR "/usr/include/${library} is missing: run cmake/bootstrap.sh windows")
  endif()
  file(CREATE_LINK /usr/include/${library} ${irqsim_host_headers}/${library} SYMBOLIC)
endforeach()

function(irqsim_host_header_library name)
  add_library(${name} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${name} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES ${irqsim_host_headers} ${ARGN})
endfunction()
irqsim_host_header_library(fmt::fmt INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1)
irqsim_host_header_library(Boost::headers)
irqsim_host_header_library(nlohmann_json::nlohmann_json)

# GoogleTest and GoogleMock, compiled from Debian's googletest sources with the cross compiler.
if(IRQSIM_BUILD_TESTS)
  set(INSTALL_GTEST OFF CACHE BOOL "irqsim's cross build does not install GoogleTest")
  add_subdirectory(/usr/src/googletest ${PROJECT_BINARY_DIR}/googletest EXCLUDE_FROM_ALL SYSTEM)
endif()
