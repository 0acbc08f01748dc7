"""Data returned and accepted by the client, named as in the official SDK's models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Dict, List, Optional, TypeVar, Union

T = TypeVar("T")
# A handler is a plain function or, for AsyncSandbox, a coroutine function.
Handler = Callable[[T], Union[None, Awaitable[None]]]


@dataclass(frozen=True)
class SandboxStatus:
    """Lifecycle state ("Pending", "Running", "Paused", ...) with its reason and message."""

    state: str
    reason: str = ""
    message: str = ""
    last_transition_at: Optional[datetime] = None


@dataclass(frozen=True)
class SandboxInfo:
    """A sandbox as the lifecycle API reports it."""

    id: str
    status: SandboxStatus
    created_at: Optional[datetime]
    expires_at: Optional[datetime]  # None for a sandbox without TTL
    entrypoint: List[str]
    image: str
    metadata: Dict[str, str]


@dataclass(frozen=True)
class SandboxMetrics:
    """CPU and memory use inside a sandbox (execd `/metrics`)."""

    cpu_count: float  # CPUs the sandbox may use (a fraction under a CPU limit)
    cpu_used_percentage: float  # 0-100, of cpu_count
    memory_total_in_mib: float
    memory_used_in_mib: float
    timestamp: Optional[datetime]


@dataclass(frozen=True)
class PaginationInfo:
    page: int
    page_size: int
    total_items: int
    total_pages: int
    has_next_page: bool


@dataclass(frozen=True)
class PagedSandboxInfos:
    """One page of `SandboxManager.list_sandbox_infos`."""

    sandbox_infos: List[SandboxInfo]
    pagination: PaginationInfo


@dataclass(frozen=True)
class SnapshotInfo:
    """A snapshot of a sandbox's files (states "Creating", "Ready", "Failed")."""

    id: str
    sandbox_id: str
    name: str
    status: SandboxStatus  # the same shape: state, reason, message, last_transition_at
    created_at: Optional[datetime]


@dataclass(frozen=True)
class PagedSnapshotInfos:
    """One page of `SandboxManager.list_snapshots`."""

    snapshot_infos: List[SnapshotInfo]
    pagination: PaginationInfo


@dataclass
class SandboxFilter:
    """Filters of `list_sandbox_infos`: any of `states`, all `metadata` pairs; 1-based pages."""

    states: List[str] = field(default_factory=list)
    metadata: Dict[str, str] = field(default_factory=dict)
    page: Optional[int] = None
    page_size: Optional[int] = None


@dataclass
class RunCommandOpts:
    """Options of `commands.run`.

    Attributes:
        background: detach the command; the run completes as soon as it started.
        working_directory: directory to run in (must exist).
        timeout: kill the command after this long (it then fails with exit code -1).
        uid, gid: run as this user and group (gid requires uid).
        envs: extra environment variables.
    """

    background: bool = False
    working_directory: Optional[str] = None
    timeout: Optional[timedelta] = None
    uid: Optional[int] = None
    gid: Optional[int] = None
    envs: Dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutputMessage:
    """One line of output without its terminator; `timestamp` in unix milliseconds."""

    text: str
    timestamp: int
    is_error: bool = False


@dataclass
class ExecutionLogs:
    stdout: List[OutputMessage] = field(default_factory=list)
    stderr: List[OutputMessage] = field(default_factory=list)


@dataclass(frozen=True)
class ExecutionInit:
    """The command started; `id` is its command id."""

    id: str
    timestamp: int


@dataclass(frozen=True)
class ExecutionError:
    """The command failed: `name` "CommandExecError" and `value` the exit code for a non-zero
    exit or a kill, else a spawn error's type and text."""

    name: str
    value: str
    timestamp: int
    traceback: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExecutionComplete:
    """The command exited with status 0."""

    timestamp: int
    execution_time_in_millis: int


@dataclass(frozen=True)
class ExecutionResult:
    """A value a code cell showed (its final expression): `text` is its plain form (Python's
    repr), `extra_properties` the other forms by MIME type (e.g. "text/html")."""

    text: Optional[str]
    timestamp: int
    extra_properties: Dict[str, str] = field(default_factory=dict)


@dataclass
class Execution:
    """The outcome of `commands.run` or `codes.run`: exactly one of `complete` and `error` is set.

    `exit_code` is 0 on completion, the command's status when it exited non-zero, -1 when it was
    killed by a signal, and None when it never ran (and for code cells). A code cell also has its
    context's `execution_count` and its `result`s.
    """

    id: Optional[str] = None
    logs: ExecutionLogs = field(default_factory=ExecutionLogs)
    error: Optional[ExecutionError] = None
    complete: Optional[ExecutionComplete] = None
    exit_code: Optional[int] = None
    execution_count: Optional[int] = None
    result: List[ExecutionResult] = field(default_factory=list)


@dataclass
class ExecutionHandlers:
    """Callbacks run as a command's events arrive, in order: on_init, then on_stdout/on_stderr
    per line, then on_execution_complete or on_error. AsyncSandbox also accepts coroutine
    functions. A handler that raises aborts the run and the exception propagates."""

    on_init: Optional[Handler[ExecutionInit]] = None
    on_stdout: Optional[Handler[OutputMessage]] = None
    on_stderr: Optional[Handler[OutputMessage]] = None
    on_execution_complete: Optional[Handler[ExecutionComplete]] = None
    on_error: Optional[Handler[ExecutionError]] = None
    on_result: Optional[Handler[ExecutionResult]] = None  # code cells only
