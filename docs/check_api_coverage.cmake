# Fails unless docs/api-coverage.md names everything the WDK shim headers declare, so that a
# routine added to a header without a row in the coverage table breaks the test suite.
#
#   cmake -DHEADERS_DIR=include/irqsim/wdk -DCOVERAGE=docs/api-coverage.md -P docs/check_api_coverage.cmake
#
# A name counts as covered when a table row of the page names it on its own between backticks:
# `KeInsertQueueDpc`, or `IInterruptSync::Connect` for an interface method. A constant may instead
# be covered by its family, a backticked prefix ending in `*` (`CM_RESOURCE_MEMORY_*`). Prose does
# not count, so a name mentioned only under "Not provided" is still reported. What is extracted, from
# the way these headers are written (one declaration starts at the beginning of a line):
# - routines: `<type> Name(` at the start of a line, optionally after DECLSPEC_NORETURN, inline or FORCEINLINE;
# - interface methods: `virtual <type> Name(` inside `struct IName ... {`, as `IName::Name`;
# - function-like macros (`#define Name(`), which drivers call like routines;
# - types: a typedef'd struct, union or enum (`} NAME;`), a typedef that is not a pointer, a
#   routine type, a pointer-to-routine type, and the interfaces themselves;
# - data (`extern const IID Name;`) and object-like macros (`#define NAME value`).
# Pointer typedefs (`typedef KDPC *PKDPC;`) go with their type and are not required.
cmake_minimum_required(VERSION 3.25)

if(NOT HEADERS_DIR OR NOT COVERAGE)
  message(FATAL_ERROR "usage: cmake -DHEADERS_DIR=<include/irqsim/wdk> -DCOVERAGE=<api-coverage.md> -P ${CMAKE_CURRENT_LIST_FILE}")
endif()

set(identifier "[A-Za-z_][A-Za-z0-9_]*")

# A file as a CMake list of lines. Characters that CMake lists treat specially (`;`, `[`, `]`,
# `\`) are dropped first: no pattern below needs them, and left in they would split or join lines.
function(read_lines path out)
  file(READ "${path}" text)
  string(REGEX REPLACE "[][;\\]" "" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()

# The names one header declares, as "<name>|<kind>" entries.
function(declared_names header out)
  read_lines("${header}" lines)
  set(names "")
  set(interface "")
  foreach(line IN LISTS lines)
    if(line MATCHES "^struct (${identifier})( : ${identifier})? {")
      set(interface "${CMAKE_MATCH_1}")
      list(APPEND names "${interface}|interface")
    elseif(line MATCHES "^}")
      set(interface "")
      if(line MATCHES "^} (${identifier})$")
        list(APPEND names "${CMAKE_MATCH_1}|type")
      endif()
    elseif(interface AND line MATCHES "^ +virtual [^(]*[ *&](${identifier})\\(")
      list(APPEND names "${interface}::${CMAKE_MATCH_1}|method")
    elseif(line MATCHES "^#define (${identifier})\\(")
      list(APPEND names "${CMAKE_MATCH_1}|macro")
    elseif(line MATCHES "^#define (${identifier})( |$)")
      set(constant "${CMAKE_MATCH_1}")
      if(NOT constant MATCHES "^IRQSIM_")  # include guards
        list(APPEND names "${constant}|constant")
      endif()
    elseif(line MATCHES "^typedef (struct|union|enum) ${identifier}( {)?$")
      # A tagged type: named where its closing brace is.
    elseif(line MATCHES "^typedef ${identifier} (${identifier})\\(")
      list(APPEND names "${CMAKE_MATCH_1}|type")
    elseif(line MATCHES "^typedef [^(]*\\(\\*(${identifier})\\)\\(")
      list(APPEND names "${CMAKE_MATCH_1}|type")
    elseif(line MATCHES "^typedef [^(*]* &?(${identifier})$")
      list(APPEND names "${CMAKE_MATCH_1}|type")
    elseif(line MATCHES "^extern const ${identifier} (${identifier})$")
      list(APPEND names "${CMAKE_MATCH_1}|data")
    elseif(line MATCHES "^(DECLSPEC_NORETURN |inline |FORCEINLINE )?${identifier}[ *&]+(${identifier})\\(")
      list(APPEND names "${CMAKE_MATCH_2}|routine")
    endif()
  endforeach()
  set(${out} "${names}" PARENT_SCOPE)
endfunction()

# Everything the coverage page's table rows write between backticks, and the constant families
# among it.
file(READ "${COVERAGE}" page)
string(REGEX MATCHALL "\n\\|[^\n]*" rows "\n${page}")
string(REGEX MATCHALL "`[^`\n]+`" spans "${rows}")
list(TRANSFORM spans REPLACE "`" "")
set(families "${spans}")
list(FILTER families INCLUDE REGEX "^${identifier}\\*$")
list(TRANSFORM families REPLACE "\\*$" "")

# irqsim_sal.h only defines SAL annotations away; the page says so in one sentence.
file(GLOB headers "${HEADERS_DIR}/*.h")
list(FILTER headers EXCLUDE REGEX "/irqsim_sal\\.h$")
if(NOT headers)
  message(FATAL_ERROR "No headers found in ${HEADERS_DIR}")
endif()

set(checked 0)
set(missing "")
foreach(header IN LISTS headers)
  get_filename_component(header_name "${header}" NAME)
  declared_names("${header}" names)
  foreach(entry IN LISTS names)
    string(REPLACE "|" ";" entry "${entry}")
    list(GET entry 0 name)
    list(GET entry 1 kind)
    math(EXPR checked "${checked} + 1")
    if(name IN_LIST spans)
      continue()
    endif()
    if(kind STREQUAL "constant")
      set(in_family FALSE)
      foreach(prefix IN LISTS families)
        string(FIND "${name}" "${prefix}" at)
        if(at EQUAL 0)
          set(in_family TRUE)
          break()
        endif()
      endforeach()
      if(in_family)
        continue()
      endif()
    endif()
    list(APPEND missing "  ${header_name}: ${kind} ${name}")
  endforeach()
endforeach()

if(missing)
  list(LENGTH missing count)
  list(JOIN missing "\n" missing)
  message(FATAL_ERROR "${COVERAGE} does not name ${count} of the ${checked} names the WDK headers declare "
                      "(write each between backticks in its table):\n${missing}")
endif()
message(STATUS "${COVERAGE} names all ${checked} routines, types and constants of the WDK headers")
