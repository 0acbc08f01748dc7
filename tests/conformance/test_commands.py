"""Commands through the official Python SDK: foreground runs with their line events and exit
codes, env and cwd, timeouts, background runs with status and logs, interrupts, and bash
sessions (COMPAT.md §2.3-2.5, §3.1)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from opensandbox.exceptions import SandboxApiException
from opensandbox.models.execd import RunCommandOpts
from opensandbox.models.execd_sync import ExecutionHandlersSync


def texts(messages) -> list[str]:
    return [m.text for m in messages]


def wait_until_finished(sandbox, command_id: str, seconds: float = 20):
    deadline = time.monotonic() + seconds
    status = sandbox.commands.get_command_status(command_id)
    while status.running and time.monotonic() < deadline:
        time.sleep(0.1)
        status = sandbox.commands.get_command_status(command_id)
    assert not status.running, status
    return status


def test_foreground_output_arrives_as_one_event_per_line(sandbox):
    events: list[tuple[str, str]] = []
    inits = []
    completes = []
    handlers = ExecutionHandlersSync(
        on_init=inits.append,
        on_stdout=lambda m: events.append(("stdout", m.text)),
        on_stderr=lambda m: events.append(("stderr", m.text)),
        on_execution_complete=completes.append,
    )
    run = sandbox.commands.run("echo one; echo two >&2; sleep 0.2; echo three",
                               handlers=handlers)
    assert texts(run.logs.stdout) == ["one", "three"]
    assert texts(run.logs.stderr) == ["two"]
    assert [e for e in events if e[0] == "stdout"] == [("stdout", "one"), ("stdout", "three")]
    assert ("stderr", "two") in events
    assert all(not m.is_error for m in run.logs.stdout)
    assert all(m.is_error for m in run.logs.stderr)
    assert len(inits) == 1 and inits[0].id == run.id and run.id
    assert len(completes) == 1
    assert run.exit_code == 0
    assert run.error is None
    assert run.complete is not None


def test_blank_lines_and_long_output(sandbox):
    # COMPAT.md §2.3: a blank line arrives as "\n" (execd omits empty text).
    run = sandbox.commands.run("printf 'a\\n\\nb\\n'")
    assert texts(run.logs.stdout) == ["a", "\n", "b"]
    # A last line without a newline still arrives.
    run = sandbox.commands.run("printf 'no newline'")
    assert texts(run.logs.stdout) == ["no newline"]
    run = sandbox.commands.run("seq 1 2000")
    assert texts(run.logs.stdout) == [str(i) for i in range(1, 2001)]


@pytest.mark.parametrize("command, code", [("exit 3", 3), ("false", 1),
                                           ("exit 255", 255)])
def test_exit_code_comes_from_the_error_event(sandbox, command, code):
    run = sandbox.commands.run(command)
    assert run.exit_code == code
    assert run.error is not None
    assert run.error.name == "CommandExecError"
    assert run.error.value == str(code)
    assert run.complete is None


def test_unknown_program_exits_127(sandbox):
    run = sandbox.commands.run("no-such-program-here")
    assert run.exit_code == 127
    assert any("not found" in m.text for m in run.logs.stderr)


def test_env_does_not_leak_between_runs(sandbox):
    run = sandbox.commands.run("export LEAK=1; echo $LEAK")
    assert texts(run.logs.stdout) == ["1"]
    run = sandbox.commands.run("echo ${LEAK:-unset}")
    assert texts(run.logs.stdout) == ["unset"]

    run = sandbox.commands.run("echo $ONLY_HERE",
                               opts=RunCommandOpts(envs={"ONLY_HERE": "with spaces & $x"}))
    assert texts(run.logs.stdout) == ["with spaces & $x"]
    run = sandbox.commands.run("echo ${ONLY_HERE:-unset}")
    assert texts(run.logs.stdout) == ["unset"]


def test_working_directory(sandbox):
    sandbox.commands.run("mkdir -p /tmp/wd/inner")
    run = sandbox.commands.run("pwd", opts=RunCommandOpts(working_directory="/tmp/wd/inner"))
    assert texts(run.logs.stdout) == ["/tmp/wd/inner"]
    # A cd in one run does not move the next one.
    sandbox.commands.run("cd /tmp/wd")
    run = sandbox.commands.run("pwd", opts=RunCommandOpts(working_directory="/etc"))
    assert texts(run.logs.stdout) == ["/etc"]


def test_missing_working_directory_is_rejected(sandbox):
    with pytest.raises(SandboxApiException) as e:
        sandbox.commands.run("pwd", opts=RunCommandOpts(working_directory="/no/such/dir"))
    assert e.value.status_code == 400


def test_uid_and_gid(sandbox):
    run = sandbox.commands.run("id -u; id -g", opts=RunCommandOpts(uid=65534, gid=65534))
    assert texts(run.logs.stdout) == ["65534", "65534"]


def test_timeout_kills_the_command(sandbox):
    started = time.monotonic()
    run = sandbox.commands.run("echo before; sleep 30; echo after",
                               opts=RunCommandOpts(timeout=timedelta(seconds=1)))
    assert time.monotonic() - started < 10
    assert texts(run.logs.stdout) == ["before"]
    assert run.error is not None
    # COMPAT.md §2.4: a command killed by a signal reports exit code -1.
    assert run.exit_code == -1


def test_background_run_status_and_logs(sandbox):
    # The command waits for a file only this test creates, so the call returning proves it did
    # not wait for the command.
    command = ("echo start; while [ ! -e /tmp/bg-go ]; do sleep 0.05; done; "
               "echo done; exit 4")
    run = sandbox.commands.run(command, opts=RunCommandOpts(background=True))
    # The id, and no exit code (COMPAT.md §2.4).
    assert run.id
    assert run.exit_code is None

    status = sandbox.commands.get_command_status(run.id)
    assert status.running
    assert status.content == command
    assert status.exit_code is None

    sandbox.files.write_file("/tmp/bg-go", "")
    status = wait_until_finished(sandbox, run.id)
    assert status.exit_code == 4
    assert status.finished_at is not None and status.started_at is not None
    assert status.finished_at >= status.started_at

    logs = sandbox.commands.get_background_command_logs(run.id)
    assert logs.content == "start\ndone\n"
    # The cursor is a byte offset: the next read from it returns only what came after.
    assert logs.cursor == len(b"start\ndone\n")
    tail = sandbox.commands.get_background_command_logs(run.id, cursor=len(b"start\n"))
    assert tail.content == "done\n"
    rest = sandbox.commands.get_background_command_logs(run.id, cursor=logs.cursor)
    assert rest.content == ""
    assert rest.cursor == logs.cursor


def test_background_logs_grow_while_it_runs(sandbox):
    run = sandbox.commands.run("for i in 1 2 3; do echo line$i; sleep 0.5; done",
                               opts=RunCommandOpts(background=True))
    seen = ""
    cursor = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        logs = sandbox.commands.get_background_command_logs(run.id, cursor=cursor)
        seen += logs.content
        cursor = logs.cursor
        if not sandbox.commands.get_command_status(run.id).running and seen.count("\n") == 3:
            break
        time.sleep(0.2)
    assert seen == "line1\nline2\nline3\n"


def test_interrupt_background_command(sandbox):
    run = sandbox.commands.run("sleep 60", opts=RunCommandOpts(background=True))
    assert sandbox.commands.get_command_status(run.id).running
    started = time.monotonic()
    sandbox.commands.interrupt(run.id)
    status = wait_until_finished(sandbox, run.id, seconds=10)
    assert time.monotonic() - started < 8
    assert status.exit_code != 0


def test_interrupt_foreground_command(sandbox):
    started_id: list[str] = []
    ready = threading.Event()
    result = {}

    def on_init(init):
        started_id.append(init.id)
        ready.set()

    def run():
        result["run"] = sandbox.commands.run(
            "echo waiting; sleep 60", handlers=ExecutionHandlersSync(on_init=on_init))

    thread = threading.Thread(target=run)
    started = time.monotonic()
    thread.start()
    assert ready.wait(20)
    time.sleep(0.5)  # let the shell reach the sleep
    sandbox.commands.interrupt(started_id[0])
    thread.join(20)
    assert not thread.is_alive()
    assert time.monotonic() - started < 15
    interrupted = result["run"]
    assert texts(interrupted.logs.stdout) == ["waiting"]
    assert interrupted.exit_code == -1


@pytest.mark.parametrize("call", ["status", "logs", "interrupt"])
def test_unknown_command_id_is_rejected(sandbox, call):
    missing = "0123456789abcdef0123456789abcdef"
    calls = {
        "status": lambda: sandbox.commands.get_command_status(missing),
        "logs": lambda: sandbox.commands.get_background_command_logs(missing),
        "interrupt": lambda: sandbox.commands.interrupt(missing),
    }
    with pytest.raises(SandboxApiException):
        calls[call]()


def test_session_keeps_exports_and_cwd(sandbox):
    session = sandbox.commands.create_session(working_directory="/tmp")
    try:
        run = sandbox.commands.run_in_session(session, "pwd")
        assert texts(run.logs.stdout) == ["/tmp"]
        assert run.exit_code == 0

        sandbox.commands.run_in_session(session, "export KEPT=42; mkdir -p /tmp/s; cd /tmp/s")
        run = sandbox.commands.run_in_session(session, "echo $KEPT; pwd")
        assert texts(run.logs.stdout) == ["42", "/tmp/s"]

        # A per-run directory wins for that run and becomes the session's directory.
        run = sandbox.commands.run_in_session(session, "pwd", working_directory="/etc")
        assert texts(run.logs.stdout) == ["/etc"]
        run = sandbox.commands.run_in_session(session, "pwd")
        assert texts(run.logs.stdout) == ["/etc"]

        # stderr is merged into stdout in a session (COMPAT.md §2.4).
        run = sandbox.commands.run_in_session(session, "echo to-stderr >&2")
        assert texts(run.logs.stdout) == ["to-stderr"]
        assert run.logs.stderr == []

        run = sandbox.commands.run_in_session(session, "exit 7")
        assert run.exit_code == 7
        assert run.error is not None and run.error.value == "7"
        assert run.complete is None

        # Nothing of the session leaks into plain commands.
        plain = sandbox.commands.run("echo ${KEPT:-unset}")
        assert texts(plain.logs.stdout) == ["unset"]
    finally:
        sandbox.commands.delete_session(session)
    with pytest.raises(SandboxApiException):
        sandbox.commands.run_in_session(session, "pwd")


def test_sessions_are_isolated(sandbox):
    first = sandbox.commands.create_session()
    second = sandbox.commands.create_session()
    try:
        sandbox.commands.run_in_session(first, "export WHO=first")
        run = sandbox.commands.run_in_session(second, "echo ${WHO:-unset}")
        assert texts(run.logs.stdout) == ["unset"]
    finally:
        sandbox.commands.delete_session(first)
        sandbox.commands.delete_session(second)


def test_session_run_timeout(sandbox):
    session = sandbox.commands.create_session()
    try:
        started = time.monotonic()
        run = sandbox.commands.run_in_session(session, "sleep 30",
                                              timeout=timedelta(seconds=1))
        assert time.monotonic() - started < 10
        assert run.complete is None
        assert run.exit_code != 0
    finally:
        sandbox.commands.delete_session(session)


def test_delete_unknown_session_is_rejected(sandbox):
    with pytest.raises(SandboxApiException):
        sandbox.commands.delete_session("no-such-session")


def test_argv_runs_the_words_without_a_shell(sandbox):
    # SDK 1.1.1: a list is sent as execd's `argv`, nothing expanded.
    run = sandbox.commands.run(["printf", "%s|", "a b", "$HOME", "*"])
    assert texts(run.logs.stdout) == ["a b|$HOME|*|"]
    assert run.exit_code == 0


def test_set_env_persists_for_later_commands(sandbox):
    # SDK 1.1.1: set_env appends to the file EXECD_ENVS names; execd loads it for every command,
    # and a run's own envs still win.
    sandbox.commands.set_env("CONFORMANCE_GREETING", "it's set")
    assert texts(sandbox.commands.run('echo "$CONFORMANCE_GREETING"').logs.stdout) == ["it's set"]
    run = sandbox.commands.run('echo "$CONFORMANCE_GREETING"',
                               opts=RunCommandOpts(envs={"CONFORMANCE_GREETING": "mine"}))
    assert texts(run.logs.stdout) == ["mine"]
