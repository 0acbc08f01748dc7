#!/usr/bin/env bash
# Runs the Node client's tests against a private osbd + osb-runtime (test/stack.js).
#
#   OSB_BIN_DIR=build/bin client/node/run-tests.sh
#
# Installs the locked dependencies into client/node/node_modules first (npm ci; skipped when
# node_modules already matches package-lock.json). Needs node >= 18 and npm.
set -euo pipefail
# OSB_BIN_DIR may be relative to where the script is called from; the tests run from here.
if [[ -n ${OSB_BIN_DIR:-} ]]; then OSB_BIN_DIR=$(cd "$OSB_BIN_DIR" && pwd); export OSB_BIN_DIR; fi
cd "$(dirname "$0")"
# npm ci deletes and refetches node_modules; only do that when the lock file changed since.
if [[ ! -e node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
exec node --test test/*.test.js
