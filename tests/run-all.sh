#!/usr/bin/env bash
# Builds and runs the whole test suite twice: an optimized build with debug info, then an
# AddressSanitizer+UndefinedBehaviorSanitizer build; then builds the libFuzzer targets with clang
# and fuzzes each for a bounded time (OSB_FUZZ_SECONDS, default 60). Run from the repository
# root, after deploy/install-deps.sh. Prints ctest's summary for each pass.
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
# nothing; the conformance suite (the official SDKs against osb-runtime) drives the same
# osb-runtime and osb-agent routes as the integration tests run here, and would fetch the SDKs
# again for this build directory; the schemathesis run's example counts and time budget are sized
# for optimized binaries, and it would fetch schemathesis again for this build directory; the
# Prism run checks what osbd and osb-runtime send each other against the spec, which sanitizers
# do not change, and would fetch Prism again for this build directory.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900 \
  -LE 'proto|clients|bench|conformance|schemathesis|prism'

# The parsers that take bytes from the network, fuzzed from the committed seeds (tests/fuzz).
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DOSB_FUZZ=ON -DOSB_BUILD_TESTS=OFF
cmake --build build-fuzz -j "$jobs" --target osb_fuzz_targets
bash tests/fuzz/run.sh build-fuzz/bin build-fuzz/fuzz-work "${OSB_FUZZ_SECONDS:-60}"
