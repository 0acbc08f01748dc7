#!/usr/bin/env bash
# The main job of the README's Quick start, through osbd on the embedded osb-runtime: create a
# sandbox, write a script into it, run it with its output streamed, read a file it wrote back out,
# and kill the sandbox. Run from the repository root after building; osbctl starts osbd (and osbd
# the runtime) when none is running.
set -euo pipefail
osbctl=${OSBCTL:-"$(cd "$(dirname "$0")/.." && pwd)/build/bin/osbctl"}

id=$("$osbctl" sandbox create --timeout 300)
trap '"$osbctl" sandbox kill "$id"' EXIT
echo "== sandbox $id"

echo "== write /work/hello.sh"
printf '%s\n' 'echo "hello from $(hostname), pid $$"' 'ps -e' 'echo "to stderr" >&2' \
  'date -u > /work/ran-at.txt' | "$osbctl" file write "$id" /work/hello.sh --mode 755

echo "== run it (stdout and stderr stream as they arrive)"
"$osbctl" command run "$id" -- /work/hello.sh

echo "== read back /work/ran-at.txt"
"$osbctl" file cat "$id" /work/ran-at.txt
echo "== kill the sandbox"
