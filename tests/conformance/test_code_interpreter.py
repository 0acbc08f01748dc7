"""The code interpreter through the official `opensandbox-code-interpreter` SDK: contexts keep
state and stay apart, results carry the value's repr as text, errors carry the exception's name,
contexts are listed, fetched and deleted, and a run can be interrupted (COMPAT.md §2.2-2.4, §2.8,
§3.1). Set OSB_CONFORMANCE_SKIP_CODE=1 to skip them where osb-agent has no /code routes."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from datetime import timedelta

import pytest
from code_interpreter import CodeInterpreter
from code_interpreter.models.code_sync import CodeContextSync
from code_interpreter.sync import CodeInterpreterSync
from conftest import IMAGE
from opensandbox import Sandbox
from opensandbox.exceptions import SandboxApiException, SandboxException
from opensandbox.models.execd_sync import ExecutionHandlersSync

pytestmark = pytest.mark.skipif(os.environ.get("OSB_CONFORMANCE_SKIP_CODE") == "1",
                                reason="OSB_CONFORMANCE_SKIP_CODE=1")


@pytest.fixture(scope="module")
def codes(sandbox):
    # The strict readiness check has its own test below; skipping it here keeps every other
    # test about /code itself.
    interpreter = CodeInterpreterSync.create(sandbox, skip_health_check=True)
    yield interpreter.codes
    interpreter.close()


def stdout(execution) -> str:
    return "".join(m.text for m in execution.logs.stdout)


def results(execution) -> list[str]:
    return [r.text for r in execution.result]


def test_create_passes_the_sdks_readiness_check(sandbox):
    # CodeInterpreter.create checks that execd answers /ping and that the interpreter runtime
    # listens on ${JUPYTER_PORT:-44771} inside the sandbox (probed with bash's /dev/tcp).
    interpreter = CodeInterpreterSync.create(sandbox, ready_timeout=timedelta(seconds=15))
    try:
        assert interpreter.is_healthy()
    finally:
        interpreter.close()


def test_python_state_persists_within_a_context(codes):
    ctx = codes.create_context("python")
    assert ctx.id
    assert ctx.language == "python"
    first = codes.run("x = 1", context=ctx)
    assert first.error is None
    assert results(first) == []
    second = codes.run("x + 1", context=ctx)
    assert second.error is None
    assert results(second) == ["2"]
    # The cell counter goes up by one per run in a context.
    assert first.execution_count is not None
    assert second.execution_count == first.execution_count + 1


def test_result_text_is_the_repr(codes):
    ctx = codes.create_context("python")
    assert results(codes.run("'ab' * 2", context=ctx)) == ["'abab'"]
    assert results(codes.run("[1, None, {'k': 2.5}]", context=ctx)) == ["[1, None, {'k': 2.5}]"]


def test_python_stdout_arrives_in_chunks_ending_with_newlines(codes):
    ctx = codes.create_context("python")
    chunks = []
    run = codes.run("print('a')\nprint('b')\nimport sys; print('e', file=sys.stderr)",
                    context=ctx,
                    handlers=ExecutionHandlersSync(on_stdout=lambda m: chunks.append(m.text)))
    assert run.error is None
    assert stdout(run) == "a\nb\n"
    assert "".join(chunks) == "a\nb\n"
    assert all(c.endswith("\n") for c in chunks)
    assert "".join(m.text for m in run.logs.stderr) == "e\n"
    assert results(run) == []


def test_contexts_are_isolated(codes):
    one = codes.create_context("python")
    two = codes.create_context("python")
    assert one.id != two.id
    codes.run("only_here = 5", context=one)
    run = codes.run("only_here", context=two)
    assert run.error is not None
    assert run.error.name == "NameError"
    assert results(codes.run("only_here * 2", context=one)) == ["10"]


def test_python_exception_is_reported(codes):
    ctx = codes.create_context("python")
    run = codes.run("1 / 0", context=ctx)
    assert run.error is not None
    assert run.error.name == "ZeroDivisionError"
    assert "division by zero" in run.error.value
    assert run.error.traceback
    assert results(run) == []
    # The context survives its exception.
    assert results(codes.run("21 * 2", context=ctx)) == ["42"]


def test_default_python_context(codes):
    # Without a context the SDK asks for the language's default context.
    codes.run("default_var = 7")
    assert results(codes.run("default_var + 1")) == ["8"]


def test_bash_context_keeps_exports_and_directory(codes):
    ctx = codes.create_context("bash")
    assert ctx.language == "bash"
    run = codes.run("export GREETING=hi; cd /tmp", context=ctx)
    assert run.error is None
    run = codes.run("echo $GREETING; pwd", context=ctx)
    assert run.error is None
    assert stdout(run) == "hi\n/tmp\n"
    failed = codes.run("false", context=ctx)
    assert failed.error is not None


def test_javascript_context_returns_values(codes):
    ctx = codes.create_context("javascript")
    assert ctx.language == "javascript"
    first = codes.run("var base = 20; console.log('logged')", context=ctx)
    assert first.error is None
    assert stdout(first) == "logged\n"
    second = codes.run("base + 1", context=ctx)
    assert second.error is None
    assert results(second) == ["21"]
    thrown = codes.run("throw new TypeError('bad')", context=ctx)
    assert thrown.error is not None
    assert thrown.error.name == "TypeError"


def test_list_get_and_delete_contexts(codes):
    ctx = codes.create_context("python")
    fetched = codes.get_context(ctx.id)
    assert (fetched.id, fetched.language) == (ctx.id, "python")
    assert ctx.id in {c.id for c in codes.list_contexts("python")}
    assert ctx.id not in {c.id for c in codes.list_contexts("bash")}

    codes.delete_context(ctx.id)
    with pytest.raises(SandboxApiException) as e:
        codes.get_context(ctx.id)
    assert e.value.status_code == 404
    assert ctx.id not in {c.id for c in codes.list_contexts("python")}
    with pytest.raises(SandboxException):
        run = codes.run("1", context=ctx)
        # A server may also answer with an error event instead of an HTTP error.
        if run.error is not None:
            raise SandboxException(run.error.value)


def test_delete_contexts_by_language(codes):
    bash_ctx = codes.create_context("bash")
    py_ctx = codes.create_context("python")
    codes.delete_contexts("bash")
    assert codes.list_contexts("bash") == []
    assert py_ctx.id in {c.id for c in codes.list_contexts("python")}
    with pytest.raises(SandboxApiException):
        codes.get_context(bash_ctx.id)


def test_unknown_context_is_rejected(codes):
    with pytest.raises(SandboxApiException) as e:
        codes.get_context("0123456789abcdef0123456789abcdef")
    assert e.value.status_code == 404
    with pytest.raises(SandboxApiException):
        codes.delete_context("0123456789abcdef0123456789abcdef")


def test_interrupt_stops_a_running_cell(codes):
    ctx = codes.create_context("python")
    started = threading.Event()
    result = {}

    def on_init(init):
        result["id"] = init.id
        started.set()

    def run():
        result["run"] = codes.run(
            "import time\nprint('going', flush=True)\nfor _ in range(600): time.sleep(0.1)",
            context=ctx, handlers=ExecutionHandlersSync(on_init=on_init))

    thread = threading.Thread(target=run)
    began = time.monotonic()
    thread.start()
    assert started.wait(30)
    time.sleep(1)
    codes.interrupt(result["id"])
    thread.join(30)
    assert not thread.is_alive()
    assert time.monotonic() - began < 30
    interrupted = result["run"]
    assert interrupted.error is not None
    assert interrupted.error.name == "KeyboardInterrupt"
    # The context is still usable, its state (the import) kept; a context rebuilt from the
    # id alone reaches it too.
    ctx_again = CodeContextSync(id=ctx.id, language="python")
    assert results(codes.run("time.time() > 0", context=ctx_again)) == ["True"]


def test_async_code_interpreter(runtime):
    """CodeInterpreter.create(sandbox) on the asyncio SDK."""

    async def scenario():
        sbx = await Sandbox.create(IMAGE, connection_config=runtime.async_config(),
                                   timeout=timedelta(minutes=5))
        try:
            interpreter = await CodeInterpreter.create(sbx, skip_health_check=True)
            ctx = await interpreter.codes.create_context("python")
            await interpreter.codes.run("y = 40", context=ctx)
            run = await interpreter.codes.run("y + 2", context=ctx)
            assert [r.text for r in run.result] == ["42"]
        finally:
            await sbx.kill()
            await sbx.close()

    asyncio.run(scenario())
