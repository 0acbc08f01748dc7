#!/usr/bin/env bash
# Runs the conformance suite: osb-runtime driven by the official OpenSandbox SDKs, unchanged.
#
#   OSB_BIN_DIR=build/bin tests/conformance/run.sh WORK_DIR [all | python ARGS | node ARGS]
#
# WORK_DIR holds what is fetched: a virtualenv with the pinned Python SDKs and pytest (made once,
# then reused), and WORK_DIR/node with the pinned JavaScript SDK (npm ci from the lock file,
# redone only when the lock changes) and a copy of the Node tests, so the source tree gets no
# build output. Each test process starts its own osb-runtime from $OSB_BIN_DIR (conftest.py,
# node/runtime.js). ARGS go to pytest or to node --test. Needs python3 with venv and pip,
# node >= 20 and npm. OSB_CONFORMANCE_SKIP_CODE=1 skips the code interpreter tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: run.sh WORK_DIR [all | python ARGS | node ARGS]}
which=${2:-all}
shift $(($# < 2 ? $# : 2))
mkdir -p "$work"
work=$(cd "$work" && pwd)

# The SDK versions this suite was written against (their sources were read to write it).
python_requirements=(opensandbox==1.1.1 opensandbox-code-interpreter==1.1.1 pytest==9.2.0)

run_python() {
  local venv=$work/venv marker=$work/venv/.osb-conformance-deps
  # The marker names what was installed: an interrupted first install, or new pins, start over
  # instead of reusing a broken or stale venv.
  if [[ ! -e $marker || $(cat "$marker") != "${python_requirements[*]}" ]]; then
    python3 -m venv --clear "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "${python_requirements[@]}"
    echo "${python_requirements[*]}" >"$marker"
  fi
  (cd "$here" && PYTHONDONTWRITEBYTECODE=1 \
    "$venv/bin/python" -m pytest -p no:cacheprovider --rootdir "$here" "$@" "$here")
}

run_node() {
  local node_dir=$work/node major
  # The SDK's engines field says node >= 20 (its undici needs it); Debian 12's own nodejs is 18.
  major=$(node -p 'process.versions.node.split(".")[0]')
  if ((major < 20)); then
    # Not a failure of ours: reported as skipped (ctest SKIP_RETURN_CODE), with the reason.
    echo "run.sh: skipped: the JavaScript SDK needs node >= 20, found $(node --version)" >&2
    return 77
  fi
  mkdir -p "$node_dir"
  # npm ci deletes and refetches node_modules; only do that when the lock file changed.
  if ! cmp -s "$here/node/package-lock.json" "$node_dir/package-lock.json" ||
    [[ ! -e $node_dir/node_modules/.package-lock.json ]]; then
    cp "$here/node/package.json" "$here/node/package-lock.json" "$node_dir/"
    (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  rm -rf "$node_dir/test"
  mkdir "$node_dir/test"
  cp "$here"/node/*.js "$node_dir/test/"
  (cd "$node_dir" && node --test "$@" test/*.test.js)
}

case $which in
  python) run_python "$@" ;;
  node) run_node "$@" ;;
  all)
    status=0
    run_python || status=$?
    run_node || status=$?
    exit $status
    ;;
  *)
    echo "run.sh: unknown suite '$which' (python, node or all)" >&2
    exit 2
    ;;
esac
