#!/usr/bin/env bash
# Property-based API testing of osb-runtime and osb-agent with schemathesis (driver.py).
#
#   OSB_BIN_DIR=build/bin tests/schemathesis/run.sh WORK_DIR [driver args...]
#
# WORK_DIR holds a virtualenv with the pinned schemathesis (made once, then reused) and the
# NDJSON reports of the last run. The driver starts its own osb-runtime from $OSB_BIN_DIR and
# removes everything it made. Extra arguments go to driver.py (--max-examples N, --seed N,
# --only lifecycle|execd, ...). Needs python3 with venv and pip.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: run.sh WORK_DIR [driver args...]}
shift
mkdir -p "$work"
work=$(cd "$work" && pwd)

# The version the hooks were written against (they use its check and hook APIs).
requirements=(schemathesis==4.32.5)

venv=$work/venv marker=$work/venv/.osb-schemathesis-deps
# The marker names what was installed: an interrupted first install, or new pins, start over
# instead of reusing a broken or stale venv.
if [[ ! -e $marker || $(cat "$marker") != "${requirements[*]}" ]]; then
  python3 -m venv --clear "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "${requirements[@]}"
  echo "${requirements[*]}" >"$marker"
fi

PYTHONDONTWRITEBYTECODE=1 exec "$venv/bin/python" "$here/driver.py" --work "$work" "$@"
