"""Starts a private osb-runtime for the test session, as tests/integration/harness.cc does: a
temporary state directory, a random API key and a free loopback port, the binaries from
$OSB_BIN_DIR. The official Python SDK (`opensandbox`, unchanged) is pointed at it through its
ConnectionConfigSync. At the end every sandbox is deleted through the lifecycle API, the runtime
is stopped and the directory removed."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from opensandbox.config import ConnectionConfig, ConnectionConfigSync
from opensandbox.sync import SandboxSync

# The SDK reads these when a ConnectionConfig leaves a field unset; the tests must reach this
# session's runtime whatever the caller's environment says.
_FOREIGN_ENV = ("OPEN_SANDBOX_DOMAIN", "OPEN_SANDBOX_API_KEY", "OPENSANDBOX_SERVER_API_KEY")

# The runtime ignores the image (every sandbox gets the same minimal root over the host's /usr),
# but the SDK and the API require one.
IMAGE = "debian:12"


@dataclass
class Runtime:
    dir: str
    address: str
    api_key: str
    pid: int

    def request(self, method: str, path: str):
        """A raw lifecycle call, for clean-up that must not depend on the SDK under test."""
        request = urllib.request.Request(f"http://{self.address}{path}", method=method,
                                         headers={"OPEN-SANDBOX-API-KEY": self.api_key})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def config(self, **overrides) -> ConnectionConfigSync:
        return ConnectionConfigSync(domain=self.address, api_key=self.api_key, protocol="http",
                                    **overrides)

    def async_config(self, **overrides) -> ConnectionConfig:
        return ConnectionConfig(domain=self.address, api_key=self.api_key, protocol="http",
                                **overrides)

    def log(self) -> str:
        return _read(os.path.join(self.dir, "runtime.log"))


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def runtime():
    bin_dir = os.environ.get("OSB_BIN_DIR")
    if not bin_dir or not os.access(os.path.join(bin_dir, "osb-runtime"), os.X_OK):
        pytest.fail("set OSB_BIN_DIR to the directory holding osb-runtime and osb-agent")
    saved = {k: os.environ.pop(k) for k in _FOREIGN_ENV if k in os.environ}
    directory = tempfile.mkdtemp(prefix="osbt-conf-py-")
    os.chmod(directory, 0o711)  # the sandboxes' unprivileged ids traverse it
    ready = os.path.join(directory, "ready.json")
    api_key = secrets.token_hex(16)
    with open(os.path.join(directory, "runtime.log"), "ab") as log:
        process = subprocess.Popen(
            [os.path.join(bin_dir, "osb-runtime"), "--listen", "127.0.0.1:0",
             "--state-dir", os.path.join(directory, "state"), "--api-key", api_key,
             "--ready-file", ready],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    r = None
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(ready) and time.monotonic() < deadline:
            if process.poll() is not None:
                break
            time.sleep(0.02)
        if not os.path.exists(ready):
            pytest.fail("osb-runtime did not start: " + _read(os.path.join(directory,
                                                                           "runtime.log")))
        r = Runtime(dir=directory, address=json.loads(_read(ready))["address"],
                    api_key=api_key, pid=process.pid)
        yield r
    finally:
        if r is not None:
            for item in r.request("GET", "/v1/sandboxes?pageSize=200")["items"]:
                r.request("DELETE", f"/v1/sandboxes/{item['id']}")
        _stop(process)
        if os.environ.get("OSB_CONFORMANCE_KEEP_LOG"):
            print(_read(os.path.join(directory, "runtime.log")))
        shutil.rmtree(directory, ignore_errors=True)
        os.environ.update(saved)


@pytest.fixture
def label() -> str:
    """A metadata value unique to one test, so list filters see only that test's sandboxes."""
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def create(runtime):
    """SandboxSync.create with this runtime's connection; kills what it made at the end."""
    made: list[SandboxSync] = []

    def _create(**kwargs) -> SandboxSync:
        kwargs.setdefault("connection_config", runtime.config())
        kwargs.setdefault("timeout", timedelta(minutes=10))
        sandbox = SandboxSync.create(IMAGE, **kwargs)
        made.append(sandbox)
        return sandbox

    yield _create
    for sandbox in made:
        try:
            sandbox.kill()
        except Exception:  # already killed by the test
            pass
        sandbox.close()


@pytest.fixture(scope="module")
def sandbox(runtime):
    """One sandbox shared by a module's tests (commands, files): creating one per test would
    only measure creation."""
    s = SandboxSync.create(IMAGE, connection_config=runtime.config(),
                           timeout=timedelta(minutes=30))
    yield s
    try:
        s.kill()
    finally:
        s.close()
