#!/bin/sh
# wine-run.sh <wine loader> <program.exe> [arguments...]: runs a Windows program under Wine for
# CMake and CTest (the toolchain's cross-compiling emulator). Debian's Wine stops its server, and
# the services it boots, as soon as the last program ends, so every test would boot Wine again
# (about a second of CPU each). The first program of a run starts a server that stays for a
# minute after the last one and boots Wine's services, both detached from the program's output:
# CTest reads that to the end, and a service holding it open would keep a finished test running.
# The lock makes programs started together wait for that boot rather than race it.
loader=$1
shift
WINEDEBUG=-all
export WINEDEBUG
server="$(dirname "$loader")/wineserver"
(
  flock 9
  # -k0 only asks whether a server is running.
  if ! "$server" -k0 2>/dev/null; then
    # Nor does the server or a service keep the lock (descriptor 9): it outlives this script.
    "$server" -p60 </dev/null >/dev/null 2>&1 9>&-
    "$loader" wineboot </dev/null >/dev/null 2>&1 9>&-
  fi
) 9>"${TMPDIR:-/tmp}/irqsim-wine-run.lock"
# The program writes to files that are relayed as it runs, not to CTest's pipes: a program that
# starts together with Wine's boot can leave the Wine server holding its output descriptors until
# the server exits, a minute later, and CTest would wait for that (seen as tests that passed and
# then timed out). `tail --pid` prints the rest and ends when the program has.
output=$(mktemp "${TMPDIR:-/tmp}/irqsim-wine-out.XXXXXX")
errors=$(mktemp "${TMPDIR:-/tmp}/irqsim-wine-err.XXXXXX")
"$loader" "$@" >"$output" 2>"$errors" &
program=$!
tail -n +1 -s 0.02 -f --pid="$program" "$output" &
tail -n +1 -s 0.02 -f --pid="$program" "$errors" >&2 &
wait "$program"
status=$?
wait
rm -f "$output" "$errors"
exit "$status"
