"""Starts a private stack for the test session, as tests/integration/harness.cc does: osbd on a
temporary socket with a temporary state directory, which starts its embedded osb-runtime on a
free port. Binaries come from $OSB_BIN_DIR. At the end every sandbox is deleted through the
lifecycle API, then osbd and the runtime are stopped and the directory removed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta

import pytest

# The client must talk to this session's osbd and its default service, whatever the caller's
# environment says.
_FOREIGN_ENV = ("OSBD_SOCKET", "OSBD_EMBEDDED_LISTEN", "OPEN_SANDBOX_DOMAIN",
                "OPEN_SANDBOX_API_KEY", "OPEN_SANDBOX_PROTOCOL")


@dataclass
class Stack:
    dir: str
    socket: str
    runtime_address: str
    runtime_api_key: str
    runtime_pid: int

    def runtime_request(self, method: str, path: str):
        request = urllib.request.Request(f"http://{self.runtime_address}{path}", method=method,
                                         headers={"OPEN-SANDBOX-API-KEY": self.runtime_api_key})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None


def _wait_for(path: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.01)
    return False


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    # A zombie has exited: /proc/<pid>/stat says "Z".
    stat = _read(f"/proc/{pid}/stat")
    return bool(stat) and stat.rsplit(")", 1)[1].split()[0] != "Z"


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.01)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def stack():
    bin_dir = os.environ.get("OSB_BIN_DIR")
    if not bin_dir or not os.access(os.path.join(bin_dir, "osbd"), os.X_OK):
        pytest.fail("set OSB_BIN_DIR to the directory holding osbd, osb-runtime and osb-agent")
    directory = tempfile.mkdtemp(prefix="osbt-py-")
    os.chmod(directory, 0o711)  # the sandboxes' unprivileged ids traverse it
    socket = os.path.join(directory, "run", "osbd.sock")
    state = os.path.join(directory, "state")
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
    with open(os.path.join(directory, "osbd.log"), "ab") as log:
        osbd = subprocess.Popen(
            [os.path.join(bin_dir, "osbd"), "--socket", socket, "--state-dir", state,
             "--embedded-listen", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, start_new_session=True)
    ready_path = os.path.join(state, "runtime", "ready.json")
    s = None
    try:
        if not _wait_for(socket, 30) or not _wait_for(ready_path, 5):
            pytest.fail("osbd did not start: " + _read(os.path.join(directory, "osbd.log")) +
                        _read(os.path.join(state, "runtime", "runtime.log")))
        ready = json.loads(_read(ready_path))
        s = Stack(dir=directory, socket=socket, runtime_address=ready["address"],
                  runtime_api_key=_read(os.path.join(state, "runtime", "api-key")).strip(),
                  runtime_pid=ready["pid"])
        saved = {k: os.environ.pop(k) for k in _FOREIGN_ENV if k in os.environ}
        os.environ["OSBD_SOCKET"] = socket  # how ConnectionConfig() finds this osbd
        try:
            yield s
        finally:
            os.environ.pop("OSBD_SOCKET")
            os.environ.update(saved)
    finally:
        if s is not None:
            for item in s.runtime_request("GET", "/v1/sandboxes?pageSize=200")["items"]:
                try:
                    s.runtime_request("DELETE", f"/v1/sandboxes/{item['id']}")
                except urllib.error.HTTPError as e:
                    # osbd may be deleting it too (a pool's idle member): gone is what we want.
                    if e.code != 404:
                        raise
        _stop(osbd.pid)
        osbd.wait()
        if s is not None:
            _stop(s.runtime_pid)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def sandbox(stack):
    """A sandbox on osb-runtime's built-in base, shared by a module's tests (a module may
    define its own)."""
    from osb import Sandbox

    created = Sandbox.create("host", timeout=timedelta(minutes=5))
    yield created
    created.kill()
    created.close()
