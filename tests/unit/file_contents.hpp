#pragma once
/// @file
/// @brief Reading a whole file back in a test: a file the library wrote, byte for byte, or the
///        text output a child program left in a file.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace irqsim_test {

/// @brief Every byte of `file`, unchanged; empty if it cannot be read.
inline std::string FileBytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// @brief The text a program wrote to `file`, with the `\r` of Windows line ends dropped, so that
///        tests compare it alike on every platform.
inline std::string ProgramOutput(const std::filesystem::path& file) {
  std::string text = FileBytes(file);
  std::erase(text, '\r');
  return text;
}

}  // namespace irqsim_test
