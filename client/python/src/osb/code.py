"""The code interpreter, shaped like the official `opensandbox-code-interpreter` SDK:

    from osb import CodeInterpreter, Sandbox

    sandbox = Sandbox.create("debian")
    interpreter = CodeInterpreter.create(sandbox)
    context = interpreter.codes.create_context("python")
    interpreter.codes.run("x = 6 * 7", context=context)
    print(interpreter.codes.run("x", context=context).result[0].text)   # 42

A context is a live interpreter (python, bash or javascript) whose state persists between the
cells run in it. `run` without a context uses its language's default context (python when no
language is given either). A cell that raised is not an exception: it is `execution.error`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from osb import _wire
from osb._proto.opensandbox.v1 import code_pb2, code_pb2_grpc
from osb.exceptions import invalid_argument
from osb.models import (Execution, ExecutionComplete, ExecutionError, ExecutionHandlers,
                        ExecutionInit, ExecutionResult)
from osb.sandbox import Sandbox


@dataclass(frozen=True)
class CodeContext:
    """A context: `id` is None for "the language's default context" when passed to run()."""

    language: str
    id: Optional[str] = None
    working_directory: Optional[str] = None


def _context(message: code_pb2.CodeContext) -> CodeContext:
    return CodeContext(language=message.language, id=message.id or None,
                       working_directory=message.cwd or None)


def _apply(execution: Execution, event: code_pb2.CodeEvent):
    """Folds one event into `execution`; returns (handler name, argument) or None."""
    timestamp = event.time.ToMilliseconds()
    kind = event.WhichOneof("kind")
    if kind == "started":
        execution.id = event.started.context_id
        return "on_init", ExecutionInit(id=execution.id, timestamp=timestamp)
    if kind in ("stdout", "stderr"):
        return _wire.add_output(execution, kind, getattr(event, kind).data, timestamp)
    if kind == "result":
        data = {k: v.decode("utf-8", errors="replace") for k, v in event.result.data.items()}
        result = ExecutionResult(text=data.pop("text", None), timestamp=timestamp,
                                 extra_properties=data)
        execution.result.append(result)
        return "on_result", result
    if kind == "execution_count":
        execution.execution_count = event.execution_count
        return None
    if kind == "completed":
        execution.complete = ExecutionComplete(
            timestamp=timestamp,
            execution_time_in_millis=event.completed.execution_time.ToMilliseconds())
        return "on_execution_complete", execution.complete
    if kind == "error":
        execution.error = ExecutionError(name=event.error.name, value=event.error.value,
                                         timestamp=timestamp, traceback=list(event.error.traceback))
        return "on_error", execution.error
    # `broken`: osbd ends the call with an error status right after it, which run() raises.
    return None


class Codes:
    """`interpreter.codes`: contexts and the cells run in them (osbd's Code service)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._daemon = sandbox._daemon
        self._sandbox_id = sandbox.id
        self._stub = code_pb2_grpc.CodeStub(self._daemon.channel)

    def _base(self) -> dict:
        return {"connection": self._daemon.config.to_proto(), "sandbox_id": self._sandbox_id}

    def create_context(self, language: str, *,
                       working_directory: Optional[str] = None) -> CodeContext:
        """Starts a context; InvalidArgumentException for an unsupported language."""
        request = code_pb2.CreateCodeContextRequest(**self._base(), language=language,
                                                    cwd=working_directory or "")
        return _context(self._daemon.call(self._stub.CreateContext, request))

    def get_context(self, context_id: str) -> CodeContext:
        return _context(self._daemon.call(self._stub.GetContext, code_pb2.GetCodeContextRequest(
            **self._base(), context_id=context_id)))

    def list_contexts(self, language: str = "") -> List[CodeContext]:
        """Every context, or those of `language`, oldest first."""
        response = self._daemon.call(self._stub.ListContexts, code_pb2.ListCodeContextsRequest(
            **self._base(), language=language))
        return [_context(c) for c in response.contexts]

    def delete_context(self, context_id: str) -> None:
        self._daemon.call(self._stub.DeleteContext, code_pb2.DeleteCodeContextRequest(
            **self._base(), context_id=context_id))

    def delete_contexts(self, language: str) -> None:
        self._daemon.call(self._stub.DeleteContexts, code_pb2.DeleteCodeContextsRequest(
            **self._base(), language=language))

    def run(self, code: str, *, language: Optional[str] = None,
            context: Optional[CodeContext] = None,
            handlers: Optional[ExecutionHandlers] = None) -> Execution:
        """Runs a cell and returns once it ended, calling `handlers` as its events arrive."""
        if not code.strip():
            raise invalid_argument("code cannot be empty")
        if context is not None and language is not None and context.language != language:
            raise invalid_argument(
                f"language '{language}' must match context.language '{context.language}'")
        if context is None:
            context = CodeContext(language=language or "python")
        call = self._stub.Run(code_pb2.RunCodeRequest(
            **self._base(), code=code, context_id=context.id or "",
            language="" if context.id else context.language))
        return _wire.stream(call, handlers or ExecutionHandlers(), _apply)

    def interrupt(self, context_id: str) -> None:
        """Interrupts the cell running in the context (KeyboardInterrupt in Python)."""
        self._daemon.call(self._stub.Interrupt, code_pb2.InterruptCodeRequest(
            **self._base(), context_id=context_id))


class CodeInterpreter:
    """A sandbox with its code interpreter: `codes`, and the sandbox's own services."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._codes = Codes(sandbox)

    @classmethod
    def create(cls, sandbox: Sandbox) -> "CodeInterpreter":
        return cls(sandbox)

    @property
    def sandbox(self) -> Sandbox:
        return self._sandbox

    @property
    def id(self) -> str:
        return self._sandbox.id

    @property
    def codes(self) -> Codes:
        return self._codes

    @property
    def commands(self):
        return self._sandbox.commands

    @property
    def files(self):
        return self._sandbox.files
