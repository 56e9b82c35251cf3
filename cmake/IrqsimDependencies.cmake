# Every package irqsim builds with, found in one place: the library's own (threads, fmt, Boost's
# headers) and, with the tests, GoogleTest, GoogleMock and nlohmann_json. A cross build for
# Windows takes them from the host's Debian packages instead (IrqsimWindowsCrossDependencies).
find_package(Threads REQUIRED)

if(CMAKE_CROSSCOMPILING AND WIN32)
  include(IrqsimWindowsCrossDependencies)
  return()
endif()

find_package(fmt REQUIRED)
find_package(Boost 1.74 REQUIRED CONFIG COMPONENTS headers)
if(IRQSIM_BUILD_TESTS)
  find_package(GTest REQUIRED)
  find_package(nlohmann_json 3 REQUIRED)
endif()
