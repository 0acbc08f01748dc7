#!/usr/bin/env bash
# osbd's upstream traffic checked against the official lifecycle and execd specs by two Prism
# validating proxies (tests/prism/README.md):
#
#   osbctl-like gRPC workload -> osbd -> lifecycle tap -> Prism --errors (lifecycle) -> osb-runtime
#                                   \-> execd tap -> Prism --errors (execd) -> stream tap
#                                          -> osb-runtime's proxy -> the sandbox's execd
#
#   OSB_BIN_DIR=build/bin tests/prism/run.sh WORK_DIR
#
# WORK_DIR/node holds the pinned Prism and gRPC packages (npm ci from the lock file, redone only
# when the lock changes) and a copy of the scripts, so the source tree gets no build output.
# Everything else (osb-runtime's and osbd's state, sockets, logs) lives in a temporary directory
# that is removed on exit, after every sandbox is deleted and every process started here is
# stopped. Exits 1 when the workload fails or Prism flags anything (check.js), 77 (skipped) when
# node is too old for Prism. Needs node >= 18.20.1 and npm, and root (sandboxes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${1:?usage: run.sh WORK_DIR}
bin=${OSB_BIN_DIR:?OSB_BIN_DIR must name the directory with osbd and osb-runtime}
mkdir -p "$work"
work=$(cd "$work" && pwd)
bin=$(cd "$bin" && pwd)

# Prism 5.14.2's engines field says node >= 18.20.1 (later Prism releases want node 24).
if ! node -e 'const [a, b, c] = process.versions.node.split(".").map(Number);
              process.exit(a > 18 || (a === 18 && (b > 20 || (b === 20 && c >= 1))) ? 0 : 1)'; then
  echo "run.sh: skipped: Prism needs node >= 18.20.1, found $(node --version)" >&2
  exit 77
fi

node_dir=$work/node
mkdir -p "$node_dir"
# npm ci deletes and refetches node_modules; only do that when the lock file changed.
if ! cmp -s "$here/package-lock.json" "$node_dir/package-lock.json" ||
  [[ ! -e $node_dir/node_modules/.package-lock.json ]]; then
  cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
rm -rf "$node_dir/scripts"
mkdir "$node_dir/scripts"
cp "$here"/{spec,tap,workload,check}.js "$node_dir/scripts/"
scripts=$node_dir/scripts
export NO_COLOR=1 FORCE_COLOR=0

tmp=$(mktemp -d "${TMPDIR:-/tmp}/osb-prism.XXXXXX")
# Sandboxes (unprivileged ids) must traverse it to reach the runtime's state directory.
chmod 0711 "$tmp"
api_key=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
runtime_pid='' osbd_pid='' workload_pid='' runtime_address=''
tap_pids=() prism_pids=()
# Events of GET /metrics/watch the stream tap lets through before it ends the stream (tap.js).
watch_events=2

# SIGTERM, then SIGKILL after 5 s; only the processes this script started.
stop() {
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop "$workload_pid"
  stop "$osbd_pid"
  if [[ -n $runtime_address ]]; then
    # Sandboxes outlive the runtime: delete whatever is left before stopping it.
    node -e '
      const [address, key] = process.argv.slice(1);
      const headers = { "OPEN-SANDBOX-API-KEY": key };
      const base = `http://${address}/v1/sandboxes`;
      (async () => {
        const list = await (await fetch(`${base}?pageSize=200`, { headers })).json();
        for (const { id } of list.items ?? []) {
          await fetch(`${base}/${id}`, { method: "DELETE", headers });
        }
      })().catch((e) => console.error(`run.sh: cleanup: ${e}`));' \
      "$runtime_address" "$api_key" || true
  fi
  local pid
  for pid in "${tap_pids[@]}" "${prism_pids[@]}"; do stop "$pid"; done
  stop "$runtime_pid"
  if ((status != 0)); then
    for log in osbd.log runtime.log lifecycle-tap.log execd-tap.log stream-tap.log; do
      [[ -s $tmp/$log ]] && { echo "---- $log (last 40 lines)"; tail -n 40 "$tmp/$log"; }
    done
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# wait_for WHAT SECONDS PID TEST...: polls TEST every 0.1 s while PID lives.
wait_for() {
  local what=$1 seconds=$2 pid=$3
  shift 3
  for _ in $(seq $((seconds * 10))); do
    "$@" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run.sh: $what exited while starting" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "run.sh: $what did not start within $seconds s" >&2
  return 1
}

started=$SECONDS
"$bin/osb-runtime" --listen 127.0.0.1:0 --state-dir "$tmp/runtime" --api-key "$api_key" \
  --ready-file "$tmp/runtime.ready" >"$tmp/runtime.log" 2>&1 &
runtime_pid=$!
wait_for osb-runtime 20 "$runtime_pid" test -s "$tmp/runtime.ready"
runtime_address=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1])).address' \
  "$tmp/runtime.ready")

# Two Prism proxies, each with its official spec (spec.js): the lifecycle chain
#   osbd -> lifecycle tap -> Prism (lifecycle spec) -> osb-runtime
# and the execd chain, which the lifecycle tap's rewritten endpoints point osbd at
#   osbd -> execd tap -> Prism (execd spec under /sandboxes/{id}/proxy/{port}) -> stream tap
#        -> osb-runtime's proxy -> the sandbox's execd
# (the stream tap ends the endless GET /metrics/watch after a few events, so Prism can judge it).
node "$scripts/spec.js" lifecycle "$repo/tests/schemathesis/specs/sandbox-lifecycle.yml" \
  "$tmp/lifecycle-spec.json"
node "$scripts/spec.js" execd "$repo/tests/schemathesis/specs/execd-api.yaml" \
  "$tmp/execd-spec.json"

# start_tap NAME UPSTREAM [OPTION VALUE]...: a tap recording to NAME.ndjson; sets tap_address.
start_tap() {
  local name=$1 upstream=$2
  shift 2
  : >"$tmp/$name.ndjson"
  node "$scripts/tap.js" "$upstream" "$tmp/$name.ndjson" "$tmp/$name.port" "$@" \
    >"$tmp/$name-tap.log" 2>&1 &
  tap_pids+=($!)
  wait_for "$name tap" 10 $! test -s "$tmp/$name.port"
  tap_address=127.0.0.1:$(cat "$tmp/$name.port")
}

# start_prism NAME SPEC UPSTREAM: Prism's proxy logging to NAME-prism.log; sets prism_address.
start_prism() {
  local name=$1 spec=$2 upstream=$3
  node "$node_dir/node_modules/@stoplight/prism-cli/dist/index.js" proxy "$spec" \
    "http://$upstream" --errors --host 127.0.0.1 --port 0 >"$tmp/$name-prism.log" 2>&1 &
  prism_pids+=($!)
  prism_listening() { grep -q 'Prism is listening on http://' "$tmp/$name-prism.log"; }
  if ! wait_for "$name Prism" 60 $! prism_listening; then
    cat "$tmp/$name-prism.log" >&2
    exit 1
  fi
  prism_address=$(grep -o 'Prism is listening on http://[0-9.]*:[0-9]*' \
    "$tmp/$name-prism.log" | sed 's|.*http://||')
}

start_tap stream "$runtime_address" --end-streams "/metrics/watch=$watch_events"
start_prism execd "$tmp/execd-spec.json" "$tap_address"
execd_prism=$prism_address
start_tap execd "$execd_prism"
execd_tap=$tap_address
start_prism lifecycle "$tmp/lifecycle-spec.json" "$runtime_address"
lifecycle_prism=$prism_address
start_tap lifecycle "$lifecycle_prism" --endpoints "$runtime_address=$execd_tap"
lifecycle_tap=$tap_address

# An empty config file: no /etc/opensandbox/osbd.toml or OSBD_CONFIG of this machine applies.
: >"$tmp/osbd.toml"
env -u OPEN_SANDBOX_DOMAIN -u OPEN_SANDBOX_API_KEY -u OPEN_SANDBOX_PROTOCOL -u OSBD_SOCKET \
  "$bin/osbd" --config "$tmp/osbd.toml" --socket "$tmp/osbd.sock" --state-dir "$tmp/osbd" \
  --domain "$lifecycle_tap" --api-key "$api_key" >"$tmp/osbd.log" 2>&1 &
osbd_pid=$!
wait_for osbd 30 "$osbd_pid" test -S "$tmp/osbd.sock"
echo "run.sh: osb-runtime $runtime_address, Prism $lifecycle_prism (lifecycle)" \
  "and $execd_prism (execd), osbd $tmp/osbd.sock (started in $((SECONDS - started)) s)"

status=0
# In the background: a signal to this script interrupts `wait` at once (and cleanup stops it).
timeout 300 node "$scripts/workload.js" "$tmp/osbd.sock" "$repo/proto" &
workload_pid=$!
wait "$workload_pid" || status=1
workload_pid=''
node "$scripts/check.js" lifecycle "$tmp/lifecycle-spec.json" "$tmp/lifecycle.ndjson" \
  "$tmp/lifecycle-prism.log" || status=1
node "$scripts/check.js" execd "$tmp/execd-spec.json" "$tmp/execd.ndjson" \
  "$tmp/execd-prism.log" "$tmp/stream.ndjson" || status=1
echo "run.sh: $([[ $status == 0 ]] && echo passed || echo FAILED) in $((SECONDS - started)) s"
exit $status
