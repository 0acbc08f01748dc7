"""Unit tests (no daemon): ConnectionConfig's defaults and the mapping of gRPC statuses."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest

from osb import (ConnectionConfig, InvalidArgumentException, SandboxException,
                 SandboxNotFoundException, UnimplementedException, default_socket_path)
from osb.exceptions import from_rpc_error


class FakeRpcError(grpc.RpcError):
    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


def test_config_reads_socket_domain_and_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("OSBD_SOCKET", "/tmp/x/osbd.sock")
    monkeypatch.setenv("OPEN_SANDBOX_DOMAIN", "sandbox.example.com:8080")
    monkeypatch.setenv("OPEN_SANDBOX_API_KEY", "secret")
    config = ConnectionConfig(request_timeout=timedelta(seconds=5), headers={"X-A": "1"})
    assert config.target == "unix:/tmp/x/osbd.sock"
    proto = config.to_proto()
    assert proto.domain == "sandbox.example.com:8080"
    assert proto.api_key == "secret"
    assert dict(proto.headers) == {"X-A": "1"}
    assert proto.request_timeout.ToTimedelta() == timedelta(seconds=5)


def test_explicit_config_beats_the_environment(monkeypatch):
    monkeypatch.setenv("OPEN_SANDBOX_DOMAIN", "env:1")
    monkeypatch.setenv("OPEN_SANDBOX_API_KEY", "env-key")
    proto = ConnectionConfig(domain="", api_key="").to_proto()
    assert proto.domain == "" and proto.api_key == ""
    assert not proto.HasField("request_timeout")


def test_default_socket_path_follows_osbd(monkeypatch):
    monkeypatch.delenv("OSBD_SOCKET", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/7")
    assert default_socket_path() == "/run/user/7/opensandbox/osbd.sock"
    assert ConnectionConfig().socket == "/run/user/7/opensandbox/osbd.sock"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    import os
    expected = ("/run/opensandbox/osbd.sock" if os.geteuid() == 0
                else f"/tmp/opensandbox-{os.geteuid()}/osbd.sock")
    assert default_socket_path() == expected


@pytest.mark.parametrize("status, details, cls, code, message, request_id", [
    (grpc.StatusCode.NOT_FOUND, "SANDBOX::NOT_FOUND: sandbox 42 not found (request id 9f2c)",
     SandboxNotFoundException, "SANDBOX::NOT_FOUND", "sandbox 42 not found", "9f2c"),
    (grpc.StatusCode.INVALID_ARGUMENT, "timeout must be at least 60 s, got -5 s",
     InvalidArgumentException, "INVALID_ARGUMENT", "timeout must be at least 60 s, got -5 s",
     None),
    (grpc.StatusCode.UNIMPLEMENTED, "", UnimplementedException, "UNIMPLEMENTED",
     "UNIMPLEMENTED", None),
    (grpc.StatusCode.FAILED_PRECONDITION, "SANDBOX::NOT_RUNNING: paused (request id a-1)",
     SandboxException, "SANDBOX::NOT_RUNNING", "paused", "a-1"),
])
def test_status_becomes_a_typed_exception(status, details, cls, code, message, request_id):
    e = from_rpc_error(FakeRpcError(status, details))
    assert type(e) is cls
    assert (e.code, e.error.message, e.request_id, e.status_code) == (
        code, message, request_id, status)
    assert status.name in str(e)
