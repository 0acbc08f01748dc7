"""End-to-end tests of the synchronous client against a real osbd and osb-runtime."""

from __future__ import annotations

import re
import time
import uuid
from datetime import timedelta

import grpc
import pytest

from osb import (ConnectionConfig, ExecutionHandlers, InvalidArgumentException, PoolManager,
                 RunCommandOpts, Sandbox, SandboxException, SandboxFilter, SandboxManager,
                 SandboxNotFoundException, TemplateManager)

IMAGE = "host"  # osb-runtime's built-in base


@pytest.fixture(scope="module")
def sandbox(stack):
    sandbox = Sandbox.create(IMAGE, timeout=timedelta(minutes=5), env={"GREETING": "hi"},
                             metadata={"suite": "python-sync"})
    yield sandbox
    sandbox.kill()
    sandbox.close()


def recording_handlers(events):
    return ExecutionHandlers(
        on_init=lambda init: events.append(("init", init.id)),
        on_stdout=lambda m: events.append(("stdout", m.text)),
        on_stderr=lambda m: events.append(("stderr", m.text)),
        on_execution_complete=lambda c: events.append(("complete", None)),
        on_error=lambda e: events.append(("error", e.value)))


def test_run_collects_output_and_exit_code_and_calls_handlers_in_order(sandbox):
    events = []
    execution = sandbox.commands.run("echo hello; echo err >&2; exit 3",
                                     handlers=recording_handlers(events))

    assert re.fullmatch(r"[0-9a-f]{32}", execution.id)
    assert [m.text for m in execution.logs.stdout] == ["hello"]
    assert [m.text for m in execution.logs.stderr] == ["err"]
    assert not execution.logs.stdout[0].is_error and execution.logs.stderr[0].is_error
    assert execution.logs.stdout[0].timestamp > time.time() * 1000 - 60_000
    assert execution.exit_code == 3
    assert execution.error.name == "CommandExecError" and execution.error.value == "3"
    assert execution.complete is None
    # init first, the terminal event last; the two lines come from two pipes, in either order.
    assert events[0] == ("init", execution.id)
    assert sorted(events[1:3]) == [("stderr", "err"), ("stdout", "hello")]
    assert events[3:] == [("error", "3")]


def test_successful_run_completes_with_options_and_sandbox_env(sandbox):
    events = []
    execution = sandbox.commands.run(
        'pwd; echo "$GREETING $EXTRA"',
        opts=RunCommandOpts(working_directory="/tmp", envs={"EXTRA": "there"}),
        handlers=recording_handlers(events))

    assert [m.text for m in execution.logs.stdout] == ["/tmp", "hi there"]
    assert execution.exit_code == 0
    assert execution.error is None
    assert execution.complete.execution_time_in_millis >= 0
    assert [kind for kind, _ in events] == ["init", "stdout", "stdout", "complete"]


def test_handler_exception_aborts_the_run(sandbox):
    def fail(_):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        sandbox.commands.run("echo one; echo two", handlers=ExecutionHandlers(on_stdout=fail))


def test_get_info_reports_running_with_metadata_and_ttl(sandbox):
    info = sandbox.get_info()
    assert info.id == sandbox.id
    assert info.status.state == "Running"
    assert info.metadata == {"suite": "python-sync"}
    assert info.image == IMAGE
    assert abs((info.expires_at - info.created_at) - timedelta(minutes=5)) < timedelta(seconds=5)


def test_connect_reaches_an_existing_sandbox(sandbox):
    with Sandbox.connect(sandbox.id) as again:
        assert again.commands.run("echo $GREETING").logs.stdout[0].text == "hi"


def test_pause_and_resume(stack):
    with Sandbox.create(IMAGE) as sandbox:
        sandbox.pause()
        deadline = time.monotonic() + 10
        while sandbox.get_info().status.state != "Paused" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sandbox.get_info().status.state == "Paused"
        sandbox.resume()
        assert sandbox.get_info().status.state == "Running"
        assert sandbox.commands.run("echo back").logs.stdout[0].text == "back"
        sandbox.kill()


def test_kill_then_get_raises_not_found(stack):
    sandbox = Sandbox.create(IMAGE)
    sandbox_id = sandbox.id
    sandbox.kill()

    with pytest.raises(SandboxNotFoundException) as caught:
        sandbox.get_info()
    assert caught.value.status_code == grpc.StatusCode.NOT_FOUND
    assert caught.value.error.code == "SANDBOX::NOT_FOUND"
    assert sandbox_id in caught.value.error.message
    assert caught.value.request_id  # the runtime's X-Request-ID, through osbd
    with pytest.raises(SandboxNotFoundException):
        Sandbox.connect(sandbox_id)
    sandbox.close()


def test_negative_timeout_is_rejected_before_anything_is_created(stack):
    with SandboxManager.create() as manager:
        before = manager.list_sandbox_infos().pagination.total_items
        with pytest.raises(InvalidArgumentException) as caught:
            Sandbox.create(IMAGE, timeout=timedelta(seconds=-5))
        assert caught.value.code == "INVALID_ARGUMENT"
        assert caught.value.status_code == grpc.StatusCode.INVALID_ARGUMENT
        assert "at least 60" in caught.value.error.message
        assert manager.list_sandbox_infos().pagination.total_items == before


def test_manager_lists_filters_and_kills(stack):
    tag = uuid.uuid4().hex[:12]
    first = Sandbox.create(IMAGE, metadata={"run": tag})
    second = Sandbox.create(IMAGE, metadata={"run": tag, "role": "b"})
    with SandboxManager.create() as manager:
        tagged = manager.list_sandbox_infos(SandboxFilter(metadata={"run": tag}))
        assert {i.id for i in tagged.sandbox_infos} == {first.id, second.id}
        assert tagged.pagination.total_items == 2 and not tagged.pagination.has_next_page
        only_b = manager.list_sandbox_infos(SandboxFilter(metadata={"run": tag, "role": "b"}))
        assert [i.id for i in only_b.sandbox_infos] == [second.id]
        paged = manager.list_sandbox_infos(SandboxFilter(metadata={"run": tag}, page_size=1))
        assert len(paged.sandbox_infos) == 1 and paged.pagination.has_next_page

        assert manager.get_sandbox_info(first.id).status.state == "Running"
        manager.kill_sandbox(first.id)
        manager.kill_sandbox(second.id)
        assert manager.list_sandbox_infos(SandboxFilter(metadata={"run": tag})).sandbox_infos == []
        with pytest.raises(SandboxNotFoundException):
            manager.get_sandbox_info("no-such-sandbox")
    first.close()
    second.close()


def test_files_write_then_read_back(sandbox):
    sandbox.files.write_file("/tmp/a.txt", "data\nmore", mode=0o600)
    assert sandbox.files.read_file("/tmp/a.txt") == "data\nmore"
    execution = sandbox.commands.run("stat -c %a /tmp/a.txt")
    assert [m.text for m in execution.logs.stdout] == ["600"]
    with pytest.raises(SandboxException) as caught:
        sandbox.files.read_file("/tmp/none")
    assert caught.value.status_code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(InvalidArgumentException):
        sandbox.files.write_file("/tmp/a.txt", 42)


def test_no_daemon_is_unavailable(tmp_path):
    config = ConnectionConfig(socket=str(tmp_path / "none.sock"))
    with SandboxManager.create(config) as manager, pytest.raises(SandboxException) as caught:
        manager.list_sandbox_infos()
    assert caught.value.status_code == grpc.StatusCode.UNAVAILABLE


def test_a_session_keeps_directory_and_exports_between_runs(sandbox):
    session = sandbox.commands.create_session(working_directory="/tmp")
    first = sandbox.commands.run_in_session(session, "pwd; export ANSWER=42; cd /usr; echo e >&2")
    assert [m.text for m in first.logs.stdout] == ["/tmp", "e"]  # stderr merged
    assert first.exit_code == 0
    second = sandbox.commands.run_in_session(session, "echo $ANSWER; pwd; exit 5")
    assert [m.text for m in second.logs.stdout] == ["42", "/usr"]
    assert second.exit_code == 5
    elsewhere = sandbox.commands.run_in_session(session, "pwd", working_directory="/")
    assert [m.text for m in elsewhere.logs.stdout] == ["/"]
    sandbox.commands.delete_session(session)
    with pytest.raises(SandboxNotFoundException):
        sandbox.commands.delete_session(session)


def test_metrics_and_renew(sandbox):
    metrics = sandbox.get_metrics()
    assert metrics.cpu_count > 0
    assert 0 < metrics.memory_used_in_mib < metrics.memory_total_in_mib
    assert 0 <= metrics.cpu_used_percentage <= 100
    assert metrics.timestamp is not None
    before = sandbox.get_info().expires_at
    sandbox.renew(timedelta(hours=1))
    after = sandbox.get_info().expires_at
    assert after > before + timedelta(minutes=30)
    with pytest.raises(InvalidArgumentException):
        sandbox.renew(timedelta(0))


def test_attach_replays_a_journalled_run(sandbox):
    execution = sandbox.commands.run("echo one; echo two; exit 5")
    replay = sandbox.commands.attach(execution.id)
    assert [m.text for m in replay.logs.stdout] == ["one", "two"]
    assert replay.exit_code == 5
    tail = sandbox.commands.attach(execution.id, after_seq=2)
    assert [m.text for m in tail.logs.stdout] == ["two"]
    assert tail.id == execution.id
    with pytest.raises(SandboxNotFoundException):
        sandbox.commands.attach("0" * 32)


def test_templates_and_a_warm_pool(stack):
    name = "py-" + uuid.uuid4().hex[:8]
    templates = TemplateManager.create()
    pools = PoolManager.create()
    try:
        templates.define(name, image=IMAGE, timeout=timedelta(minutes=5), env={"ROLE": "pooled"})
        assert templates.get(name).env["ROLE"] == "pooled"
        pools.define(name, template=name, min_idle=1)
        deadline = time.time() + 30
        while pools.stats(name).idle < 1 and time.time() < deadline:
            time.sleep(0.1)
        assert pools.stats(name).idle == 1
        sandbox = pools.acquire(name, fail_fast=True)
        assert sandbox.commands.run("echo $ROLE").logs.stdout[0].text == "pooled"
        assert pools.stats(name).warm_acquires == 1
        assert pools.release(name, sandbox) is False
        with pytest.raises(SandboxNotFoundException):
            sandbox.get_info()
        sandbox.close()
    finally:
        pools.delete(name)
        templates.delete(name)
        pools.close()
        templates.close()


def test_snapshots_capture_files_and_start_new_sandboxes(stack):
    with Sandbox.create(IMAGE) as source, SandboxManager.create() as manager:
        source.commands.run("echo kept > /root/kept")
        snapshot = source.create_snapshot("before")
        assert snapshot.status.state == "Ready"
        assert snapshot.name == "before" and snapshot.sandbox_id == source.id
        assert manager.get_snapshot(snapshot.id).status.reason == "snapshot_ready"
        page = manager.list_snapshots(sandbox_id=source.id, states=["ready"])
        assert [s.id for s in page.snapshot_infos] == [snapshot.id]
        assert page.pagination.total_items == 1

        with Sandbox.create(snapshot_id=snapshot.id) as restored:
            assert restored.commands.run("cat /root/kept").logs.stdout[0].text == "kept"
            restored.kill()
        manager.delete_snapshot(snapshot.id)
        with pytest.raises(SandboxNotFoundException):
            manager.get_snapshot(snapshot.id)
        with pytest.raises(InvalidArgumentException):
            Sandbox.create(IMAGE, snapshot_id="both-given")
        source.kill()
