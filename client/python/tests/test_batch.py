"""Batches (Commands.RunBatch) through the synchronous client, against a real osbd."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import grpc
import pytest

from osb import (BatchJob, BatchOptions, BatchRunner, BatchTarget, CodeInterpreter,
                 InvalidArgumentException, Sandbox, SandboxManager, SandboxNotFoundException,
                 TemplateManager)

IMAGE = "host"


@pytest.fixture(scope="module")
def batches(stack):
    with BatchRunner.create() as runner:
        yield runner


def most_at_once(results) -> int:
    """The most jobs that ran at the same time, from their start times and durations."""
    edges = []
    for r in results:
        edges.append((r.started_at, 1))
        edges.append((r.started_at + r.duration, -1))
    running = peak = 0
    for _, step in sorted(edges):  # at equal times an end (-1) sorts before a start
        running += step
        peak = max(peak, running)
    return peak


def test_jobs_in_one_sandbox_arrive_one_by_one_with_bounded_parallelism(sandbox, batches):
    jobs = [BatchJob("sleep 2.5; echo slow", id="slow")]
    jobs += [BatchJob(f"sleep 0.3; echo {n}", id=f"quick-{n}") for n in range(3)]
    jobs += [BatchJob("echo partial; echo oops >&2; exit 3", id="fails"),
             BatchJob('pwd; echo "$X"', id="env", working_directory="/tmp", envs={"X": "y"}),
             "true"]  # a plain command; its id is its index
    arrivals = []
    for result in batches.stream(sandbox, jobs, BatchOptions(max_parallel=2)):
        arrivals.append((time.monotonic(), result))

    by_id = {r.job_id: r for _, r in arrivals}
    assert sorted(by_id) == ["6", "env", "fails", "quick-0", "quick-1", "quick-2", "slow"]
    # In completion order: the other lane's jobs all ended long before the slow one.
    assert arrivals[-1][1].job_id == "slow"
    assert arrivals[-1][0] - arrivals[0][0] > 1.0
    assert most_at_once(by_id.values()) == 2

    quick = by_id["quick-1"]
    assert quick.success and quick.exit_code == 0 and quick.error is None
    assert quick.stdout == "1\n" and quick.stderr == ""
    assert quick.sandbox_id == sandbox.id and len(quick.command_id) == 32
    assert quick.duration >= timedelta(seconds=0.3)
    failed = by_id["fails"]
    assert not failed.success and failed.exit_code == 3
    assert failed.stdout == "partial\n" and failed.stderr == "oops\n"
    assert failed.error == "CommandExecError: 3"
    assert by_id["env"].stdout == "/tmp\ny\n"
    assert by_id["6"].success and not by_id["6"].skipped


def test_run_collects_every_result_and_honours_the_options(sandbox, batches):
    seen = []
    results = batches.run(
        BatchTarget.sandbox(sandbox.id),
        [BatchJob("seq 1 100", id="long"), BatchJob("sleep 30", id="slow",
                                                    timeout=timedelta(seconds=1)),
         BatchJob("echo never", id="never")],
        BatchOptions(max_parallel=1, stop_on_failure=True, output_limit_bytes=10),
        on_result=seen.append)
    assert seen == results
    assert [r.job_id for r in results] == ["long", "slow", "never"]
    long, slow, never = results
    assert long.stdout == "1\n2\n3\n4\n5\n" and long.stdout_truncated
    assert not slow.success and slow.exit_code == -1  # killed at its timeout
    assert slow.duration < timedelta(seconds=10)
    assert never.skipped and not never.success and never.started_at is None
    assert "stop_on_failure" in never.error


def test_code_cells_keep_their_context_and_report_results_and_errors(sandbox, batches):
    context = CodeInterpreter.create(sandbox).codes.create_context("python")
    results = batches.run(sandbox, [
        BatchJob(code="total = 40\nprint('defined')", id="define"),
        BatchJob(code="total + 2", id="use", language="python"),
        BatchJob(code="raise ValueError('bad input')", id="raises"),
        BatchJob(code="echo from bash; echo warn >&2", id="shell", language="bash"),
        BatchJob(code="kept = 'mine'", id="in-context", context_id=context.id),
        BatchJob(code="kept", id="read-context", context_id=context.id),
    ], BatchOptions(max_parallel=4))
    by_id = {r.job_id: r for r in results}
    assert len(results) == 6
    assert by_id["define"].success and by_id["define"].stdout == "defined\n"
    assert by_id["define"].exit_code is None  # cells have no exit code
    assert by_id["use"].result_text == "42"
    assert not by_id["raises"].success and by_id["raises"].error == "ValueError: bad input"
    assert by_id["shell"].stdout == "from bash\n" and by_id["shell"].stderr == "warn\n"
    assert by_id["read-context"].result_text == "'mine'"
    assert by_id["read-context"].command_id == context.id


def test_fresh_sandboxes_from_a_template_are_killed_at_the_end(stack, batches):
    name = "batch-" + uuid.uuid4().hex[:8]
    templates = TemplateManager.create()
    templates.define(name, image=IMAGE, env={"KIND": "fresh"})
    try:
        one_each = batches.run(BatchTarget.fresh(template=name),
                               ["echo $KIND; hostname"] * 3)
        shared = batches.run(BatchTarget.fresh(template=name, count=2),
                             ["echo $KIND"] * 4, BatchOptions(max_parallel=4))
    finally:
        templates.delete(name)
        templates.close()
    assert all(r.success and r.stdout.startswith("fresh\n") for r in one_each + shared)
    assert len({r.sandbox_id for r in one_each}) == 3  # count 0: a sandbox per job
    assert len({r.sandbox_id for r in shared}) == 2
    with SandboxManager.create() as manager:
        for sandbox_id in {r.sandbox_id for r in one_each + shared}:
            with pytest.raises(SandboxNotFoundException):
                manager.get_sandbox_info(sandbox_id)


def test_each_runs_every_job_in_every_sandbox(sandbox, batches):
    with Sandbox.create(IMAGE) as other:
        results = batches.run(BatchTarget.sandboxes([sandbox, other], each=True),
                              [BatchJob("hostname", id="h"), BatchJob("true", id="t")])
        other.kill()
    assert sorted((r.job_id, r.sandbox_id) for r in results) == sorted(
        (job, box) for job in ("h", "t") for box in (sandbox.id, other.id))


def test_bad_batches_are_refused(sandbox, batches):
    with pytest.raises(InvalidArgumentException) as caught:
        batches.run(sandbox, [])
    assert caught.value.status_code == grpc.StatusCode.INVALID_ARGUMENT  # osbd's answer
    assert caught.value.error.message == "jobs needs at least one job"
    with pytest.raises(InvalidArgumentException) as caught:
        batches.run(sandbox, [BatchJob("true", id="a"), BatchJob("false", id="a")])
    assert caught.value.error.message == "jobs[1].id repeats the job id a"
    with pytest.raises(InvalidArgumentException) as caught:
        batches.run(BatchTarget.sandboxes([sandbox, "other"]),
                    [BatchJob(code="1", context_id="some-context")])
    assert "a context lives in one sandbox" in caught.value.error.message

    # What the proto cannot carry is refused before anything is sent.
    for options in (BatchOptions(max_parallel=-1), BatchOptions(max_parallel=1.5)):
        with pytest.raises(InvalidArgumentException) as caught:
            batches.stream(sandbox, ["true"], options)
        assert caught.value.status_code is None
        assert "max_parallel must be an integer from 0" in caught.value.error.message
    with pytest.raises(InvalidArgumentException):
        batches.stream(sandbox, [BatchJob("true", code="1")])
    with pytest.raises(InvalidArgumentException):
        batches.stream(BatchTarget(), ["true"])
    with pytest.raises(InvalidArgumentException):
        batches.stream(BatchTarget.fresh(template="t", pool="p"), ["true"])

    # A job that cannot run is a result, not an error.
    [lost] = batches.run("no-such-sandbox", ["true"])
    assert not lost.success and lost.error and lost.exit_code is None


def test_leaving_the_stream_early_cancels_the_batch(sandbox, batches):
    marker = "/tmp/batch-" + uuid.uuid4().hex[:8]
    jobs = ["true", "sleep 1", "sleep 1", f"touch {marker}"]
    stream = batches.stream(sandbox, jobs, BatchOptions(max_parallel=1))
    first = next(stream)
    assert first.job_id == "0" and first.success
    stream.close()
    time.sleep(3.5)  # uncancelled, the last job would have run by now
    assert sandbox.commands.run(f"test -e {marker}").exit_code == 1
    # The runner is still usable.
    assert [r.success for r in batches.run(sandbox, ["true"])] == [True]
