#!/usr/bin/env bash
# Installs every Debian package that building, testing and running OpenSandbox-C++ need.
# Idempotent and non-interactive: packages already present are skipped by apt. Packages from npm
# and PyPI are not installed here: the tests that use them fetch them (buf is cached under the
# repository's .cache/, the clients' dependencies under client/node and the build directory).
set -euo pipefail

packages=(
  # toolchain; clang and its compiler-rt for the libFuzzer targets (tests/fuzz)
  build-essential cmake ninja-build ccache pkg-config git clang libclang-rt-14-dev
  # required libraries
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libcurl4-openssl-dev nlohmann-json3-dev libgtest-dev libgmock-dev
  # libraries the design adds
  libcpp-httplib-dev libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libyaml-cpp-dev
  libseccomp-dev libsystemd-dev libbenchmark-dev libssl-dev
  # runtime: namespaces, user-mode networking, process tools used by tests
  passt uidmap iproute2 procps util-linux curl ca-certificates
  # tests: a static bash is the whole of the tiny image rootfs runtime_images_test makes
  bash-static
  # tests: an HTTP/2 TLS front for osb-runtime (osbd_http2_test) and the certificate it uses
  nghttp2-proxy openssl
  # tests: buf lint runs through npx; the Node client's tests use npm, the Python client's a
  # virtualenv with grpcio from PyPI
  nodejs npm python3 python3-venv python3-pip
  # bench/run: charts
  gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm may come from outside Debian (nodesource, nvm); a working `npm` is enough.
if command -v npm >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do [[ "$p" == nodejs || "$p" == npm ]] || filtered+=("$p"); done
  missing=("${filtered[@]}")
fi

if ((${#missing[@]})); then
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
echo "install-deps: all packages present"
