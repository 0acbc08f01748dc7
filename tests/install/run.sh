#!/usr/bin/env bash
# Installs the build tree ($1) into a temporary prefix and builds a program against the installed
# SDK twice, with find_package(opensandbox) and with pkg-config; both must link and run (with no
# daemon to talk to, they must say so and exit 3).
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/osb-install-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/opensandbox/opensandbox.h"

check() {  # check <binary>
  local out status=0
  out=$(OSBD_SOCKET="$work/none.sock" "$1" some-id 2>&1) || status=$?
  if [[ $status -ne 3 || $out != *"no osbd answers on $work/none.sock"* ]]; then
    echo "$1: exit $status, output: $out" >&2
    exit 1
  fi
}

cmake -S "$here/consumer" -B "$work/cmake-build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  > "$work/configure.log"
cmake --build "$work/cmake-build" > "$work/build.log"
check "$work/cmake-build/consumer"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
libdir=$(pkg-config --variable=libdir opensandbox)
test -d "$libdir"
# shellcheck disable=SC2046  # pkg-config's flags are meant to split
c++ -std=c++20 "$here/consumer/main.cc" -o "$work/pkg-consumer" $(pkg-config --cflags --libs opensandbox)
check "$work/pkg-consumer"
echo "install: find_package and pkg-config consumers built and ran"
