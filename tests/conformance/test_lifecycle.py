"""The lifecycle API through the official Python SDK: create with metadata, env and resources,
get, list with filters, renew, pause and resume, endpoints, kill, and unknown ids (COMPAT.md §1,
§3.1)."""

from __future__ import annotations

import asyncio
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from conftest import IMAGE
from opensandbox import Sandbox
from opensandbox.exceptions import SandboxApiException, SandboxException
from opensandbox.models.execd import RunCommandOpts
from opensandbox.models.sandboxes import SandboxFilter
from opensandbox.sync import SandboxManagerSync, SandboxSync


def wait_for_state(get_info, state: str, seconds: float = 20):
    """Pause and resume answer 202 and may pass through Pausing/Resuming first."""
    deadline = time.monotonic() + seconds
    info = get_info()
    while info.status.state != state and time.monotonic() < deadline:
        time.sleep(0.1)
        info = get_info()
    assert info.status.state == state, info.status
    return info


def close_to(when: datetime, expected: datetime, slack: timedelta = timedelta(seconds=30)):
    return abs(when - expected) <= slack


@pytest.fixture
def manager(runtime):
    m = SandboxManagerSync.create(runtime.config())
    yield m
    m.close()


def test_create_applies_metadata_env_and_resources(create, label):
    before = datetime.now(timezone.utc)
    sbx = create(metadata={"suite": "conformance", "case": label},
                 env={"CONF_GREETING": "hello world"},
                 resource={"cpu": "500m", "memory": "256Mi"},
                 timeout=timedelta(minutes=10))

    info = sbx.get_info()
    assert info.id == sbx.id
    assert info.status.state == "Running"
    assert info.metadata is not None
    assert info.metadata["suite"] == "conformance"
    assert info.metadata["case"] == label
    assert info.entrypoint == ["tail", "-f", "/dev/null"]
    assert info.expires_at is not None
    assert close_to(info.expires_at, before + timedelta(minutes=10))
    assert before - timedelta(seconds=5) <= info.created_at <= datetime.now(timezone.utc)

    # The sandbox's env reaches every command.
    run = sbx.commands.run("echo $CONF_GREETING")
    assert [m.text for m in run.logs.stdout] == ["hello world"]

    # execd's metrics report the limits the sandbox was given.
    metrics = sbx.get_metrics()
    assert metrics.cpu_count == pytest.approx(0.5)
    assert metrics.memory_total_in_mib == pytest.approx(256)
    assert 0 < metrics.memory_used_in_mib < 256


def test_manual_cleanup_has_no_expiry(create):
    sbx = create(timeout=None)
    assert sbx.get_info().expires_at is None


def test_patch_metadata_merges(create, label):
    sbx = create(metadata={"case": label, "old": "x"})
    info = sbx.patch_metadata({"old": None, "new": "y"})
    assert info.metadata == {"case": label, "new": "y"}
    assert sbx.get_info().metadata == {"case": label, "new": "y"}


def test_list_filters_by_metadata_and_state(create, manager, label):
    a = create(metadata={"case": label, "role": "a"})
    b = create(metadata={"case": label, "role": "b"})
    b.pause()
    wait_for_state(b.get_info, "Paused")

    def ids(**filter_args) -> set[str]:
        page = manager.list_sandbox_infos(SandboxFilter(**filter_args))
        return {i.id for i in page.sandbox_infos}

    assert ids(metadata={"case": label}) == {a.id, b.id}
    # Several metadata pairs must all match.
    assert ids(metadata={"case": label, "role": "a"}) == {a.id}
    assert ids(metadata={"case": label, "role": "c"}) == set()
    assert ids(metadata={"case": label}, states=["Paused"]) == {b.id}
    assert ids(metadata={"case": label}, states=["Running"]) == {a.id}
    # Several states match any of them.
    assert ids(metadata={"case": label}, states=["Running", "Paused"]) == {a.id, b.id}
    assert ids(metadata={"case": label}, states=["Terminated"]) == set()

    page = manager.list_sandbox_infos(SandboxFilter(metadata={"case": label}, page_size=1))
    assert len(page.sandbox_infos) == 1
    assert page.pagination.total_items == 2
    assert page.pagination.total_pages == 2
    assert page.pagination.has_next_page
    second = manager.list_sandbox_infos(
        SandboxFilter(metadata={"case": label}, page_size=1, page=2))
    assert not second.pagination.has_next_page
    assert {page.sandbox_infos[0].id, second.sandbox_infos[0].id} == {a.id, b.id}

    # The manager's get sees the same record the sandbox does.
    info = manager.get_sandbox_info(b.id)
    assert info.status.state == "Paused"
    assert info.metadata["role"] == "b"


def test_renew_moves_expiry(create, manager):
    sbx = create(timeout=timedelta(minutes=10))
    renewed = sbx.renew(timedelta(minutes=30))
    assert close_to(renewed.expires_at, datetime.now(timezone.utc) + timedelta(minutes=30))
    assert abs(sbx.get_info().expires_at - renewed.expires_at) < timedelta(seconds=1)

    again = manager.renew_sandbox(sbx.id, timedelta(hours=2))
    assert close_to(again.expires_at, datetime.now(timezone.utc) + timedelta(hours=2))
    assert abs(manager.get_sandbox_info(sbx.id).expires_at - again.expires_at) < timedelta(
        seconds=1)


def test_renew_of_manual_cleanup_sandbox_is_rejected(create):
    sbx = create(timeout=None)
    with pytest.raises(SandboxApiException) as e:
        sbx.renew(timedelta(minutes=5))
    assert e.value.status_code == 409


def test_pause_keeps_processes_and_resume_brings_them_back(create, runtime):
    sbx = create()
    started = sbx.commands.run("sleep 600 & echo $!")
    pid = started.logs.stdout[0].text
    sbx.commands.run("echo kept > /tmp/state.txt")

    sbx.pause()
    wait_for_state(sbx.get_info, "Paused")
    # A paused sandbox answers no execd call.
    assert not sbx.is_healthy()
    with pytest.raises(SandboxApiException) as e:
        sbx.pause()
    assert e.value.status_code == 409

    resumed = SandboxSync.resume(sbx.id, connection_config=runtime.config())
    try:
        assert resumed.get_info().status.state == "Running"
        assert resumed.is_healthy()
        check = resumed.commands.run(f"kill -0 {pid} && cat /tmp/state.txt")
        assert check.exit_code == 0
        assert [m.text for m in check.logs.stdout] == ["kept"]
        with pytest.raises(SandboxApiException) as e:
            SandboxSync.resume(sbx.id, connection_config=runtime.config())
        assert e.value.status_code == 409
    finally:
        resumed.close()


def test_manager_pause_and_resume(create, manager):
    sbx = create()
    manager.pause_sandbox(sbx.id)
    wait_for_state(lambda: manager.get_sandbox_info(sbx.id), "Paused")
    manager.resume_sandbox(sbx.id)
    wait_for_state(lambda: manager.get_sandbox_info(sbx.id), "Running")
    assert sbx.commands.run("true").exit_code == 0


def test_endpoints_reach_execd_and_any_sandbox_port(create):
    sbx = create()
    execd = sbx.get_endpoint(44772)
    # COMPAT.md §1.3: no scheme; a path-shaped endpoint ends with the port.
    assert "://" not in execd.endpoint
    assert execd.endpoint.endswith("/44772")
    request = urllib.request.Request(f"http://{execd.endpoint}/ping", headers=execd.headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200

    sbx.files.write_file("/tmp/www/hello.txt", "served from the sandbox\n", mode=644)
    sbx.commands.run("cd /tmp/www && exec python3 -m http.server 8000 --bind 127.0.0.1",
                     opts=RunCommandOpts(background=True))
    web = sbx.get_endpoint(8000)
    assert "://" not in web.endpoint
    assert web.endpoint.endswith("/8000")
    request = urllib.request.Request(f"http://{web.endpoint}/hello.txt", headers=web.headers)
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.read() == b"served from the sandbox\n"
                break
        except OSError:  # the server is not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_kill_removes_the_sandbox(create, manager, label):
    sbx = create(metadata={"case": label})
    sbx.kill()
    with pytest.raises(SandboxApiException) as e:
        manager.get_sandbox_info(sbx.id)
    assert e.value.status_code == 404
    page = manager.list_sandbox_infos(SandboxFilter(metadata={"case": label}))
    assert page.sandbox_infos == []


@pytest.mark.parametrize("operation", ["get", "kill", "pause", "resume", "renew", "patch"])
def test_unknown_id_is_rejected(manager, operation):
    missing = "00000000-0000-4000-8000-000000000000"
    calls = {
        "get": lambda: manager.get_sandbox_info(missing),
        "kill": lambda: manager.kill_sandbox(missing),
        "pause": lambda: manager.pause_sandbox(missing),
        "resume": lambda: manager.resume_sandbox(missing),
        "renew": lambda: manager.renew_sandbox(missing, timedelta(minutes=5)),
        "patch": lambda: manager.patch_sandbox_metadata(missing, {"a": "b"}),
    }
    with pytest.raises(SandboxApiException) as e:
        calls[operation]()
    assert e.value.status_code == 404
    # The server's {"code","message"} body and X-Request-ID reach the exception.
    assert e.value.error.code.endswith("NOT_FOUND")
    assert e.value.request_id


def test_connect_to_unknown_id_fails(runtime):
    with pytest.raises(SandboxException):
        SandboxSync.connect("00000000-0000-4000-8000-000000000000",
                            connection_config=runtime.config(),
                            connect_timeout=timedelta(seconds=5))


def test_connect_reaches_an_existing_sandbox(create, runtime):
    sbx = create()
    sbx.files.write_file("/tmp/mark.txt", "same sandbox")
    other = SandboxSync.connect(sbx.id, connection_config=runtime.config())
    try:
        assert other.files.read_file("/tmp/mark.txt") == "same sandbox"
    finally:
        other.close()


def test_server_proxy_mode(create, runtime):
    """use_server_proxy=True changes what the SDK sends: the endpoint query, the API key on execd
    calls and uploads with Content-Length instead of chunked multipart (COMPAT.md §1.5)."""
    sbx = create(connection_config=runtime.config(use_server_proxy=True))
    assert sbx.get_endpoint(44772).endpoint.endswith("/44772")
    sbx.files.write_file("/tmp/proxied.txt", "through the proxy\n")
    run = sbx.commands.run("cat /tmp/proxied.txt")
    assert [m.text for m in run.logs.stdout] == ["through the proxy"]


def test_async_sdk_round_trip(runtime):
    """The asyncio SDK (opensandbox.Sandbox) has its own adapters; one pass through them."""

    async def scenario():
        sbx = await Sandbox.create(IMAGE, connection_config=runtime.async_config(),
                                   timeout=timedelta(minutes=5), env={"ASYNC": "yes"})
        try:
            run = await sbx.commands.run("echo $ASYNC; exit 5")
            assert [m.text for m in run.logs.stdout] == ["yes"]
            assert run.exit_code == 5
            await sbx.files.write_file("/tmp/async.txt", "async data")
            assert await sbx.files.read_file("/tmp/async.txt") == "async data"
            assert (await sbx.get_info()).status.state == "Running"
            await sbx.kill()
            with pytest.raises(SandboxApiException) as e:
                await sbx.get_info()
            assert e.value.status_code == 404
        finally:
            await sbx.close()

    asyncio.run(scenario())
