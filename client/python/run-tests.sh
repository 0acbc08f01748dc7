#!/usr/bin/env bash
# Runs the Python client's tests against a private osbd + osb-runtime (tests/conftest.py).
#
#   OSB_BIN_DIR=build/bin client/python/run-tests.sh WORK_DIR [pytest args...]
#
# WORK_DIR holds the virtualenv (made once with grpcio, grpcio-tools, pytest and setuptools from
# PyPI, then reused) and a copy of this package, built and installed fresh on every run so the
# source tree gets no build output. Needs python3 with venv and pip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: run-tests.sh WORK_DIR [pytest args...]}
shift
# Both may be given relative to where the script is called from; it runs pytest from its own
# directory.
mkdir -p "$work"
work=$(cd "$work" && pwd)
if [[ -n ${OSB_BIN_DIR:-} ]]; then OSB_BIN_DIR=$(cd "$OSB_BIN_DIR" && pwd); export OSB_BIN_DIR; fi
venv=$work/venv

# The marker makes an interrupted first install start over instead of leaving a broken venv.
if [[ ! -e $venv/.osb-deps-installed ]]; then
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check grpcio grpcio-tools pytest setuptools
  touch "$venv/.osb-deps-installed"
fi

rm -rf "$work/src"
mkdir -p "$work/src"
cp -r "$here/pyproject.toml" "$here/setup.py" "$here/README.md" "$here/src" "$work/src/"
OSB_PROTO_DIR=$here/../../proto "$venv/bin/pip" install -q --disable-pip-version-check \
  --no-build-isolation --no-deps --force-reinstall "$work/src"

cd "$here"
PYTHONDONTWRITEBYTECODE=1 exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
