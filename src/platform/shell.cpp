#include "platform/shell.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

namespace irqsim::platform {

namespace {

// Whether every character of `argument` is a letter, a digit or one of `plain`, which the shell
// takes literally.
bool needs_no_quotes(std::string_view argument, std::string_view plain) {
  return !argument.empty() && std::all_of(argument.begin(), argument.end(), [plain](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           plain.find(c) != std::string_view::npos;
  });
}

}  // namespace

#if defined(_WIN32)

std::string shell_word(std::string_view argument) {
  // cmd.exe has no escape inside quotes; a path never holds a double quote.
  return needs_no_quotes(argument, "_-./:=+,@\\") ? std::string(argument) : fmt::format("\"{}\"", argument);
}

std::string with_environment(const std::vector<std::pair<std::string, std::string>>& variables,
                             std::string_view command) {
  // The quotes keep the space before `&` out of the value.
  std::string line;
  for (const auto& [name, value] : variables) line += fmt::format("set \"{}={}\" & ", name, value);
  return line.append(command);
}

bool run_in_shell(std::string_view command) {
  // cmd.exe /c drops the first and last quote of a line that starts with one; quotes around
  // the whole line are what it drops then, and the command's own quotes stay.
  return std::system(fmt::format("\"{}\"", command).c_str()) == 0;
}

#else

std::string shell_word(std::string_view argument) {
  if (needs_no_quotes(argument, "_-./:=+,@")) return std::string(argument);
  std::string quoted = "'";
  for (const char c : argument) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string with_environment(const std::vector<std::pair<std::string, std::string>>& variables,
                             std::string_view command) {
  std::string line;
  for (const auto& [name, value] : variables) line += fmt::format("{}={} ", name, shell_word(value));
  return line.append(command);
}

bool run_in_shell(std::string_view command) { return std::system(std::string(command).c_str()) == 0; }

#endif

}  // namespace irqsim::platform
