#include "platform/environment.hpp"

#include <cstdlib>

namespace irqsim::platform {

void set_environment_variable(const std::string& name, const std::optional<std::string>& value) {
#if defined(_WIN32)
  // The C runtime's copy of the environment, which getenv reads; an empty value removes it.
  ::_putenv_s(name.c_str(), value ? value->c_str() : "");
#else
  if (value) {
    ::setenv(name.c_str(), value->c_str(), 1);
  } else {
    ::unsetenv(name.c_str());
  }
#endif
}

}  // namespace irqsim::platform
