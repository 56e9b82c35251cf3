#pragma once
// Setting the process's environment, which the C++ standard can read (std::getenv) but not
// change: tests give a variable a value for one test and restore it after.

#include <optional>
#include <string>

namespace irqsim::platform {

// Gives the variable `name` the value `value` in this process (and the children it starts), or
// removes it with nullopt.
void set_environment_variable(const std::string& name, const std::optional<std::string>& value);

}  // namespace irqsim::platform
