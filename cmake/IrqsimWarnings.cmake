# irqsim_warnings(<target>): the project's warning set for gcc and clang, as errors when
# IRQSIM_WARNINGS_AS_ERRORS is on (the ci preset turns it on).
function(irqsim_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
                                             $<$<BOOL:${IRQSIM_WARNINGS_AS_ERRORS}>:-Werror>)
  endif()
endfunction()
