"""Conversions between the client's models and osbd's proto messages, shared by the sync and
async clients so that both send the same requests and read events the same way."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
import re
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import grpc
from google.protobuf import duration_pb2, timestamp_pb2

from osb._proto.opensandbox.v1 import (commands_pb2, common_pb2, files_pb2, pools_pb2,
                                       sandboxes_pb2, templates_pb2)
from osb.config import ConnectionConfig
from osb.exceptions import from_rpc_error, invalid_argument
from osb.models import (BatchJob, BatchJobResult, BatchOptions, BatchTarget,
                        ContentReplaceEntry, ContentReplaceResult, DirectoryListEntry, EntryInfo,
                        Execution, ExecutionComplete, ExecutionError, ExecutionInit, HealthCheck,
                        MoveEntry, OutputMessage, PagedSandboxInfos, PagedSnapshotInfos,
                        PaginationInfo, RunCommandOpts, SandboxFilter, SandboxInfo,
                        SandboxMetrics, SandboxStatus, SearchEntry, SetPermissionEntry,
                        SnapshotInfo, WriteEntry)

DEFAULT_TIMEOUT = timedelta(minutes=10)
DEFAULT_READY_TIMEOUT = timedelta(seconds=30)


def _duration(value: timedelta) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromTimedelta(value)
    return d


def _time(message, name: str) -> Optional[datetime]:
    if not message.HasField(name):
        return None
    stamp: timestamp_pb2.Timestamp = getattr(message, name)
    return stamp.ToDatetime(tzinfo=timezone.utc)


def create_request(config: ConnectionConfig, image: Optional[str], *,
                   timeout: Optional[timedelta], ready_timeout: timedelta,
                   env: Optional[Dict[str, str]], metadata: Optional[Dict[str, str]],
                   resource: Optional[Dict[str, str]], entrypoint: Optional[List[str]],
                   skip_health_check: bool,
                   snapshot_id: Optional[str] = None,
                   health_check: Optional[HealthCheck] = None
                   ) -> sandboxes_pb2.CreateSandboxRequest:
    """`timeout` None means no TTL (manual cleanup), as the official SDK's None does. Exactly
    one of `image` and `snapshot_id` (osbd refuses anything else with INVALID_ARGUMENT)."""
    request = sandboxes_pb2.CreateSandboxRequest(
        connection=config.to_proto(), image=image or "", snapshot_id=snapshot_id or "",
        env=env or {}, metadata=metadata or {},
        resource_limits=resource or {}, entrypoint=entrypoint or [],
        skip_health_check=skip_health_check, ready_timeout=_duration(ready_timeout))
    if timeout is None:
        request.manual_cleanup = True
    else:
        request.timeout.CopyFrom(_duration(timeout))
    if health_check is not None:
        request.health_check.CopyFrom(health_check_proto(health_check))
    return request


def health_check_proto(check: HealthCheck) -> common_pb2.HealthCheck:
    """A HealthCheck as the proto's; InvalidArgumentException for more than one of a command, an
    HTTP port and a TCP port (osbd checks the values)."""
    if not isinstance(check, HealthCheck):
        raise invalid_argument("health_check must be an osb.HealthCheck")
    probes = (check.command, check.http_port, check.tcp_port)
    if sum(probe is not None for probe in probes) > 1:
        raise invalid_argument(
            "a health check probes a command, an HTTP port or a TCP port, not more than one")
    message = common_pb2.HealthCheck()
    if check.polling_interval is not None:
        message.polling_interval.CopyFrom(_duration(check.polling_interval))
    if check.initial_delay is not None:
        message.initial_delay.CopyFrom(_duration(check.initial_delay))
    if check.command is not None:
        message.command.command = check.command
        if check.command_timeout is not None:
            message.command.timeout.CopyFrom(_duration(check.command_timeout))
    elif check.http_port is not None:
        message.http.CopyFrom(common_pb2.HttpProbe(port=check.http_port, path=check.http_path,
                                                   expected_status=list(check.expected_status)))
    elif check.tcp_port is not None:
        message.tcp.CopyFrom(common_pb2.TcpProbe(port=check.tcp_port))
    return message


def sandbox_info(message: sandboxes_pb2.Sandbox) -> SandboxInfo:
    status = message.status
    return SandboxInfo(
        id=message.id,
        status=SandboxStatus(state=status.state, reason=status.reason, message=status.message,
                             last_transition_at=_time(status, "last_transition_at")),
        created_at=_time(message, "created_at"),
        expires_at=_time(message, "expires_at"),
        entrypoint=list(message.entrypoint),
        image=message.image,
        metadata=dict(message.metadata))


def create_snapshot_request(config: ConnectionConfig, sandbox_id: str, name: Optional[str],
                            wait: bool) -> sandboxes_pb2.CreateSnapshotRequest:
    return sandboxes_pb2.CreateSnapshotRequest(
        connection=config.to_proto(), sandbox_id=sandbox_id, name=name or "", wait=wait)


def get_snapshot_request(config: ConnectionConfig,
                         snapshot_id: str) -> sandboxes_pb2.GetSnapshotRequest:
    return sandboxes_pb2.GetSnapshotRequest(connection=config.to_proto(), snapshot_id=snapshot_id)


def list_snapshots_request(config: ConnectionConfig, sandbox_id: Optional[str],
                           states: Optional[List[str]], page: Optional[int],
                           page_size: Optional[int]) -> sandboxes_pb2.ListSnapshotsRequest:
    return sandboxes_pb2.ListSnapshotsRequest(
        connection=config.to_proto(), sandbox_id=sandbox_id or "", states=states or [],
        page=page or 0, page_size=page_size or 0)


def delete_snapshot_request(config: ConnectionConfig,
                            snapshot_id: str) -> sandboxes_pb2.DeleteSnapshotRequest:
    return sandboxes_pb2.DeleteSnapshotRequest(connection=config.to_proto(),
                                               snapshot_id=snapshot_id)


def snapshot_info(message: sandboxes_pb2.Snapshot) -> SnapshotInfo:
    status = message.status
    return SnapshotInfo(
        id=message.id, sandbox_id=message.sandbox_id, name=message.name,
        status=SandboxStatus(state=status.state, reason=status.reason, message=status.message,
                             last_transition_at=_time(status, "last_transition_at")),
        created_at=_time(message, "created_at"))


def _pagination(p) -> PaginationInfo:
    return PaginationInfo(page=p.page, page_size=p.page_size, total_items=p.total_items,
                          total_pages=p.total_pages, has_next_page=p.has_next_page)


def paged_snapshots(response: sandboxes_pb2.ListSnapshotsResponse) -> PagedSnapshotInfos:
    return PagedSnapshotInfos(snapshot_infos=[snapshot_info(s) for s in response.snapshots],
                              pagination=_pagination(response.pagination))


def list_request(config: ConnectionConfig,
                 sandbox_filter: SandboxFilter) -> sandboxes_pb2.ListSandboxesRequest:
    return sandboxes_pb2.ListSandboxesRequest(
        connection=config.to_proto(), states=sandbox_filter.states,
        metadata=sandbox_filter.metadata, page=sandbox_filter.page or 0,
        page_size=sandbox_filter.page_size or 0)


def paged_infos(response: sandboxes_pb2.ListSandboxesResponse) -> PagedSandboxInfos:
    return PagedSandboxInfos(sandbox_infos=[sandbox_info(s) for s in response.sandboxes],
                             pagination=_pagination(response.pagination))


def run_request(config: ConnectionConfig, sandbox_id: str, command: str,
                opts: Optional[RunCommandOpts]) -> commands_pb2.RunCommandRequest:
    opts = opts or RunCommandOpts()
    request = commands_pb2.RunCommandRequest(
        connection=config.to_proto(), sandbox_id=sandbox_id, command=command,
        cwd=opts.working_directory or "", background=opts.background, envs=opts.envs)
    if opts.timeout is not None:
        request.timeout.CopyFrom(_duration(opts.timeout))
    if opts.uid is not None:
        request.uid = opts.uid
    if opts.gid is not None:
        request.gid = opts.gid
    return request


def add_output(execution: Execution, kind: str, data: bytes,
               timestamp: int) -> Tuple[str, OutputMessage]:
    """Appends a piece of `kind` ("stdout" or "stderr") output to `execution`; returns the handler
    to call and its argument."""
    message = OutputMessage(text=data.decode("utf-8", errors="replace"), timestamp=timestamp,
                            is_error=kind == "stderr")
    getattr(execution.logs, kind).append(message)
    return "on_" + kind, message


def stream(call, handlers, fold) -> Execution:
    """Reads a call's events into a new Execution with `fold` (event -> (handler name, argument)
    or None), calling `handlers` in order. Raises a SandboxException for an RPC error, and what a
    handler raises (the call is then cancelled)."""
    execution = Execution()
    try:
        for event in call:
            step = fold(execution, event)
            if step is not None and getattr(handlers, step[0]) is not None:
                getattr(handlers, step[0])(step[1])
    except grpc.RpcError as e:
        raise from_rpc_error(e) from None
    finally:
        call.cancel()  # a no-op once the call ended; stops the stream if a handler raised
    return execution


def apply_event(execution: Execution,
                event: commands_pb2.CommandEvent) -> Optional[Tuple[str, object]]:
    """Folds one event into `execution`; returns the handler to call (its ExecutionHandlers
    attribute name) and its argument, or None."""
    timestamp = event.time.ToMilliseconds()
    kind = event.WhichOneof("kind")
    if kind == "started":
        execution.id = event.started.command_id
        return "on_init", ExecutionInit(id=execution.id, timestamp=timestamp)
    if kind in ("stdout", "stderr"):
        return add_output(execution, kind, getattr(event, kind).data, timestamp)
    if kind == "completed":
        execution.exit_code = 0
        execution.complete = ExecutionComplete(
            timestamp=timestamp,
            execution_time_in_millis=event.completed.execution_time.ToMilliseconds())
        return "on_execution_complete", execution.complete
    if kind == "failed":
        failed = event.failed
        execution.exit_code = failed.exit_code if failed.HasField("exit_code") else None
        execution.error = ExecutionError(name=failed.name, value=failed.value,
                                         timestamp=timestamp, traceback=list(failed.traceback))
        return "on_error", execution.error
    # `broken`: osbd ends the call with an error status right after it, which the caller raises.
    return None


_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$")


def byte_range(range_header: Optional[str]) -> Tuple[int, int]:
    """(offset, length) of Files.Read for an HTTP byte range as the official SDK's
    `range_header` takes it: "bytes=0-1023", "bytes=100-" (to the end), "bytes=-100" (the last
    100 bytes). None: the whole file."""
    if range_header is None:
        return 0, 0
    match = _RANGE.match(range_header)
    if not match or not (match.group(1) or match.group(2)):
        raise invalid_argument(
            f"range_header must be 'bytes=FIRST-LAST', 'bytes=FIRST-' or 'bytes=-N', "
            f"got {range_header!r}")
    first, last = match.group(1), match.group(2)
    if not first:
        if int(last) == 0:
            raise invalid_argument(f"range_header {range_header!r} selects no bytes")
        return -int(last), 0
    if not last:
        return int(first), 0
    if int(last) < int(first):
        raise invalid_argument(f"range_header {range_header!r} ends before it starts")
    return int(first), int(last) - int(first) + 1


def read_file_request(config: ConnectionConfig, sandbox_id: str, path: str,
                      range_header: Optional[str] = None) -> files_pb2.ReadFileRequest:
    offset, length = byte_range(range_header)
    return files_pb2.ReadFileRequest(connection=config.to_proto(), sandbox_id=sandbox_id,
                                     path=path, offset=offset, length=length)


def rechunk(chunks: Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    """`chunks` regrouped into pieces of exactly `chunk_size` bytes, the last one shorter."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= chunk_size:
            yield bytes(buffer[:chunk_size])
            del buffer[:chunk_size]
    if buffer:
        yield bytes(buffer)


def chunk_size_of(chunk_size: int) -> int:
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise invalid_argument(f"chunk_size must be a positive integer, got {chunk_size!r}")
    return chunk_size


def file_bytes(data, encoding: str = "utf-8") -> bytes:
    """`data` of write_file as bytes: str is encoded with `encoding`."""
    if isinstance(data, str):
        return data.encode(encoding)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise invalid_argument(f"write_file data must be str or bytes, not {type(data).__name__}")


WRITE_CHUNK = 64 * 1024


def _mode(mode: Optional[int], what: str) -> int:
    if mode is None:
        return 0
    if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o7777:
        raise invalid_argument(f"{what} mode must be permission bits such as 0o644, got {mode!r}")
    return mode


def _pieces(data, encoding: str, chunk_size: int) -> Tuple[Iterator[bytes], Optional[int]]:
    """The bytes of `data` in chunks, and their total when known: str and bytes at once, a file
    object (binary, or text encoded with `encoding`) read as the stream is sent."""
    if data is None:
        data = b""
    if hasattr(data, "read") and not isinstance(data, (str, bytes, bytearray, memoryview)):
        def read():
            while True:
                piece = data.read(chunk_size)
                if not piece:
                    return
                yield piece.encode(encoding) if isinstance(piece, str) else bytes(piece)
        return read(), None
    whole = file_bytes(data, encoding)
    return (whole[start:start + chunk_size] for start in range(0, len(whole), chunk_size)), \
        len(whole)


def write_file_requests(config: ConnectionConfig, sandbox_id: str, path: str, data,
                        mode: Optional[int], *, owner: Optional[str] = None,
                        group: Optional[str] = None, encoding: str = "utf-8",
                        chunk_size: int = WRITE_CHUNK):
    """The Files.Write stream: a header, then the bytes in chunks. `data` is str, bytes or a file
    object; `mode` is plain permission bits (0o644), None keeps execd's default. The header is
    built (and checked) before the stream starts, so a bad argument raises here."""
    header = files_pb2.WriteFileHeader(
        connection=config.to_proto(), sandbox_id=sandbox_id, path=path,
        mode=_mode(mode, "file"), owner=owner or "", group=group or "")
    pieces, size = _pieces(data, encoding, chunk_size)
    if size is not None:
        header.size = size

    def stream():
        yield files_pb2.WriteFileRequest(header=header)
        for piece in pieces:
            yield files_pb2.WriteFileRequest(data=piece)
    return stream()


def write_entry_requests(config: ConnectionConfig, sandbox_id: str, entry: WriteEntry):
    if not isinstance(entry, WriteEntry):
        raise invalid_argument("write_files takes osb.WriteEntry objects")
    return write_file_requests(config, sandbox_id, entry.path, entry.data, entry.mode,
                               owner=entry.owner, group=entry.group, encoding=entry.encoding)


_ENTRY_TYPES = {files_pb2.FILE_TYPE_FILE: "file", files_pb2.FILE_TYPE_DIRECTORY: "directory",
                files_pb2.FILE_TYPE_SYMLINK: "symlink", files_pb2.FILE_TYPE_OTHER: "other"}


def entry_info(message: files_pb2.FileInfo) -> EntryInfo:
    return EntryInfo(path=message.path, entry_type=_ENTRY_TYPES.get(message.type),
                     mode=message.mode, owner=message.owner, group=message.group,
                     size=message.size, modified_at=_time(message, "modified_at"),
                     created_at=_time(message, "created_at"))


def _paths(paths, what: str) -> List[str]:
    if isinstance(paths, str):
        return [paths]
    paths = list(paths)
    if not all(isinstance(p, str) for p in paths):
        raise invalid_argument(f"{what} takes paths as str")
    return paths


def get_info_request(config: ConnectionConfig, sandbox_id: str,
                     paths) -> files_pb2.GetFileInfoRequest:
    return files_pb2.GetFileInfoRequest(connection=config.to_proto(), sandbox_id=sandbox_id,
                                        paths=_paths(paths, "get_file_info"))


def list_directory_request(config: ConnectionConfig, sandbox_id: str,
                           entry: DirectoryListEntry) -> files_pb2.ListDirectoryRequest:
    if isinstance(entry, str):
        entry = DirectoryListEntry(path=entry)
    request = files_pb2.ListDirectoryRequest(connection=config.to_proto(), sandbox_id=sandbox_id,
                                             path=entry.path)
    if entry.depth is not None:
        if isinstance(entry.depth, bool) or not isinstance(entry.depth, int) or entry.depth < 0:
            raise invalid_argument(f"depth must be a non-negative integer, got {entry.depth!r}")
        request.depth = entry.depth
    return request


def search_request(config: ConnectionConfig, sandbox_id: str,
                   entry: SearchEntry) -> files_pb2.SearchFilesRequest:
    return files_pb2.SearchFilesRequest(connection=config.to_proto(), sandbox_id=sandbox_id,
                                        path=entry.path, pattern=entry.pattern)


def _permission(entry, what: str) -> files_pb2.FilePermission:
    return files_pb2.FilePermission(path=entry.path, mode=_mode(entry.mode, what),
                                    owner=entry.owner or "", group=entry.group or "")


def make_directories_request(config: ConnectionConfig, sandbox_id: str,
                             entries) -> files_pb2.MakeDirectoriesRequest:
    """`entries` are WriteEntry (or SetPermissionEntry) objects, or plain paths."""
    entries = [WriteEntry(path=e) if isinstance(e, str) else e for e in entries]
    return files_pb2.MakeDirectoriesRequest(
        connection=config.to_proto(), sandbox_id=sandbox_id,
        directories=[_permission(e, "directory") for e in entries])


def delete_files_request(config: ConnectionConfig, sandbox_id: str,
                         paths) -> files_pb2.DeleteFilesRequest:
    return files_pb2.DeleteFilesRequest(connection=config.to_proto(), sandbox_id=sandbox_id,
                                        paths=_paths(paths, "delete_files"))


def delete_directories_request(config: ConnectionConfig, sandbox_id: str,
                               paths) -> files_pb2.DeleteDirectoriesRequest:
    return files_pb2.DeleteDirectoriesRequest(connection=config.to_proto(),
                                              sandbox_id=sandbox_id,
                                              paths=_paths(paths, "delete_directories"))


def move_request(config: ConnectionConfig, sandbox_id: str,
                 entries: Iterable[MoveEntry]) -> files_pb2.MoveFilesRequest:
    return files_pb2.MoveFilesRequest(
        connection=config.to_proto(), sandbox_id=sandbox_id,
        moves=[files_pb2.FileMove(source=e.src, destination=e.dest) for e in entries])


def set_permissions_request(config: ConnectionConfig, sandbox_id: str,
                            entries: Iterable[SetPermissionEntry]
                            ) -> files_pb2.SetPermissionsRequest:
    return files_pb2.SetPermissionsRequest(
        connection=config.to_proto(), sandbox_id=sandbox_id,
        permissions=[_permission(e, "permission") for e in entries])


def replace_request(config: ConnectionConfig, sandbox_id: str,
                    entries: Iterable[ContentReplaceEntry]) -> files_pb2.ReplaceContentsRequest:
    return files_pb2.ReplaceContentsRequest(
        connection=config.to_proto(), sandbox_id=sandbox_id,
        replacements=[files_pb2.ContentReplacement(path=e.path, old_content=e.old_content,
                                                   new_content=e.new_content)
                      for e in entries])


def replace_results(response: files_pb2.ReplaceContentsResponse) -> List[ContentReplaceResult]:
    return [ContentReplaceResult(path=r.path, replaced_count=r.replaced_count)
            for r in response.results]


def sandbox_metrics(message: sandboxes_pb2.SandboxMetrics) -> SandboxMetrics:
    return SandboxMetrics(cpu_count=message.cpu_count,
                          cpu_used_percentage=message.cpu_used_percent,
                          memory_total_in_mib=message.memory_total_mib,
                          memory_used_in_mib=message.memory_used_mib,
                          timestamp=_time(message, "time"))


def renew_request(config: ConnectionConfig, sandbox_id: str,
                  timeout: timedelta) -> sandboxes_pb2.RenewSandboxRequest:
    """The new expiry is `timeout` from now, as the official SDK's renew(timedelta)."""
    if timeout <= timedelta(0):
        raise invalid_argument("renew timeout must be positive")
    return sandboxes_pb2.RenewSandboxRequest(connection=config.to_proto(), sandbox_id=sandbox_id,
                                             timeout=_duration(timeout))


def session_run_request(config: ConnectionConfig, sandbox_id: str, session_id: str,
                        command: str, working_directory: Optional[str],
                        timeout: Optional[timedelta]) -> commands_pb2.RunInSessionRequest:
    request = commands_pb2.RunInSessionRequest(
        connection=config.to_proto(), sandbox_id=sandbox_id, session_id=session_id,
        command=command, cwd=working_directory or "")
    if timeout is not None:
        request.timeout.CopyFrom(_duration(timeout))
    return request


def create_session_request(config: ConnectionConfig, sandbox_id: str,
                           working_directory: Optional[str]) -> commands_pb2.CreateSessionRequest:
    return commands_pb2.CreateSessionRequest(connection=config.to_proto(), sandbox_id=sandbox_id,
                                             cwd=working_directory or "")


def delete_session_request(config: ConnectionConfig, sandbox_id: str,
                           session_id: str) -> commands_pb2.DeleteSessionRequest:
    return commands_pb2.DeleteSessionRequest(connection=config.to_proto(), sandbox_id=sandbox_id,
                                             session_id=session_id)


def metrics_request(config: ConnectionConfig,
                    sandbox_id: str) -> sandboxes_pb2.GetSandboxMetricsRequest:
    return sandboxes_pb2.GetSandboxMetricsRequest(connection=config.to_proto(),
                                                  sandbox_id=sandbox_id)


def define_template_request(name: str, *, image: str, description: str,
                            timeout: Optional[timedelta], env: Optional[Dict[str, str]],
                            metadata: Optional[Dict[str, str]], resource: Optional[Dict[str, str]],
                            entrypoint: Optional[List[str]]) -> templates_pb2.DefineTemplateRequest:
    template = templates_pb2.Template(
        name=name, image=image, description=description, env=env or {}, metadata=metadata or {},
        resource_limits=resource or {}, entrypoint=entrypoint or [])
    if timeout is not None:
        template.timeout.CopyFrom(_duration(timeout))
    return templates_pb2.DefineTemplateRequest(template=template)


def define_pool_request(config: ConnectionConfig, name: str, template: str, min_idle: int,
                        max_idle: int) -> pools_pb2.DefinePoolRequest:
    """The pool's members are made through `config`'s service."""
    return pools_pb2.DefinePoolRequest(pool=pools_pb2.Pool(
        name=name, template=template, min_idle=min_idle, max_idle=max_idle,
        connection=config.to_proto()))


def acquire_request(name: str, fail_fast: bool,
                    sandbox_timeout: Optional[timedelta]) -> pools_pb2.AcquireSandboxRequest:
    request = pools_pb2.AcquireSandboxRequest(
        pool_name=name,
        policy=pools_pb2.ACQUIRE_POLICY_FAIL_FAST if fail_fast
        else pools_pb2.ACQUIRE_POLICY_DIRECT_CREATE)
    if sandbox_timeout is not None:
        request.sandbox_timeout.CopyFrom(_duration(sandbox_timeout))
    return request


def release_request(name: str, sandbox_id: str, reuse: bool) -> pools_pb2.ReleaseSandboxRequest:
    return pools_pb2.ReleaseSandboxRequest(pool_name=name, sandbox_id=sandbox_id, reuse=reuse)


def _count(name: str, value, limit: int) -> int:
    """A count the proto holds unsigned; InvalidArgumentException unless an int in [0, limit]."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise invalid_argument(f"{name} must be an integer from 0 to {limit}, got {value!r}")
    return value


_UINT32_MAX = 2**32 - 1


def _batch_target(target) -> commands_pb2.BatchTarget:
    """A BatchTarget, or one sandbox (a Sandbox, AsyncSandbox or id), as the proto's target: one
    id becomes `sandbox_id` (which code jobs with a context need), several `sandboxes`."""
    if not isinstance(target, BatchTarget):
        target = BatchTarget.sandbox(target)
    ids = list(target.sandbox_ids)
    if sum((bool(ids), bool(target.template), bool(target.pool))) != 1:
        raise invalid_argument(
            "a batch target needs exactly one of sandbox_ids, template and pool")
    if not all(isinstance(i, str) for i in ids):
        raise invalid_argument("a batch target's sandboxes must be Sandbox objects or ids")
    if len(ids) == 1:
        return commands_pb2.BatchTarget(sandbox_id=ids[0])
    if ids:
        return commands_pb2.BatchTarget(sandboxes=commands_pb2.BatchSandboxes(
            sandbox_ids=ids,
            distribution=commands_pb2.BATCH_DISTRIBUTION_EACH if target.each
            else commands_pb2.BATCH_DISTRIBUTION_SPREAD))
    fresh = commands_pb2.BatchFreshSandboxes(count=_count("count", target.count, _UINT32_MAX),
                                             keep=target.keep)
    if target.template:
        fresh.template = target.template
    else:
        fresh.pool = target.pool
    return commands_pb2.BatchTarget(fresh=fresh)


def _batch_job(index: int, job) -> commands_pb2.BatchJob:
    """A BatchJob, or a str as a command job. A job with neither command nor code is sent as is:
    osbd refuses the batch, naming the job."""
    if isinstance(job, str):
        job = BatchJob(command=job)
    if not isinstance(job, BatchJob):
        raise invalid_argument(f"jobs[{index}] must be a BatchJob or a command string")
    if job.command is not None and job.code is not None:
        raise invalid_argument(f"jobs[{index}]: a command or code, not both")
    message = commands_pb2.BatchJob(id=job.id)
    if job.code is not None:
        message.code.CopyFrom(commands_pb2.BatchCode(
            code=job.code, language=job.language or "", context_id=job.context_id or ""))
    elif job.command is not None:
        command = commands_pb2.BatchCommand(command=job.command,
                                            cwd=job.working_directory or "", envs=job.envs)
        if job.uid is not None:
            command.uid = job.uid
        if job.gid is not None:
            command.gid = job.gid
        message.command.CopyFrom(command)
    if job.timeout is not None:
        message.timeout.CopyFrom(_duration(job.timeout))
    return message


def batch_request(config: ConnectionConfig, target, jobs: Iterable,
                  options: Optional[BatchOptions]) -> commands_pb2.RunBatchRequest:
    """Commands.RunBatch's request. InvalidArgumentException for what the proto cannot carry (a
    bad target, a job with both command and code, a negative count); osbd checks the rest."""
    if isinstance(jobs, (str, BatchJob)):
        raise invalid_argument("jobs must be a list of jobs")
    options = options or BatchOptions()
    request = commands_pb2.RunBatchRequest(
        connection=config.to_proto(), target=_batch_target(target),
        jobs=[_batch_job(i, job) for i, job in enumerate(jobs)],
        max_parallel=_count("max_parallel", options.max_parallel, _UINT32_MAX),
        stop_on_failure=options.stop_on_failure,
        output_limit_bytes=_count("output_limit_bytes", options.output_limit_bytes, 2**64 - 1))
    if options.job_timeout is not None:
        request.job_timeout.CopyFrom(_duration(options.job_timeout))
    return request


def batch_job_result(message: commands_pb2.BatchJobResult) -> BatchJobResult:
    return BatchJobResult(
        job_id=message.job_id, sandbox_id=message.sandbox_id or None, success=message.success,
        exit_code=message.exit_code if message.HasField("exit_code") else None,
        stdout=message.stdout.decode("utf-8", errors="replace"),
        stderr=message.stderr.decode("utf-8", errors="replace"),
        error=message.error or None,
        duration=message.duration.ToTimedelta() if message.HasField("duration") else None,
        command_id=message.command_id or None, skipped=message.skipped,
        result_text=message.result_text or None, stdout_truncated=message.stdout_truncated,
        stderr_truncated=message.stderr_truncated, started_at=_time(message, "started_at"))
