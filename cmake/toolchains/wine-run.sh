#!/bin/sh
# wine-run.sh <wine loader> <program.exe> [arguments...]: runs a Windows program under Wine for
# CMake and CTest (the toolchain's cross-compiling emulator). Debian's Wine stops its server, and
# the services it boots, as soon as the last program ends, so every test would boot Wine again
# (about a second of CPU each). The first program of a run starts a server that stays for a
# minute after the last one instead; while one is running, `wineserver -p60` fails harmlessly.
loader=$1
shift
WINEDEBUG=-all
export WINEDEBUG
# Detached from this program's output: CTest reads it to the end, and a server holding it open
# would keep a finished test running until the server quits.
"$(dirname "$loader")/wineserver" -p60 </dev/null >/dev/null 2>&1
exec "$loader" "$@"
