"""Data returned and accepted by the client, named as in the official SDK's models."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import (IO, Awaitable, Callable, Dict, Iterable, List, Optional, Tuple, TypeVar,
                    Union)

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


def _sandbox_id(sandbox) -> str:
    """A sandbox's id: `sandbox` itself when a str, else its `id` (Sandbox, AsyncSandbox)."""
    return sandbox if isinstance(sandbox, str) else getattr(sandbox, "id", sandbox)


@dataclass(frozen=True)
class BatchJob:
    """One job of a batch: a shell `command` or a `code` cell, exactly one.

    Attributes:
        command: a shell command line, run by bash as `commands.run` runs it, with
            `working_directory`, `envs`, `uid` and `gid` meaning what they mean in RunCommandOpts.
        code: a code cell, run in `language`'s default context (None: "python") or in the
            context `context_id` (from `codes.create_context`; the batch's target must then be
            one sandbox). Cells for the same context run one at a time, in the order given.
        id: echoed in the job's result; "" stands for its index in the job list, in decimal. Ids
            must be unique within a batch.
        timeout: this job's limit (None: the batch's `job_timeout`): a command is then killed
            (exit code -1), a cell interrupted (error "timeout").
    """

    command: Optional[str] = None
    code: Optional[str] = None
    id: str = ""
    working_directory: Optional[str] = None
    envs: Dict[str, str] = field(default_factory=dict)
    uid: Optional[int] = None
    gid: Optional[int] = None
    language: Optional[str] = None
    context_id: Optional[str] = None
    timeout: Optional[timedelta] = None


@dataclass(frozen=True)
class BatchTarget:
    """Which sandboxes run a batch's jobs; make one with `sandbox`, `sandboxes` or `fresh`.

    Attributes:
        sandbox_ids: existing sandboxes. Each job runs once, in whichever has a free slot, or,
            with `each`, once in every one of them (a result per job and sandbox).
        template, pool: new sandboxes made from this template or taken from this warm pool
            (exactly one), killed when the batch ends unless `keep`. `count` of them share the
            jobs; 0: a sandbox of its own for every job.
    """

    sandbox_ids: Tuple[str, ...] = ()
    each: bool = False
    template: Optional[str] = None
    pool: Optional[str] = None
    count: int = 0
    keep: bool = False

    @classmethod
    def sandbox(cls, sandbox) -> "BatchTarget":
        """Every job in this sandbox (a Sandbox, AsyncSandbox or id)."""
        return cls(sandbox_ids=(_sandbox_id(sandbox),))

    @classmethod
    def sandboxes(cls, sandboxes: Iterable, *, each: bool = False) -> "BatchTarget":
        """The jobs spread over these sandboxes (or, with `each`, run in every one)."""
        return cls(sandbox_ids=tuple(_sandbox_id(s) for s in sandboxes), each=each)

    @classmethod
    def fresh(cls, *, template: Optional[str] = None, pool: Optional[str] = None,
              count: int = 0, keep: bool = False) -> "BatchTarget":
        """New sandboxes from `template` or `pool`, killed at the end unless `keep`."""
        return cls(template=template, pool=pool, count=count, keep=keep)


@dataclass(frozen=True)
class BatchOptions:
    """Options of a batch.

    Attributes:
        max_parallel: most jobs running at once over the whole batch; 0: osbd's default (4).
            osbd caps it (at 64), never raises it.
        stop_on_failure: after the first job that did not succeed, start no more; the rest are
            reported with `skipped`. Running jobs finish.
        job_timeout: the limit of each job that has no `timeout` of its own; None: no limit.
        output_limit_bytes: bytes of stdout and of stderr kept per job (the rest is dropped and
            flagged `*_truncated`); 0: 1 MiB; osbd caps it at 3 MiB.
    """

    max_parallel: int = 0
    stop_on_failure: bool = False
    job_timeout: Optional[timedelta] = None
    output_limit_bytes: int = 0


@dataclass(frozen=True)
class BatchJobResult:
    """The outcome of one job (of one job in one sandbox, for a target with `each`).

    A job that failed, timed out, was skipped or got no sandbox is a result, not an exception.

    Attributes:
        job_id: the job's id, or its index in decimal.
        sandbox_id: the sandbox it ran in; None when it never got one.
        success: a command exited 0; a cell raised nothing.
        exit_code: a command's exit code (-1 when killed); None for cells and jobs that never ran.
        stdout, stderr: captured output, at most `output_limit_bytes` each: a command's lines,
            each followed by "\n"; a cell's output as written.
        error: why it did not succeed, e.g. "CommandExecError: 3", a cell's "ValueError: bad",
            "timeout", or why no sandbox was available; None on success.
        duration: wall time from start to end; None when it never started.
        command_id: the run's command id (a cell's context id); None when it never started.
        skipped: not started, because an earlier job failed and `stop_on_failure` was set.
        result_text: a cell's last result as text (Python's repr); None if it showed none.
    """

    job_id: str
    sandbox_id: Optional[str]
    success: bool
    exit_code: Optional[int]
    stdout: str
    stderr: str
    error: Optional[str]
    duration: Optional[timedelta]
    command_id: Optional[str]
    skipped: bool = False
    result_text: Optional[str] = None
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    started_at: Optional[datetime] = None


@dataclass(frozen=True)
class HealthCheck:
    """How osbd decides that a new or resumed sandbox is ready (common.proto `HealthCheck`).

    With none of `command`, `http_port` and `tcp_port` the probe is execd's GET /ping, as in the
    official SDK. The probe is repeated until it passes or the ready timeout ends the wait
    (SandboxReadyTimeoutException; a created sandbox is then deleted). Unlike the official SDK's
    `health_check` (a client-side function), the probe runs in osbd.

    Attributes:
        command: ready when this shell command exits 0, each run limited to `command_timeout`
            (None: 5 s).
        http_port, http_path: ready when an HTTP GET of `http_path` on this port inside the
            sandbox answers one of `expected_status` (empty: any 2xx).
        tcp_port: ready once a socket listens on this TCP port (1 to 65535) inside the sandbox,
            whatever protocol it speaks (osbd reads /proc/net/tcp and tcp6 through execd: the
            image needs nothing beyond sh). `command`, `http_port` and `tcp_port` are exclusive.
        polling_interval: pause between probes (None: from 2 ms doubling up to 200 ms); the
            official SDK's `health_check_polling_interval`.
        initial_delay: wait after Running before the first probe.
    """

    command: Optional[str] = None
    command_timeout: Optional[timedelta] = None
    http_port: Optional[int] = None
    http_path: str = "/"
    expected_status: Tuple[int, ...] = ()
    polling_interval: Optional[timedelta] = None
    initial_delay: Optional[timedelta] = None
    tcp_port: Optional[int] = None  # last, so that positional arguments keep their meaning


# Files. Modes are plain permission bits (0o644, 0o755), as in osbd's API; the official SDK's
# models take the octal digits as a decimal number (644) instead.


@dataclass(frozen=True)
class EntryInfo:
    """Metadata of a file or directory (lstat: symlinks are not followed).

    `entry_type` is "file", "directory", "symlink" or "other" (None when the service did not
    say); `mode` the permission bits (0o644).
    """

    path: str
    entry_type: Optional[str]
    mode: int
    owner: str
    group: str
    size: int
    modified_at: Optional[datetime]
    created_at: Optional[datetime]


@dataclass
class WriteEntry:
    """A file to write (`write_files`) or a directory to create (`create_directories`, which
    ignores `data`). `data` is str (encoded with `encoding`), bytes or a binary or text file
    object, streamed in chunks; `mode` None keeps the default (files: execd's, directories:
    0o755); `owner` and `group` None leave them unchanged."""

    path: str
    data: Union[str, bytes, IO, None] = None
    mode: Optional[int] = None
    owner: Optional[str] = None
    group: Optional[str] = None
    encoding: str = "utf-8"


@dataclass(frozen=True)
class MoveEntry:
    """A rename: `src` to `dest`, which must not exist (its parents are created)."""

    src: str
    dest: str


@dataclass(frozen=True)
class SetPermissionEntry:
    """New mode, owner or group of `path`; None leaves that one unchanged."""

    path: str
    owner: Optional[str] = None
    group: Optional[str] = None
    mode: Optional[int] = None


@dataclass(frozen=True)
class ContentReplaceEntry:
    """Replace every `old_content` (non-empty text) in the file at `path` with `new_content`."""

    path: str
    old_content: str
    new_content: str


@dataclass(frozen=True)
class ContentReplaceResult:
    """How many occurrences were replaced in `path` (0: the text was not found)."""

    path: str
    replaced_count: int


@dataclass(frozen=True)
class SearchEntry:
    """Files (never directories) under `path`, recursively, whose base name matches the glob
    `pattern` (e.g. "*.py")."""

    path: str
    pattern: str = "**"


@dataclass(frozen=True)
class DirectoryListEntry:
    """The entries under the directory `path` to `depth` levels (None: 1, its children)."""

    path: str
    depth: Optional[int] = None
