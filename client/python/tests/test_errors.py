"""End-to-end tests of the typed exceptions: conditions produced with the real osbd and
osb-runtime, checked for their class, OpenSandbox code, request id and the ErrorInfo details."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import grpc
import pytest

from osb import (AsyncSandbox, AsyncSandboxManager, ConnectionConfig,
                 FailedPreconditionException, HealthCheck, InvalidArgumentException,
                 PoolEmptyException, PoolManager, Sandbox, SandboxFilter, SandboxManager,
                 SandboxNotFoundException, SandboxReadyTimeoutException, TemplateManager,
                 UnauthenticatedException, UnavailableException)

IMAGE = "host"


def wait_for_state(sandbox, state, seconds=10):
    deadline = time.monotonic() + seconds
    while sandbox.get_info().status.state != state and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.get_info().status.state == state


def test_not_found_carries_the_error_info(stack):
    with SandboxManager.create() as manager, \
            pytest.raises(SandboxNotFoundException) as caught:
        manager.get_sandbox_info("no-such-sandbox")
    e = caught.value
    assert e.status_code == grpc.StatusCode.NOT_FOUND
    assert e.code == "SANDBOX::NOT_FOUND"
    assert "no-such-sandbox" in e.error.message and "request id" not in e.error.message
    assert e.request_id and e.metadata["request_id"] == e.request_id
    assert e.http_status == 404
    assert e.domain == "opensandbox.io"


def test_invalid_argument_from_osbd_and_from_the_service(stack):
    with pytest.raises(InvalidArgumentException) as caught:
        Sandbox.create(IMAGE, timeout=timedelta(seconds=-5))
    assert caught.value.code == "INVALID_ARGUMENT" and caught.value.request_id is None
    with Sandbox.create(IMAGE) as sandbox:
        try:
            with pytest.raises(InvalidArgumentException) as caught:
                sandbox.files.list_directory("/etc/hostname")  # not a directory
            assert caught.value.status_code == grpc.StatusCode.INVALID_ARGUMENT
        finally:
            sandbox.kill()


def test_a_failing_health_check_is_a_ready_timeout_and_the_sandbox_is_deleted(stack):
    tag = uuid.uuid4().hex[:12]
    started = time.monotonic()
    with pytest.raises(SandboxReadyTimeoutException) as caught:
        Sandbox.create(IMAGE, metadata={"run": tag}, ready_timeout=timedelta(seconds=1),
                       health_check=HealthCheck(command="exit 1",
                                                polling_interval=timedelta(milliseconds=50)))
    assert time.monotonic() - started < 15
    e = caught.value
    assert e.status_code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert e.code == "OSBD::READY_TIMEOUT" and e.domain == "osbd.opensandbox.io"
    assert "attempts" in e.error.message
    with SandboxManager.create() as manager:
        deadline = time.monotonic() + 10
        while (manager.list_sandbox_infos(SandboxFilter(metadata={"run": tag})).sandbox_infos
               and time.monotonic() < deadline):
            time.sleep(0.1)
        assert manager.list_sandbox_infos(SandboxFilter(metadata={"run": tag})).sandbox_infos == []


def test_a_passing_health_check_makes_the_sandbox_ready(stack):
    with Sandbox.create(IMAGE, health_check=HealthCheck(command="test -d /tmp")) as sandbox:
        assert sandbox.get_info().status.state == "Running"
        sandbox.kill()


def test_a_tcp_port_health_check_waits_for_a_listening_socket(stack):
    # Not HTTP: the probe asks only that something listens on the port inside the sandbox.
    listen = ("import socket, time; s = socket.socket(); "
              "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
              "s.bind(('0.0.0.0', 7011)); s.listen(); time.sleep(3600)")
    started = time.monotonic()
    with Sandbox.create(IMAGE, entrypoint=["bash", "-c", f'sleep 1; exec python3 -c "{listen}"'],
                        health_check=HealthCheck(
                            tcp_port=7011, polling_interval=timedelta(milliseconds=50))
                        ) as sandbox:
        try:
            assert time.monotonic() - started >= 1  # ready only once the port listens
            assert sandbox.get_info().status.state == "Running"
            assert sandbox.commands.run("exec 3<>/dev/tcp/127.0.0.1/7011").exit_code == 0
        finally:
            sandbox.kill()


def test_a_tcp_port_out_of_range_is_refused_by_osbd(stack):
    for port in (0, 65536):
        with pytest.raises(InvalidArgumentException) as caught:
            Sandbox.create(IMAGE, health_check=HealthCheck(tcp_port=port))
        assert caught.value.status_code == grpc.StatusCode.INVALID_ARGUMENT
        assert "health_check.tcp.port" in caught.value.error.message


def test_renewing_a_manual_cleanup_sandbox_is_a_failed_precondition(stack):
    with Sandbox.create(IMAGE, timeout=None) as sandbox:
        try:
            assert sandbox.get_info().expires_at is None
            with pytest.raises(FailedPreconditionException) as caught:
                sandbox.renew(timedelta(hours=1))
            e = caught.value
            assert e.status_code == grpc.StatusCode.FAILED_PRECONDITION
            assert e.code == "DOCKER::INVALID_EXPIRATION"
            assert "manual cleanup" in e.error.message
            assert e.http_status == 409 and e.request_id
        finally:
            sandbox.kill()


def test_pausing_twice_and_resuming_a_running_sandbox_conflict(stack):
    with Sandbox.create(IMAGE) as sandbox:
        try:
            with pytest.raises(FailedPreconditionException) as caught:
                sandbox.resume()
            assert caught.value.code == "SANDBOX::NOT_PAUSED"
            sandbox.pause()
            wait_for_state(sandbox, "Paused")
            with pytest.raises(FailedPreconditionException) as caught:
                sandbox.pause()
            assert caught.value.code == "SANDBOX::NOT_RUNNING"
            assert "Paused" in caught.value.error.message
            assert caught.value.request_id
        finally:
            sandbox.kill()


def test_a_wrong_api_key_is_unauthenticated(stack):
    config = ConnectionConfig(api_key="not-the-key")
    with SandboxManager.create(config) as manager, \
            pytest.raises(UnauthenticatedException) as caught:
        manager.list_sandbox_infos()
    e = caught.value
    assert e.status_code == grpc.StatusCode.UNAUTHENTICATED
    assert e.code == "INVALID_API_KEY" and e.http_status == 401


def test_no_daemon_is_an_unavailable_exception(tmp_path):
    config = ConnectionConfig(socket=str(tmp_path / "none.sock"))
    with SandboxManager.create(config) as manager, \
            pytest.raises(UnavailableException) as caught:
        manager.list_sandbox_infos()
    assert caught.value.code == "UNAVAILABLE"


def test_an_empty_pool_with_fail_fast_is_pool_empty(stack):
    name = "empty-" + uuid.uuid4().hex[:8]
    templates, pools = TemplateManager.create(), PoolManager.create()
    templates.define(name, image=IMAGE)
    try:
        pools.define(name, template=name, min_idle=0)
        with pytest.raises(PoolEmptyException) as caught:
            pools.acquire(name, fail_fast=True)
        assert caught.value.code == "OSBD::POOL_EMPTY"
    finally:
        pools.delete(name)
        templates.delete(name)
        pools.close()
        templates.close()


def test_async_errors_are_typed_the_same(stack):
    async def scenario():
        with pytest.raises(SandboxReadyTimeoutException) as caught:
            await AsyncSandbox.create(IMAGE, ready_timeout=timedelta(seconds=1),
                                      health_check=HealthCheck(command="false"))
        assert caught.value.code == "OSBD::READY_TIMEOUT"
        async with await AsyncSandbox.create(IMAGE, timeout=None) as sandbox:
            try:
                with pytest.raises(FailedPreconditionException) as caught:
                    await sandbox.renew(timedelta(hours=1))
                assert caught.value.request_id and caught.value.http_status == 409
            finally:
                await sandbox.kill()
        async with AsyncSandboxManager.create(ConnectionConfig(api_key="wrong")) as manager:
            with pytest.raises(UnauthenticatedException) as caught:
                await manager.get_sandbox_info("any")
            assert caught.value.code == "INVALID_API_KEY"

    asyncio.run(scenario())
