#pragma once
// <windows.h> as the platform layer's Windows code includes it: without the rarely used APIs, and
// without the min and max macros that would break std::min and std::max after it.

#define WIN32_LEAN_AND_MEAN
#ifndef NOMINMAX  // libstdc++ defines it on mingw-w64
#define NOMINMAX
#endif
#include <windows.h>
