"""End-to-end tests of the asyncio client (grpc.aio) against a real osbd and osb-runtime."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta, timezone

import grpc
import pytest

from osb import (AsyncBatchRunner, AsyncPoolManager, AsyncSandbox, AsyncSandboxManager,
                 AsyncTemplateManager, BatchJob, BatchOptions, BatchTarget, ExecutionHandlers,
                 InvalidArgumentException, SandboxFilter, SandboxNotFoundException)


def test_async_sandbox_end_to_end(stack):
    asyncio.run(_end_to_end())


async def _end_to_end():
    sandbox = await AsyncSandbox.create("host", metadata={"suite": "python-async"})
    async with sandbox:
        assert (await sandbox.get_info()).status.state == "Running"

        events = []

        async def on_stdout(message):
            await asyncio.sleep(0)  # a coroutine handler is awaited in order
            events.append(("stdout", message.text))

        execution = await sandbox.commands.run(
            "echo hello; echo err >&2; exit 3",
            handlers=ExecutionHandlers(
                on_init=lambda init: events.append(("init", init.id)),
                on_stdout=on_stdout,
                on_stderr=lambda m: events.append(("stderr", m.text)),
                on_error=lambda e: events.append(("error", e.value))))
        assert [m.text for m in execution.logs.stdout] == ["hello"]
        assert [m.text for m in execution.logs.stderr] == ["err"]
        assert execution.exit_code == 3
        assert events[0] == ("init", execution.id)
        assert sorted(events[1:3]) == [("stderr", "err"), ("stdout", "hello")]
        assert events[3:] == [("error", "3")]

        await sandbox.files.write_file("/tmp/async.txt", b"bytes")
        assert await sandbox.files.read_file("/tmp/async.txt") == "bytes"

        session = await sandbox.commands.create_session(working_directory="/tmp")
        await sandbox.commands.run_in_session(session, "export X=async; cd /usr")
        again = await sandbox.commands.run_in_session(session, "echo $X; pwd")
        assert [m.text for m in again.logs.stdout] == ["async", "/usr"]
        await sandbox.commands.delete_session(session)
        metrics = await sandbox.get_metrics()
        assert 0 < metrics.memory_used_in_mib < metrics.memory_total_in_mib
        await sandbox.renew(timedelta(hours=1))
        assert (await sandbox.get_info()).expires_at > datetime.now(timezone.utc) + timedelta(
            minutes=50)

        async with AsyncSandboxManager.create() as manager:
            listed = await manager.list_sandbox_infos(
                SandboxFilter(metadata={"suite": "python-async"}))
            assert [i.id for i in listed.sandbox_infos] == [sandbox.id]

        await sandbox.kill()
        with pytest.raises(SandboxNotFoundException) as caught:
            await sandbox.get_info()
        assert caught.value.error.code == "SANDBOX::NOT_FOUND"
        assert caught.value.request_id


def test_async_errors_are_typed(stack):
    async def scenario():
        with pytest.raises(InvalidArgumentException) as caught:
            await AsyncSandbox.create("host", timeout=timedelta(seconds=-1))
        assert caught.value.status_code == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(SandboxNotFoundException):
            await AsyncSandbox.connect("no-such-sandbox")

    asyncio.run(scenario())


def test_async_snapshots(stack):
    asyncio.run(_snapshots())


async def _snapshots():
    async with await AsyncSandbox.create("host") as source, \
            AsyncSandboxManager.create() as manager:
        await source.commands.run("echo kept > /root/kept")
        snapshot = await source.create_snapshot("async")
        assert snapshot.status.state == "Ready"
        page = await manager.list_snapshots(sandbox_id=source.id)
        assert [s.id for s in page.snapshot_infos] == [snapshot.id]
        async with await AsyncSandbox.create(snapshot_id=snapshot.id) as restored:
            read = await restored.commands.run("cat /root/kept")
            assert [m.text for m in read.logs.stdout] == ["kept"]
            await restored.kill()
        await manager.delete_snapshot(snapshot.id)
        with pytest.raises(SandboxNotFoundException):
            await manager.get_snapshot(snapshot.id)
        await source.kill()


def test_async_batches(stack):
    asyncio.run(_batches())


async def _batches():
    async with await AsyncSandbox.create("host") as sandbox, \
            AsyncBatchRunner.create() as batches:
        jobs = [BatchJob("sleep 1.5; echo slow", id="slow"),
                BatchJob("echo partial; echo oops >&2; exit 3", id="fails"),
                BatchJob("sleep 0.2; echo quick", id="quick")]
        arrived = []
        async for result in batches.stream(sandbox, jobs, BatchOptions(max_parallel=2)):
            arrived.append((time.monotonic(), result))
        assert [r.job_id for _, r in arrived] == ["fails", "quick", "slow"]  # completion order
        assert arrived[-1][0] - arrived[0][0] > 0.8
        failed = arrived[0][1]
        assert not failed.success and failed.exit_code == 3
        assert failed.stdout == "partial\n" and failed.stderr == "oops\n"
        assert failed.error == "CommandExecError: 3"
        slow = arrived[-1][1]
        assert slow.success and slow.stdout == "slow\n" and slow.duration >= timedelta(seconds=1.5)

        seen = []

        async def on_result(result):
            await asyncio.sleep(0)  # a coroutine on_result is awaited in order
            seen.append(result.job_id)

        cells = await batches.run(sandbox, [BatchJob(code="print('out')\n6 * 7", id="cell"),
                                            BatchJob(code="[].pop()", id="raises")],
                                  on_result=on_result)
        assert seen == [r.job_id for r in cells] and sorted(seen) == ["cell", "raises"]
        by_id = {r.job_id: r for r in cells}
        assert by_id["cell"].stdout == "out\n" and by_id["cell"].result_text == "42"
        assert by_id["raises"].error == "IndexError: pop from empty list"

        with pytest.raises(InvalidArgumentException) as caught:
            await batches.run(sandbox, [])
        assert caught.value.error.message == "jobs needs at least one job"
        with pytest.raises(InvalidArgumentException):
            batches.stream(sandbox, ["true"], BatchOptions(max_parallel=-1))
        await sandbox.kill()


def test_async_templates_and_pools(stack):
    asyncio.run(_pools())


async def _pools():
    name = "apy-" + uuid.uuid4().hex[:8]
    async with AsyncTemplateManager.create() as templates, \
            AsyncPoolManager.create() as pools, AsyncSandboxManager.create() as manager:
        await templates.define(name, image="host", timeout=timedelta(minutes=5),
                               env={"ROLE": "pooled"})
        try:
            assert (await templates.get(name)).env["ROLE"] == "pooled"
            assert name in [t.name for t in await templates.list()]
            await pools.define(name, template=name, min_idle=1)
            assert [p.template for p in await pools.list() if p.name == name] == [name]
            deadline = time.monotonic() + 30
            while (await pools.stats(name)).idle < 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert (await pools.stats(name)).idle == 1

            sandbox = await pools.acquire(name, fail_fast=True)
            async with sandbox:
                assert isinstance(sandbox, AsyncSandbox)
                run = await sandbox.commands.run("echo $ROLE")
                assert [m.text for m in run.logs.stdout] == ["pooled"]
                assert (await pools.stats(name)).warm_acquires == 1
                assert await pools.release(name, sandbox) is False
                with pytest.raises(SandboxNotFoundException):
                    await sandbox.get_info()

            # A batch on fresh sandboxes from the pool kills them when it ends.
            async with AsyncBatchRunner.create() as batches:
                results = await batches.run(BatchTarget.fresh(pool=name), ["echo $ROLE"] * 2)
            assert [(r.success, r.stdout) for r in results] == [(True, "pooled\n")] * 2
            assert len({r.sandbox_id for r in results}) == 2
            for result in results:
                with pytest.raises(SandboxNotFoundException):
                    await manager.get_sandbox_info(result.sandbox_id)
        finally:
            await pools.delete(name)
            await templates.delete(name)
        assert name not in [p.name for p in await pools.list()]
        with pytest.raises(SandboxNotFoundException):
            await pools.stats(name)


def test_async_attach_replays_a_journalled_run(stack):
    asyncio.run(_attach())


async def _attach():
    async with await AsyncSandbox.create("host") as sandbox:
        execution = await sandbox.commands.run("echo one; echo two >&2; echo three; exit 4")
        seen = []

        async def on_stdout(message):
            await asyncio.sleep(0)
            seen.append(message.text)

        replay = await sandbox.commands.attach(execution.id,
                                               handlers=ExecutionHandlers(on_stdout=on_stdout))
        assert replay.id == execution.id
        assert [m.text for m in replay.logs.stdout] == ["one", "three"] == seen
        assert [m.text for m in replay.logs.stderr] == ["two"]
        assert replay.exit_code == 4 and replay.error.value == "4"
        # After event 1 (started): the same output; after the last output: only the end.
        events = len(replay.logs.stdout) + len(replay.logs.stderr) + 2
        tail = await sandbox.commands.attach(execution.id, after_seq=events - 1)
        assert tail.logs.stdout == [] and tail.logs.stderr == [] and tail.exit_code == 4

        # A client that drops its stream mid-run reattaches and follows the run live to its end.
        started = []

        def drop(_):
            raise ConnectionAbortedError("lost the stream")

        with pytest.raises(ConnectionAbortedError):
            await sandbox.commands.run(
                "echo first; sleep 1; echo second",
                handlers=ExecutionHandlers(on_init=lambda init: started.append(init.id),
                                           on_stdout=drop))
        followed = await sandbox.commands.attach(started[0])
        assert [m.text for m in followed.logs.stdout] == ["first", "second"]
        assert followed.exit_code == 0 and followed.complete is not None

        with pytest.raises(SandboxNotFoundException):
            await sandbox.commands.attach("0" * 32)
        await sandbox.kill()
