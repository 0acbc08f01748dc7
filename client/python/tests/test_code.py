"""The code interpreter through osbd, as the official code interpreter SDK is used."""

import threading
import time

import pytest

from osb import (CodeContext, CodeInterpreter, ExecutionHandlers, InvalidArgumentException,
                 Sandbox, SandboxNotFoundException)


@pytest.fixture(scope="module")
def interpreter(stack):
    sandbox = Sandbox.create("debian")
    yield CodeInterpreter.create(sandbox)
    sandbox.kill()
    sandbox.close()


def test_a_context_keeps_state_and_shows_results(interpreter):
    codes = interpreter.codes
    context = codes.create_context("python")
    assert context.language == "python" and len(context.id) == 32
    seen = []
    handlers = ExecutionHandlers(on_stdout=lambda m: seen.append(m.text),
                                 on_result=lambda r: seen.append(("result", r.text)))
    first = codes.run("x = 6 * 7\nprint('computed')", context=context, handlers=handlers)
    assert first.error is None and first.complete is not None
    assert first.execution_count == 1
    assert [m.text for m in first.logs.stdout] == ["computed\n"]
    second = codes.run("x", context=context, handlers=handlers)
    assert [r.text for r in second.result] == ["42"]
    assert second.execution_count == 2
    assert seen == ["computed\n", ("result", "42")]


def test_errors_are_results_with_name_value_and_traceback(interpreter):
    context = interpreter.codes.create_context("python")
    execution = interpreter.codes.run("def f():\n    return {}['missing']\nf()", context=context)
    assert execution.error.name == "KeyError"
    assert execution.error.value == "'missing'"
    assert any("return {}['missing']" in line for line in execution.error.traceback)
    assert execution.complete is None


def test_default_contexts_by_language_and_isolation(interpreter):
    codes = interpreter.codes
    codes.run("shared = 'default'")  # no context, no language: python's default context
    assert codes.run("shared", language="python").result[0].text == "'default'"
    other = codes.create_context("python")
    assert codes.run("shared", context=other).error.name == "NameError"
    bash = codes.run("export N=5; echo $((N * 2))", language="bash")
    assert [m.text for m in bash.logs.stdout] == ["10\n"]
    assert codes.run("echo $N", language="bash").logs.stdout[0].text == "5\n"


def test_contexts_are_listed_read_deleted_and_interrupted(interpreter):
    codes = interpreter.codes
    for context in codes.list_contexts():
        codes.delete_context(context.id)
    a = codes.create_context("python", working_directory="/tmp")
    b = codes.create_context("bash")
    assert [c.id for c in codes.list_contexts()] == [a.id, b.id]
    assert [c.id for c in codes.list_contexts("bash")] == [b.id]
    assert codes.get_context(a.id).working_directory == "/tmp"

    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(
        e=codes.run("import time\nwhile True: time.sleep(0.05)", context=a)))
    runner.start()
    time.sleep(0.8)
    codes.interrupt(a.id)
    runner.join(30)
    assert outcome["e"].error.name == "KeyboardInterrupt"

    codes.delete_context(b.id)
    with pytest.raises(SandboxNotFoundException):
        codes.get_context(b.id)
    codes.delete_contexts("python")
    assert codes.list_contexts() == []


def test_bad_input_is_refused(interpreter):
    codes = interpreter.codes
    with pytest.raises(InvalidArgumentException):
        codes.run("   ")
    with pytest.raises(InvalidArgumentException):
        codes.create_context("cobol")
    with pytest.raises(InvalidArgumentException):
        codes.run("1", language="bash", context=CodeContext(language="python", id="x"))
    with pytest.raises(SandboxNotFoundException):
        codes.run("1", context=CodeContext(language="python", id="no-such-context"))
