#pragma once
// Command lines for the shell std::system runs: sh on POSIX systems, cmd.exe on Windows. The
// replay command an exploration prints is one, and so are the child programs tests start.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace irqsim::platform {

// `argument` as one word of a command line: unchanged when the shell would read it so anyway,
// quoted otherwise ('...' for sh, "..." for cmd.exe).
std::string shell_word(std::string_view argument);

// `command` run with each (name, value) of `variables` set in its environment:
// `NAME=value command` for sh, `set "NAME=value" & command` for cmd.exe.
std::string with_environment(const std::vector<std::pair<std::string, std::string>>& variables,
                             std::string_view command);

// Runs `command` in the shell and waits for it: true when it exited with status 0.
bool run_in_shell(std::string_view command);

}  // namespace irqsim::platform
