"""osb: the Python client of osbd, the local OpenSandbox daemon.

Shaped like the official OpenSandbox Python SDK (`opensandbox`), but every call goes through
osbd's gRPC API on a Unix socket instead of HTTP to the server:

    from osb import Sandbox

    sandbox = Sandbox.create("debian")
    print(sandbox.commands.run("uname -a").logs.stdout[0].text)
    sandbox.kill()

`Sandbox`/`SandboxManager` are synchronous; `AsyncSandbox`/`AsyncSandboxManager` use asyncio.
`TemplateManager` and `PoolManager` (`AsyncTemplateManager`, `AsyncPoolManager`) reach osbd's
templates and warm pools; `BatchRunner` (`AsyncBatchRunner`) runs batches of commands and code
cells; `CodeInterpreter` (synchronous) the sandbox's code interpreter.
"""

from osb.aio import (AsyncBatchRunner, AsyncPoolManager, AsyncSandbox, AsyncSandboxManager,
                     AsyncTemplateManager)
from osb.batch import BatchRunner
from osb.code import CodeContext, CodeInterpreter, Codes
from osb.config import ConnectionConfig, default_socket_path
from osb.exceptions import (FailedPreconditionException, InvalidArgumentException,
                            PermissionDeniedException, PoolEmptyException,
                            ResourceExhaustedException, SandboxError, SandboxException,
                            SandboxInternalException, SandboxNotFoundException,
                            SandboxRateLimitException, SandboxReadyTimeoutException,
                            SandboxTimeoutException, SandboxUnhealthyException,
                            UnauthenticatedException, UnavailableException,
                            UnimplementedException)
from osb.models import (BatchJob, BatchJobResult, BatchOptions, BatchTarget, ContentReplaceEntry,
                        ContentReplaceResult, DirectoryListEntry, EntryInfo, Execution,
                        ExecutionComplete, ExecutionError, ExecutionHandlers, ExecutionInit,
                        ExecutionLogs, ExecutionResult, HealthCheck, MoveEntry, OutputMessage,
                        PagedSandboxInfos, PagedSnapshotInfos, PaginationInfo, RunCommandOpts,
                        SandboxFilter, SandboxInfo, SandboxMetrics, SandboxStatus, SearchEntry,
                        SetPermissionEntry, SnapshotInfo, WriteEntry)
from osb.pools import PoolManager, TemplateManager
from osb.sandbox import Sandbox, SandboxManager

__all__ = [
    "AsyncBatchRunner", "AsyncPoolManager", "AsyncSandbox", "AsyncSandboxManager",
    "AsyncTemplateManager", "BatchJob", "BatchJobResult", "BatchOptions", "BatchRunner",
    "BatchTarget", "CodeContext", "CodeInterpreter", "Codes",
    "ConnectionConfig", "ContentReplaceEntry", "ContentReplaceResult", "DirectoryListEntry",
    "EntryInfo", "Execution", "ExecutionComplete",
    "ExecutionError", "ExecutionHandlers", "ExecutionInit", "ExecutionLogs", "ExecutionResult",
    "FailedPreconditionException", "HealthCheck",
    "InvalidArgumentException", "MoveEntry", "OutputMessage", "PagedSandboxInfos",
    "PaginationInfo", "PermissionDeniedException", "PoolEmptyException",
    "PoolManager", "ResourceExhaustedException", "TemplateManager",
    "RunCommandOpts", "Sandbox", "SandboxError", "SandboxException", "SandboxFilter",
    "SandboxInfo", "SandboxInternalException", "SandboxManager", "SandboxMetrics",
    "SandboxNotFoundException", "SandboxRateLimitException", "SandboxReadyTimeoutException",
    "SandboxStatus", "SandboxTimeoutException", "SandboxUnhealthyException", "SearchEntry",
    "SetPermissionEntry", "PagedSnapshotInfos", "SnapshotInfo",
    "UnauthenticatedException", "UnavailableException",
    "UnimplementedException", "WriteEntry", "default_socket_path",
]
