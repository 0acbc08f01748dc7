"""Unit tests (no daemon): ConnectionConfig's defaults, the mapping of gRPC statuses and their
google.rpc details to typed exceptions, and what the client checks before sending."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest

from osb import (ConnectionConfig, FailedPreconditionException, HealthCheck,
                 InvalidArgumentException, PermissionDeniedException, PoolEmptyException,
                 ResourceExhaustedException, SandboxException, SandboxInternalException,
                 SandboxNotFoundException, SandboxRateLimitException,
                 SandboxReadyTimeoutException, SandboxTimeoutException,
                 SandboxUnhealthyException, UnauthenticatedException, UnavailableException,
                 UnimplementedException, WriteEntry, default_socket_path)
from osb import _rpc_status, _wire
from osb.exceptions import from_rpc_error


class FakeRpcError(grpc.RpcError):
    """A failed call as grpcio reports it; `trailer` is a grpc-status-details-bin value."""

    def __init__(self, code, details, trailer=None):
        self._code, self._details, self._trailer = code, details, trailer

    def code(self):
        return self._code

    def details(self):
        return self._details

    def trailing_metadata(self):
        if self._trailer is None:
            return ()
        return (("content-type", "application/grpc"),
                (_rpc_status.DETAILS_KEY, self._trailer))


def trailer(status, message, reason="", domain="opensandbox.io", metadata=None,
            retry_after=None, error_info=True, field=None):
    """A google.rpc.Status trailer as osbd sends it (daemon/services/grpc_status.cc)."""
    details = []
    if error_info:
        details.append(_rpc_status.pack(_rpc_status.ErrorInfo(
            reason=reason, domain=domain, metadata=metadata or {})))
    if retry_after is not None:
        details.append(_rpc_status.pack(_rpc_status.RetryInfo(
            retry_delay=_rpc_status.retry_delay(retry_after))))
    if field is not None:
        details.append(_rpc_status.pack(_rpc_status.BadRequest(field_violations=[
            _rpc_status.BadRequest.FieldViolation(field=field, description=message)])))
    return _rpc_status.Status(code=status.value[0], message=message,
                              details=details).SerializeToString()


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
     FailedPreconditionException, "SANDBOX::NOT_RUNNING", "paused", "a-1"),
    (grpc.StatusCode.CANCELLED, "the call was cancelled", SandboxException, "CANCELLED",
     "the call was cancelled", None),
])
def test_status_becomes_a_typed_exception(status, details, cls, code, message, request_id):
    e = from_rpc_error(FakeRpcError(status, details))
    assert type(e) is cls
    assert (e.code, e.error.message, e.request_id, e.status_code) == (
        code, message, request_id, status)
    assert status.name in str(e)


def rpc_error(status, message, **kwargs):
    return FakeRpcError(status, message, trailer(status, message, **kwargs))


def test_rate_limit_carries_retry_after_code_and_request_id():
    message = "RATE_LIMITED: slow down (request id r-429)"
    e = from_rpc_error(rpc_error(
        grpc.StatusCode.RESOURCE_EXHAUSTED, message, reason="RATE_LIMITED",
        metadata={"request_id": "r-429", "http_status": "429"},
        retry_after=timedelta(seconds=7)))
    assert type(e) is SandboxRateLimitException
    assert isinstance(e, ResourceExhaustedException)
    assert (e.code, e.error.message, e.request_id) == ("RATE_LIMITED", "slow down", "r-429")
    assert e.retry_after == timedelta(seconds=7) and e.retry_after_seconds == 7
    assert e.http_status == 429 and e.domain == "opensandbox.io"
    assert e.status_code == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_429_without_retry_after_is_still_rate_limited():
    e = from_rpc_error(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "TOO_MANY: busy",
                                 reason="TOO_MANY", metadata={"http_status": "429"}))
    assert type(e) is SandboxRateLimitException and e.retry_after is None


def test_resource_exhaustion_that_is_no_rate_limit():
    pool = from_rpc_error(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED,
                                    "OSBD::POOL_EMPTY: pool py has no idle sandbox",
                                    reason="OSBD::POOL_EMPTY", domain="osbd.opensandbox.io"))
    assert type(pool) is PoolEmptyException and pool.code == "OSBD::POOL_EMPTY"
    assert pool.error.message == "pool py has no idle sandbox"
    plain = from_rpc_error(FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, "line too long"))
    assert type(plain) is ResourceExhaustedException


def test_unavailable_with_retry_info():
    e = from_rpc_error(rpc_error(grpc.StatusCode.UNAVAILABLE, "UNAVAILABLE: maintenance",
                                 reason="UNAVAILABLE", metadata={"http_status": "503"},
                                 retry_after=timedelta(seconds=30)))
    assert type(e) is UnavailableException
    assert e.retry_after_seconds == 30 and e.http_status == 503


@pytest.mark.parametrize("status, reason, http, cls", [
    (grpc.StatusCode.UNAUTHENTICATED, "INVALID_API_KEY", "401", UnauthenticatedException),
    (grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN", "403", PermissionDeniedException),
    (grpc.StatusCode.FAILED_PRECONDITION, "SANDBOX::NOT_RUNNING", "409",
     FailedPreconditionException),
    (grpc.StatusCode.ALREADY_EXISTS, "FILE_EXISTS", "409", FailedPreconditionException),
    (grpc.StatusCode.INTERNAL, "SANDBOX::INTERNAL", "500", SandboxInternalException),
    (grpc.StatusCode.UNKNOWN, "X", "", SandboxInternalException),
    (grpc.StatusCode.DEADLINE_EXCEEDED, "GATEWAY_TIMEOUT", "504", SandboxTimeoutException),
    (grpc.StatusCode.OUT_OF_RANGE, "RANGE", "416", InvalidArgumentException),
    (grpc.StatusCode.CANCELLED, "", "", SandboxException),
])
def test_every_status_has_its_class_with_code_and_request_id(status, reason, http, cls):
    metadata = {"request_id": "req-1"}
    if http:
        metadata["http_status"] = http
    e = from_rpc_error(rpc_error(status, f"{reason}: it failed (request id req-1)",
                                 reason=reason, metadata=metadata))
    assert type(e) is cls
    assert e.code == (reason or status.name)
    if reason:
        assert e.error.message == "it failed"
    assert e.request_id == "req-1"
    assert e.http_status == (int(http) if http else None)
    assert e.metadata == metadata


def test_ready_timeout_and_unhealthy_come_from_osbds_reasons():
    timeout = from_rpc_error(rpc_error(
        grpc.StatusCode.DEADLINE_EXCEEDED, "OSBD::READY_TIMEOUT: Sandbox health check timed out",
        reason="OSBD::READY_TIMEOUT", domain="osbd.opensandbox.io", metadata={}))
    assert type(timeout) is SandboxReadyTimeoutException
    assert isinstance(timeout, SandboxTimeoutException)
    assert timeout.code == "OSBD::READY_TIMEOUT" and timeout.domain == "osbd.opensandbox.io"
    assert timeout.error.message == "Sandbox health check timed out"
    # A deadline on a call that waited for readiness, even without the reason.
    bare = FakeRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded")
    assert type(from_rpc_error(bare)) is SandboxTimeoutException
    assert type(from_rpc_error(bare, readiness=True)) is SandboxReadyTimeoutException
    unhealthy = from_rpc_error(rpc_error(
        grpc.StatusCode.FAILED_PRECONDITION, "OSBD::SANDBOX_UNHEALTHY: sandbox 1 is Failed: x",
        reason="OSBD::SANDBOX_UNHEALTHY", domain="osbd.opensandbox.io"))
    assert type(unhealthy) is SandboxUnhealthyException
    assert isinstance(unhealthy, FailedPreconditionException)


def test_error_info_wins_over_the_message_and_bad_trailers_are_ignored():
    # The request id and code come from the ErrorInfo even when the message lacks them.
    e = from_rpc_error(rpc_error(grpc.StatusCode.NOT_FOUND, "gone", reason="FILE_NOT_FOUND",
                                 metadata={"request_id": "abc"}))
    assert (type(e), e.code, e.error.message, e.request_id) == (
        SandboxNotFoundException, "FILE_NOT_FOUND", "gone", "abc")
    broken = from_rpc_error(FakeRpcError(grpc.StatusCode.NOT_FOUND,
                                         "SANDBOX::NOT_FOUND: x (request id 9)", b"\xff\x00junk"))
    assert (type(broken), broken.code, broken.request_id) == (
        SandboxNotFoundException, "SANDBOX::NOT_FOUND", "9")
    assert broken.retry_after is None and broken.metadata == {}


def test_a_refused_request_names_its_field():
    # osbd sends a BadRequest alone (no ErrorInfo): the code is the gRPC code's name.
    e = from_rpc_error(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "jobs[1].id is taken",
                                 error_info=False, field="jobs[1].id"))
    assert (type(e), e.code, e.field) == (InvalidArgumentException, "INVALID_ARGUMENT",
                                          "jobs[1].id")
    without = from_rpc_error(rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "bad",
                                       reason="SANDBOX::INVALID"))
    assert without.field == ""
    assert from_rpc_error(FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "bad")).field == ""


@pytest.mark.parametrize("header, expected", [
    (None, (0, 0)), ("bytes=0-1023", (0, 1024)), ("bytes=10-", (10, 0)),
    ("bytes=-5", (-5, 0)), ("bytes=3-3", (3, 1)),
])
def test_range_header_becomes_offset_and_length(header, expected):
    assert _wire.byte_range(header) == expected


@pytest.mark.parametrize("header", ["bytes=5-2", "bytes=-", "lines=1-2", "bytes=-0", "0-9"])
def test_bad_range_header_is_invalid_argument(header):
    with pytest.raises(InvalidArgumentException):
        _wire.byte_range(header)


def test_client_side_checks_of_files_and_health_checks():
    config = ConnectionConfig(socket="/nonexistent")
    with pytest.raises(InvalidArgumentException):
        _wire.write_file_requests(config, "s", "/a", b"x", mode=-1)
    with pytest.raises(InvalidArgumentException):
        _wire.write_entry_requests(config, "s", ("/a", b"x"))
    with pytest.raises(InvalidArgumentException):
        _wire.health_check_proto(HealthCheck(command="true", http_port=80))
    with pytest.raises(InvalidArgumentException):
        _wire.chunk_size_of(0)
    assert list(_wire.rechunk([b"abc", b"defg", b"h"], 3)) == [b"abc", b"def", b"gh"]
    header = next(_wire.write_entry_requests(config, "s", WriteEntry("/a", "é", mode=0o640)))
    assert (header.header.size, header.header.mode) == (2, 0o640)


def test_a_tcp_port_health_check_is_the_protos_tcp_probe_and_exclusive():
    message = _wire.health_check_proto(
        HealthCheck(tcp_port=7001, polling_interval=timedelta(milliseconds=50)))
    assert message.WhichOneof("probe") == "tcp"
    assert message.tcp.port == 7001
    assert message.polling_interval.ToTimedelta() == timedelta(milliseconds=50)
    # Port 0 still reaches osbd as a TCP probe, for osbd to refuse (it checks 1 to 65535).
    assert _wire.health_check_proto(HealthCheck(tcp_port=0)).WhichOneof("probe") == "tcp"
    for check in (HealthCheck(command="true", tcp_port=80),
                  HealthCheck(http_port=80, tcp_port=81),
                  HealthCheck(command="true", http_port=80, tcp_port=81)):
        with pytest.raises(InvalidArgumentException) as caught:
            _wire.health_check_proto(check)
        assert "a command, an HTTP port or a TCP port, not more than one" in str(caught.value)
