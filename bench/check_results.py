"""Checks that a bench/run results file reports every metric: each scenario and metric below is
present with numbers or an explicit skipped reason, and none failed. Never judges the numbers.

    python3 bench/check_results.py bench/results/latest.json
"""
import json
import sys

MACHINE = ["cores", "kernel", "cpu_model", "memory_mib"]
RUN = ["date", "mode", "build_type", "git_rev", "machine", "targets"]
SCENARIOS = {
    "tti": [
        "tti.osbd.create", "tti.osbd.first_output", "tti.osbd.cycle",
        "tti.direct.create", "tti.direct.first_output", "tti.direct.cycle", "tti.direct.delete",
        "tti.osbctl.cycle", "tti.curl.cycle",
        "tti.python.long_lived.first_output", "tti.python.long_lived.cycle",
        "tti.python.fresh_process.cycle",
        "tti.js.long_lived.first_output", "tti.js.long_lived.cycle", "tti.js.fresh_process.cycle",
        "tti.cpp_sdk.first_output", "tti.cpp_sdk.cycle",
    ],
    "roundtrip": ["roundtrip.osbd", "roundtrip.direct", "roundtrip.bash_local",
                  "roundtrip.osbd_overhead", "roundtrip.get_osbd", "roundtrip.get_direct",
                  "roundtrip.version_osbd", "roundtrip.version_after_idle",
                  "roundtrip.osbd_run_overhead"],
    "throughput": [f"throughput.{path}.c{n}" for path in ("osbd", "direct") for n in (1, 8, 64)]
    + ["throughput.osbd.idle_connections"],
    "streaming": [
        "streaming.osbd", "streaming.direct", "streaming.curl", "streaming.local_pipe"],
    "files": ["files.osbd.upload", "files.osbd.download", "files.curl.upload",
              "files.curl.download", "files.local_cp",
              "files.osbd_rss_growth", "files.agent_rss_growth"],
    "warm_pool": ["warm_pool.acquire", "warm_pool.osbctl_run", "warm_pool.cold_create"],
    "clients": [f"clients.{load}{figure}" for load in ("c64_get", "processes")
                for figure in ("", ".errors", ".upstream_connections_max", ".connections_opened")],
    "footprint": ["footprint.osbd.idle_rss", "footprint.osbd.load_rss", "footprint.osbd.stream_rss",
                  "footprint.runtime.idle_rss", "footprint.create_at.1", "footprint.create_at.10",
                  "footprint.sandbox.rss", "footprint.sandbox.pss", "footprint.sandbox.machine_memory",
                  "footprint.runtime.loaded_rss"],
}
NUMBERS = ["p50", "p90", "p99"]


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check(report):
    problems = []
    for key in RUN:
        if key not in report:
            problems.append(f"run: no {key}")
    for key in MACHINE:
        if key not in report.get("machine", {}):
            problems.append(f"machine: no {key}")
    if report.get("mode") == "default":
        SCENARIOS["footprint"] += ["footprint.create_at.100", "footprint.create_at.200"]
    scenarios = {s.get("id"): s for s in report.get("scenarios", [])}
    for sid, expected in SCENARIOS.items():
        s = scenarios.get(sid)
        if s is None:
            problems.append(f"scenario {sid}: missing")
            continue
        if expected is None:
            if not s.get("skipped") and not s.get("metrics"):
                problems.append(f"scenario {sid}: neither metrics nor a skipped reason")
            continue
        metrics = {m.get("id"): m for m in s.get("metrics", [])}
        for mid in expected:
            m = metrics.get(mid)
            if m is None:
                problems.append(f"{mid}: missing")
            elif m.get("error"):
                problems.append(f"{mid}: failed: {m['error']}")
            elif m.get("skipped"):
                if not isinstance(m["skipped"], str) or not m["skipped"].strip():
                    problems.append(f"{mid}: empty skipped reason")
            elif not (all(is_number(m.get(k)) for k in NUMBERS) or is_number(m.get("value"))):
                problems.append(f"{mid}: no numbers")
    for t in report.get("targets", []):
        if "result" not in t or "met" not in t:
            problems.append(f"target {t.get('target')}: incomplete")
    return problems


def main():
    if len(sys.argv) != 2:
        print("usage: check_results.py RESULTS.json", file=sys.stderr)
        return 2
    try:
        with open(sys.argv[1], encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        print(f"check_results: cannot read {sys.argv[1]}: {e}", file=sys.stderr)
        return 1
    problems = check(report)
    for p in problems:
        print(f"check_results: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check_results: every metric reported ({sys.argv[1]})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
