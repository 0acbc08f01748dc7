#!/usr/bin/env bash
# Builds and runs the whole test suite twice: an optimized build with debug info, then an
# AddressSanitizer+UndefinedBehaviorSanitizer build. Run from the repository root, after
# deploy/install-deps.sh. Prints ctest's summary for each.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${OSB_JOBS:-$(nproc)}

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 600

cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DOSB_ASAN=ON
cmake --build build-asan -j "$jobs"
# Not repeated here: proto.buf_lint does not depend on the build; the client tests (Python, Node)
# drive the same osbd and osb-runtime paths as the integration tests, which this pass runs under
# the sanitizers, and would fetch their packages again for this build directory; bench.quick
# checks that every benchmark scenario still reports, and timings of sanitized binaries mean
# nothing.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900 -LE 'proto|clients|bench'
