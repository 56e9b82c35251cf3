#!/bin/sh
# Installs the Debian packages irqsim needs to build, test and document itself, if any are
# missing. Run as root (or with sudo available) on Debian 12 or later. `sh cmake/bootstrap.sh clang`
# also installs clang and its sanitizer and libFuzzer runtimes, which the ci-clang, tsan and fuzz
# presets build with;
# `sh cmake/bootstrap.sh windows` what the mingw preset needs: the mingw-w64 cross compiler (posix
# threads) and Wine to run its programs (docs/getting-started.md).
set -eu

packages="g++ cmake make libfmt-dev libboost-dev libgtest-dev libgmock-dev googletest libbenchmark-dev doxygen nlohmann-json3-dev"
for extra in "$@"; do
  case "$extra" in
    clang) packages="$packages clang libclang-rt-dev" ;;
    windows) packages="$packages g++-mingw-w64-x86-64-posix wine64" ;;
    *) echo "irqsim bootstrap: unknown argument '$extra' (known: clang, windows)" >&2; exit 2 ;;
  esac
done

missing=""
for package in $packages; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $package"
  fi
done
[ -z "$missing" ] && exit 0

echo "irqsim bootstrap: installing$missing"
run_as_root=""
[ "$(id -u)" -ne 0 ] && run_as_root="sudo"
export DEBIAN_FRONTEND=noninteractive
$run_as_root apt-get update -q
# shellcheck disable=SC2086 # word splitting of the package list is intended
$run_as_root apt-get install -y -q --no-install-recommends $missing
