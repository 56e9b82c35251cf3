# irqsim_test_program(<target> <sources...>): an executable of GoogleTest tests, set up the way
# every test program of irqsim is - the unit tests, the examples' suites, the docs guide's test
# and the child programs tests start. It links fmt, GoogleTest's main and gMock, applies the warning
# set, and compiles the C++ sources with one precompiled header of GoogleTest, gMock and fmt,
# built once per build tree: parsing those headers took two seconds of every test source, in
# each of CI's builds. C sources (plain-C drivers) compile as they are.
include(GoogleTest)

file(CONFIGURE OUTPUT irqsim_test_headers.cpp CONTENT "// irqsim_test_headers: nothing but the precompiled header.\n")
add_library(irqsim_test_headers OBJECT ${CMAKE_CURRENT_BINARY_DIR}/irqsim_test_headers.cpp)
target_link_libraries(irqsim_test_headers PRIVATE irqsim::irqsim fmt::fmt GTest::gtest GTest::gmock)
target_precompile_headers(irqsim_test_headers PRIVATE <gmock/gmock.h> <gtest/gtest.h> <fmt/format.h>)
irqsim_warnings(irqsim_test_headers)

function(irqsim_test_program target)
  add_executable(${target} ${ARGN})
  foreach(source IN LISTS ARGN)
    if(source MATCHES "\\.c$")
      set_source_files_properties(${source} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
    endif()
  endforeach()
  target_link_libraries(${target} PRIVATE fmt::fmt GTest::gtest_main GTest::gmock)
  target_precompile_headers(${target} REUSE_FROM irqsim_test_headers)
  # -Winvalid-pch: gcc would otherwise skip a header that does not fit the compilation silently.
  # -fno-var-tracking-assignments: test bodies are long functions of macro-expanded assertions,
  # and gcc's tracking of where each variable lives took a quarter of their -O2 -g compile time;
  # their debug information keeps everything else.
  target_compile_options(${target} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Winvalid-pch -fno-var-tracking-assignments>)
  irqsim_warnings(${target})
endfunction()
