#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a bounded time each, from the committed seeds
# (tests/fuzz/seeds/<target>) plus what earlier runs found (the corpus under WORK_DIR). Fails on
# the first crash, leak, sanitizer report or broken property; libFuzzer prints the input.
#
#   bash tests/fuzz/run.sh BIN_DIR WORK_DIR [SECONDS_PER_TARGET]   (default 60)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: run.sh BIN_DIR WORK_DIR [SECONDS]}
work=${2:?usage: run.sh BIN_DIR WORK_DIR [SECONDS]}
seconds=${3:-60}
for target in fuzz_json_requests fuzz_sse_events fuzz_http_fields; do
  corpus=$work/corpus/$target
  mkdir -p "$corpus" "$work/artifacts"
  echo "fuzz: $target for ${seconds}s"
  # -max_len: requests past a few KiB add nothing the parsers have not seen; -timeout: a single
  # input taking a second is a hang.
  log=$work/$target.log
  if ! "$bin/$target" -max_total_time="$seconds" -max_len=4096 -timeout=1 -rss_limit_mb=2048 \
      -artifact_prefix="$work/artifacts/$target-" -print_final_stats=1 \
      "$corpus" "$here/seeds/$target" > "$log" 2>&1; then
    tail -n 60 "$log" >&2
    echo "fuzz: $target found a failure; the input is under $work/artifacts" >&2
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
done
echo "fuzz: every target ran ${seconds}s without a finding"
