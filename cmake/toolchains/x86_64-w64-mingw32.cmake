# Cross-compiles irqsim into 64-bit Windows programs with Debian's mingw-w64 compilers, the posix
# threads variant (its libstdc++ has std::thread, std::mutex and friends, on winpthreads), and
# runs them with Wine wherever CMake and CTest run a target: test discovery and every test.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(CMAKE_C_COMPILER x86_64-w64-mingw32-gcc-posix)
set(CMAKE_CXX_COMPILER x86_64-w64-mingw32-g++-posix)
set(CMAKE_RC_COMPILER x86_64-w64-mingw32-windres)

# Libraries and headers come from the mingw-w64 tree only; host programs from the host.
set(CMAKE_FIND_ROOT_PATH /usr/x86_64-w64-mingw32)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The C and C++ runtimes and winpthreads linked in: each .exe runs on its own, under Wine or on
# Windows, without the cross compiler's DLLs on a search path.
set(CMAKE_EXE_LINKER_FLAGS_INIT -static)

# Debian installs the 64-bit loader as /usr/lib/wine/wine64 (the /usr/bin/wine wrapper asks for
# the 32-bit one too). wine-run.sh keeps Wine's server up between tests and its diagnostics out
# of their output.
find_program(IRQSIM_WINE NAMES wine64 wine PATHS /usr/lib/wine NO_CMAKE_FIND_ROOT_PATH)
if(IRQSIM_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR /bin/sh ${CMAKE_CURRENT_LIST_DIR}/wine-run.sh ${IRQSIM_WINE})
endif()
