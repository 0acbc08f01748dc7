"""Property-based API testing of osb-runtime and osb-agent with schemathesis (run.sh runs this).

Starts a private osb-runtime from $OSB_BIN_DIR on a free loopback port and a temporary state
directory (as tests/integration/harness.cc does), then runs schemathesis twice:

1. the official lifecycle spec (specs/sandbox-lifecycle.yml) against http://ADDRESS/v1 with the
   runtime's API key;
2. the official execd spec (specs/execd-api.yaml) against one sandbox's osb-agent, through the
   runtime's proxy prefix and with the access token the endpoint answer carries.

Each run uses the check `not_a_server_error_unless_documented` (hooks.py): no 5xx except the
documented ones listed there, and no event stream that never ends. Network errors (a hang past
the request timeout, a refused or reset connection) fail a run too. After each run the driver
checks that the runtime is still alive (when the lifecycle run crashed it, the execd run gets a
fresh one), and after the execd run that the sandbox still runs and its agent answers /ping. At
the end every sandbox is deleted (or, after a crash, its agent killed and its cgroup removed),
the runtime stopped and its directory removed. Exits 1 when anything failed, after printing what.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
# Verbatim copies of the official OpenSandbox specs (README.md).
SPECS = os.path.join(HERE, "specs")
AGENT_PORT = 44772
TOKEN_HEADER = "X-EXECD-ACCESS-TOKEN"
CGROUP_ROOT = "/sys/fs/cgroup"

# Operations (operationId) left out of the execd run, and why.
EXECD_EXCLUDED = [
    # GET /metrics/watch: a stream of metrics that runs until the client goes away; every request
    # would only end at the request timeout (and be reported as a hang).
    "watchMetrics",
]


def log(message: str) -> None:
    print(f"[schemathesis.api] {message}", flush=True)


class Runtime:
    """A private osb-runtime on its own temporary directory; `request` speaks to its lifecycle
    API with the key; `close` removes everything it made."""

    def __init__(self, bin_dir: str) -> None:
        self.dir = tempfile.mkdtemp(prefix="osbt-st-")
        os.chmod(self.dir, 0o711)  # the sandboxes' unprivileged ids traverse it
        self.api_key = secrets.token_hex(16)
        self.log_path = os.path.join(self.dir, "runtime.log")
        ready = os.path.join(self.dir, "ready.json")
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [os.path.join(bin_dir, "osb-runtime"), "--listen", "127.0.0.1:0",
                 "--state-dir", os.path.join(self.dir, "state"), "--api-key", self.api_key,
                 "--ready-file", ready],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
        deadline = time.monotonic() + 20
        self.address = None
        while self.address is None and time.monotonic() < deadline and self.alive():
            try:
                with open(ready) as f:
                    self.address = json.load(f)["address"]
            except (OSError, ValueError, KeyError):  # not there yet, or half written
                time.sleep(0.02)
        if self.address is None:
            logs = self.logs()
            self.close()
            raise RuntimeError("osb-runtime did not start:\n" + logs)
        log(f"osb-runtime {self.address} (pid {self.process.pid}, {self.dir})")

    def logs(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-5000:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def crash_report(self, during: str) -> list[str]:
        """A failure when the runtime is no longer running."""
        if self.alive():
            return []
        code = self.process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited {code}"
        return [f"osb-runtime {how} during {during} (a crash: the request that caused it is "
                "among the last ones schemathesis lists above)"]

    def request(self, method: str, path: str, body=None, timeout: float = 30):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://{self.address}{path}", data=data, method=method,
            headers={"OPEN-SANDBOX-API-KEY": self.api_key, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def delete_all_sandboxes(self) -> None:
        for _ in range(50):
            items = self.request("GET", "/v1/sandboxes?pageSize=200")["items"]
            if not items:
                return
            for item in items:
                try:
                    self.request("DELETE", f"/v1/sandboxes/{item['id']}")
                except urllib.error.HTTPError as e:
                    if e.code != 404:
                        raise

    def close(self, show_log: bool = False) -> list[str]:
        """Deletes every sandbox, stops the runtime, removes the directory; returns what failed."""
        failures = []
        if self.alive() and self.address is not None:
            try:
                self.delete_all_sandboxes()
            except Exception as e:  # noqa: BLE001 - report it and still clean up
                failures.append(f"cleanup: deleting the sandboxes failed: {e}")
        if self.alive():
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if killed := self._kill_orphaned_sandboxes():
            log(f"killed {killed} sandbox agent(s) that osb-runtime left behind")
        if show_log:
            print(f"---- osb-runtime log ({self.log_path}, tail)\n{self.logs()}", flush=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        return failures

    def _kill_orphaned_sandboxes(self) -> int:
        """Sandboxes outlive a runtime that crashed: kills their agents (found by this runtime's
        directory in their command lines), thawing them first if paused, and removes their
        cgroups. Returns how many agents it killed."""
        needle = (self.dir + "/").encode()
        agents = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if needle in f.read():
                        agents.append(int(entry))
            except OSError:
                continue
        sandboxes = os.path.join(self.dir, "state", "sandboxes")
        ids = os.listdir(sandboxes) if os.path.isdir(sandboxes) else []
        hierarchies = [CGROUP_ROOT] + [  # v2, or the v1 controllers under it
            os.path.join(CGROUP_ROOT, c)
            for c in (os.listdir(CGROUP_ROOT) if os.path.isdir(CGROUP_ROOT) else [])]
        cgroups = [os.path.join(h, "opensandbox", i) for h in hierarchies for i in ids]
        # A paused sandbox's processes are frozen and die only once thawed.
        for cgroup in cgroups:
            for name, value in (("freezer.state", "THAWED"), ("cgroup.freeze", "0")):
                try:
                    with open(os.path.join(cgroup, name), "w") as f:
                        f.write(value)
                except OSError:
                    pass
        for pid in agents:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for cgroup in cgroups:
            for _ in range(40):  # a cgroup can go once its last process has exited
                if not os.path.isdir(cgroup):
                    break
                try:
                    for path, _, _ in os.walk(cgroup, topdown=False):
                        os.rmdir(path)
                except OSError:
                    time.sleep(0.05)
        return len(agents)


def agent_request(endpoint: str, token: str, method: str, path: str, body=None,
                  timeout: float = 30):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://{endpoint}{path}", data=data, method=method,
                                     headers={TOKEN_HEADER: token,
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def seed_scratch(endpoint: str, token: str) -> None:
    """Gives the confined file operations (hooks.py) something to find: the paths the spec's
    examples use, under /tmp/fuzz, and the directories its command examples run in."""
    script = ("set -e; s=/tmp/fuzz; mkdir -p $s/workspace/project/src $s/workspace/temp "
              "/workspace /app; cd $s/workspace; "
              "for f in file.txt temp.txt data.csv old.txt upload.txt project/README.md "
              "project/src/main.py; do printf 'line one\\nline two\\n' > $f; done; "
              "ln -sf file.txt link.txt; echo seeded")
    status, body = agent_request(endpoint, token, "POST", "/command", {"command": script})
    if status != 200 or b"execution_complete" not in body:
        raise RuntimeError(f"seeding the scratch directory failed: {status} {body[:2000]!r}")


def check_sandbox(runtime: Runtime, sandbox_id: str, endpoint: str, token: str) -> list[str]:
    """What is wrong with the execd run's sandbox after the run: not Running, or its agent not
    answering /ping."""
    state = runtime.request("GET", f"/v1/sandboxes/{sandbox_id}")["status"]
    if state.get("state") != "Running":
        return [f"execd: the sandbox is {state} after the run"]
    try:
        status, _ = agent_request(endpoint, token, "GET", "/ping")
    except (urllib.error.URLError, OSError) as e:
        return [f"execd: /ping fails after the run: {e}"]
    return [] if status == 200 else [f"execd: /ping answers {status} after the run"]


def run_schemathesis(args, name: str, spec: str, base_url: str, header: str, examples: int,
                     excluded: list[str], budget: float) -> list[str]:
    """Runs one spec; returns what failed (empty when all passed)."""
    report = os.path.join(args.work, f"{name}.ndjson")
    command = [os.path.join(os.path.dirname(sys.executable), "schemathesis"),
               "--config-file", os.path.join(HERE, "schemathesis.toml"), "run", spec,
               "--url", base_url, "-H", header,
               "--checks", args.checks,
               "--max-examples", str(examples),
               "--workers", str(args.workers),
               "--request-timeout", str(args.request_timeout),
               "--continue-on-failure", "--no-color", "--generation-database", "none",
               "--report", "ndjson", "--report-ndjson-path", report]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    for operation_id in excluded:
        command += ["--exclude-operation-id", operation_id]
    env = dict(os.environ, SCHEMATHESIS_HOOKS=os.path.join(HERE, "hooks.py"))
    budget = max(budget, 1.0)
    log(f"{name}: schemathesis on {base_url}, {examples} examples (at most {budget:.0f} s)")
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=args.work, start_new_session=True)
    try:
        code = process.wait(timeout=budget)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return [f"{name}: schemathesis did not finish within {budget:.0f} s (a hang?)"] + [
            f"{name}: {line}" for line in summarize(report)]
    log(f"{name}: schemathesis exited {code} after {time.monotonic() - started:.0f} s")
    if code == 0:
        return []
    return [f"{name}: {line}" for line in summarize(report)] or [
        f"{name}: schemathesis exited {code} (see its output above)"]


def _text(body) -> str:
    if isinstance(body, dict) and "$base64" in body:
        return base64.b64decode(body["$base64"]).decode(errors="replace")
    return str(body)


def summarize(report: str) -> list[str]:
    """One line per distinct failing check or error in an NDJSON report, with the request and
    the answer."""
    out: list[str] = []
    seen: set = set()
    try:
        with open(report) as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:  # the last line of a run that was stopped
            continue
        if "NonFatalError" in event:
            error = event["NonFatalError"]
            text = f"{error.get('label')}: error {json.dumps(error.get('value'))[:500]}"
            if text not in seen:
                seen.add(text)
                out.append(text)
        if "ScenarioFinished" not in event:
            continue
        recorder = event["ScenarioFinished"]["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                interaction = recorder.get("interactions", {}).get(case_id)
                if check["status"] != "failure" or not interaction:
                    continue
                request, response = interaction["request"], interaction["response"]
                status = response["status_code"] if response else None
                answer = _text(response.get("content")) if response else ""
                key = (recorder["label"], status, answer[:80])
                if key in seen:
                    continue
                seen.add(key)
                failure = check["failure_info"]["failure"]
                out.append(f"{recorder['label']}: {failure['title']} {failure.get('message', '')}"
                           f" | {request['method']} {request['uri'][:300]}"
                           f" body={_text(request.get('body'))[:300]!r}"
                           f" -> {status} {answer[:300]!r}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True, help="directory for the reports")
    # Examples per operation and phase: together about 80 s on an idle 2-core machine. The
    # lifecycle API answers fast, so it gets more.
    parser.add_argument("--lifecycle-examples", type=int, default=300)
    parser.add_argument("--execd-examples", type=int, default=200)
    parser.add_argument("--max-examples", type=int, default=None, help="sets both of the above")
    # One worker: schemathesis's workers are threads, and CPython 3.11 (3.11.7 here) can fail
    # `ast` use in threads with "SystemError: AST constructor recursion depth mismatch"
    # (python/cpython#106905), which schemathesis then reports as an error of the run.
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--request-timeout", type=float, default=20)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--budget", type=float, default=240,
                        help="seconds both schemathesis runs together may take; a run still "
                             "going when they are spent is stopped and counts as a failure")
    parser.add_argument("--only", choices=["lifecycle", "execd"], default=None)
    parser.add_argument("--checks", default="not_a_server_error_unless_documented",
                        help="schemathesis checks to run (add e.g. response_schema_conformance, "
                             "or 'all', to explore spec conformance beyond the gate)")
    args = parser.parse_args()
    bin_dir = os.environ.get("OSB_BIN_DIR", "")
    if not os.access(os.path.join(bin_dir, "osb-runtime"), os.X_OK):
        print("set OSB_BIN_DIR to the directory holding osb-runtime and osb-agent",
              file=sys.stderr)
        return 2
    os.makedirs(args.work, exist_ok=True)
    args.work = os.path.abspath(args.work)

    started = time.monotonic()
    deadline = started + args.budget
    failures: list[str] = []
    runtimes: list[Runtime] = []
    try:
        runtime = Runtime(bin_dir)
        runtimes.append(runtime)
        if args.only in (None, "lifecycle"):
            failures += run_schemathesis(
                args, "lifecycle", os.path.join(SPECS, "sandbox-lifecycle.yml"),
                f"http://{runtime.address}/v1", f"OPEN-SANDBOX-API-KEY: {runtime.api_key}",
                args.max_examples or args.lifecycle_examples, [], deadline - time.monotonic())
            failures += runtime.crash_report("the lifecycle run")

        if args.only in (None, "execd"):
            if runtime.alive():
                runtime.delete_all_sandboxes()
            else:  # the lifecycle run crashed it: the execd run still gets its chance
                runtime = Runtime(bin_dir)
                runtimes.append(runtime)
            # One core and 2 GiB: whatever the generated commands do stays small.
            sandbox = runtime.request("POST", "/v1/sandboxes", {
                "image": {"uri": "debian"}, "entrypoint": ["tail", "-f", "/dev/null"],
                "resourceLimits": {"cpu": "1", "memory": "2Gi"},
                "metadata": {"purpose": "schemathesis-execd"}})
            endpoint = runtime.request(
                "GET", f"/v1/sandboxes/{sandbox['id']}/endpoints/{AGENT_PORT}"
                "?use_server_proxy=true")
            address = endpoint["endpoint"]
            token = endpoint.get("headers", {}).get(TOKEN_HEADER, "")
            seed_scratch(address, token)
            failures += run_schemathesis(
                args, "execd", os.path.join(SPECS, "execd-api.yaml"), f"http://{address}",
                f"{TOKEN_HEADER}: {token}", args.max_examples or args.execd_examples,
                EXECD_EXCLUDED, deadline - time.monotonic())
            failures += runtime.crash_report("the execd run")
            if runtime.alive():
                failures += check_sandbox(runtime, sandbox["id"], address, token)
    except Exception as e:  # noqa: BLE001 - report any setup failure and still clean up
        failures.append(f"driver: {type(e).__name__}: {e}")
    finally:
        for runtime in runtimes:
            failures += runtime.close(show_log=bool(failures))

    log(f"wall time {time.monotonic() - started:.0f} s")
    if failures:
        log(f"{len(failures)} failure(s):")
        for failure in failures:
            print("  - " + failure, flush=True)
        return 1
    log("passed: no undocumented 5xx, no hang, no crash")
    return 0


if __name__ == "__main__":
    sys.exit(main())
