# Fails unless the misuse catalogue and the tests agree: every entry of docs/misuse.md names at
# least one test, every test it names exists in the unit tests, and every test of
# tests/unit/misuse_test.cpp is named by an entry.
#
#   cmake -DCATALOGUE=docs/misuse.md -DTESTS_DIR=tests/unit -DMISUSE_TESTS=tests/unit/misuse_test.cpp \
#         -P docs/check_misuse_catalogue.cmake
#
# An entry is a table row of the page other than a header row; the tests it names are the
# `Suite.Name` spans of its last cell. A test exists when a source defines it with TEST, TEST_F
# or TEST_P (for a parameterized test, the catalogue names it without its instantiation prefix).
cmake_minimum_required(VERSION 3.25)

if(NOT CATALOGUE OR NOT TESTS_DIR OR NOT MISUSE_TESTS)
  message(FATAL_ERROR "usage: cmake -DCATALOGUE=<misuse.md> -DTESTS_DIR=<tests/unit> "
                      "-DMISUSE_TESTS=<misuse_test.cpp> -P ${CMAKE_CURRENT_LIST_FILE}")
endif()

set(identifier "[A-Za-z_][A-Za-z0-9_]*")
set(test_name "^${identifier}\\.${identifier}$")

# The tests a set of sources defines, as Suite.Name entries.
function(defined_tests sources out)
  set(tests "")
  foreach(source IN LISTS sources)
    file(READ "${source}" text)
    string(REGEX MATCHALL "TEST(_F|_P)?\\([ \t\n]*${identifier}[ \t\n]*,[ \t\n]*${identifier}[ \t\n]*\\)" macros
           "${text}")
    foreach(macro IN LISTS macros)
      string(REGEX REPLACE "^TEST(_F|_P)?\\([ \t\n]*(${identifier})[ \t\n]*,[ \t\n]*(${identifier}).*" "\\2.\\3" name
             "${macro}")
      list(APPEND tests "${name}")
    endforeach()
  endforeach()
  set(${out} "${tests}" PARENT_SCOPE)
endfunction()

# The catalogue's entries: its table rows without header rows (the row above a |---| line).
# Characters CMake lists treat specially are dropped first, and so is an escaped `\|`, which is
# no cell border.
file(READ "${CATALOGUE}" page)
string(REGEX REPLACE "[][;]" "" page "${page}")
string(REPLACE "\\|" "" page "${page}")
string(REPLACE "\\" "" page "${page}")
string(REPLACE "\n" ";" lines "${page}")
set(rows "")
foreach(line IN LISTS lines)
  if(line MATCHES "^\\|[-: |]+\\|$")
    list(POP_BACK rows)
  elseif(line MATCHES "^\\|.*\\|$")
    list(APPEND rows "${line}")
  endif()
endforeach()
if(NOT rows)
  message(FATAL_ERROR "${CATALOGUE} has no catalogue entries")
endif()

file(GLOB sources "${TESTS_DIR}/*.cpp")
defined_tests("${sources}" existing)
defined_tests("${MISUSE_TESTS}" misuse_tests)

set(problems "")
set(named "")
foreach(row IN LISTS rows)
  string(REGEX MATCH "\\|[^|]*\\|$" last_cell "${row}")
  string(REGEX MATCHALL "`[^`]+`" spans "${last_cell}")
  list(TRANSFORM spans REPLACE "`" "")
  set(tests_of_row "")
  foreach(span IN LISTS spans)
    if(span MATCHES "${test_name}")
      list(APPEND tests_of_row "${span}")
    endif()
  endforeach()
  if(NOT tests_of_row)
    list(APPEND problems "  an entry names no test (Suite.Name between backticks in its last cell):\n    ${row}")
  endif()
  foreach(test IN LISTS tests_of_row)
    list(APPEND named "${test}")
    if(NOT test IN_LIST existing)
      list(APPEND problems "  ${test} is named by the catalogue but defined by no test in ${TESTS_DIR}")
    endif()
  endforeach()
endforeach()

foreach(test IN LISTS misuse_tests)
  if(NOT test IN_LIST named)
    list(APPEND problems "  ${test} (${MISUSE_TESTS}) is named by no catalogue entry")
  endif()
endforeach()

list(LENGTH rows entry_count)
list(REMOVE_DUPLICATES named)
list(LENGTH named test_count)
if(problems)
  list(JOIN problems "\n" problems)
  message(FATAL_ERROR "${CATALOGUE} and the unit tests disagree:\n${problems}")
endif()
message(STATUS "${CATALOGUE}: ${entry_count} entries naming ${test_count} tests, all defined")
