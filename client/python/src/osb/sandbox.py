"""The synchronous client: Sandbox, its commands and files, and SandboxManager.

    from osb import Sandbox, ExecutionHandlers

    with Sandbox.create("debian") as sandbox:
        execution = sandbox.commands.run("echo hello; exit 3")
        print(execution.logs.stdout[0].text, execution.exit_code)   # hello 3
        sandbox.kill()

Every call goes to osbd over its Unix socket and fails with a SandboxException subclass.
Leaving the `with` block closes the connection to osbd; only kill() deletes the sandbox.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Dict, Iterator, List, Optional

import grpc

from osb import _wire
from osb._proto.opensandbox.v1 import (commands_pb2, commands_pb2_grpc, files_pb2_grpc,
                                       sandboxes_pb2, sandboxes_pb2_grpc)
from osb.config import ConnectionConfig
from osb.exceptions import from_rpc_error
from osb.models import (ContentReplaceEntry, ContentReplaceResult, DirectoryListEntry,
                        EntryInfo, Execution, ExecutionHandlers, HealthCheck, MoveEntry,
                        PagedSandboxInfos, PagedSnapshotInfos, RunCommandOpts, SandboxFilter,
                        SandboxInfo, SandboxMetrics, SearchEntry, SetPermissionEntry,
                        SnapshotInfo, WriteEntry)


class _Daemon:
    """A channel to osbd and the stubs on it."""

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config
        self.channel = grpc.insecure_channel(config.target)
        self.sandboxes = sandboxes_pb2_grpc.SandboxesStub(self.channel)
        self.commands = commands_pb2_grpc.CommandsStub(self.channel)
        self.files = files_pb2_grpc.FilesStub(self.channel)

    def call(self, method, request, *, readiness: bool = False):
        """`readiness`: the call waits for a sandbox to become ready (Create, Resume)."""
        try:
            return method(request)
        except grpc.RpcError as e:
            raise from_rpc_error(e, readiness=readiness) from None

    def get_info(self, sandbox_id: str) -> SandboxInfo:
        return _wire.sandbox_info(self.call(self.sandboxes.Get, sandboxes_pb2.GetSandboxRequest(
            connection=self.config.to_proto(), sandbox_id=sandbox_id)))

    def kill(self, sandbox_id: str) -> None:
        self.call(self.sandboxes.Kill, sandboxes_pb2.KillSandboxRequest(
            connection=self.config.to_proto(), sandbox_id=sandbox_id))

    def pause(self, sandbox_id: str) -> None:
        self.call(self.sandboxes.Pause, sandboxes_pb2.PauseSandboxRequest(
            connection=self.config.to_proto(), sandbox_id=sandbox_id))

    def resume(self, sandbox_id: str, resume_timeout: timedelta) -> None:
        request = sandboxes_pb2.ResumeSandboxRequest(
            connection=self.config.to_proto(), sandbox_id=sandbox_id)
        request.ready_timeout.FromTimedelta(resume_timeout)
        self.call(self.sandboxes.Resume, request, readiness=True)

    def renew(self, sandbox_id: str, timeout: timedelta) -> None:
        self.call(self.sandboxes.Renew, _wire.renew_request(self.config, sandbox_id, timeout))

    def create_snapshot(self, sandbox_id: str, name: Optional[str], wait: bool) -> SnapshotInfo:
        return _wire.snapshot_info(self.call(
            self.sandboxes.CreateSnapshot,
            _wire.create_snapshot_request(self.config, sandbox_id, name, wait)))


class Commands:
    """`sandbox.commands`: shell commands with streamed output."""

    def __init__(self, daemon: _Daemon, sandbox_id: str) -> None:
        self._daemon = daemon
        self._sandbox_id = sandbox_id

    def run(self, command: str, *, opts: Optional[RunCommandOpts] = None,
            handlers: Optional[ExecutionHandlers] = None) -> Execution:
        """Runs `command` with bash and returns once it ended.

        A non-zero exit is not an exception: it is `execution.error` with `exit_code`. Raises a
        SandboxException when the command could not be started or its stream broke (then its
        outcome is unknown), and whatever a handler raises (the run is then abandoned).
        """
        return self._stream(self._daemon.commands.Run(
            _wire.run_request(self._daemon.config, self._sandbox_id, command, opts)), handlers)

    def attach(self, command_id: str, *, after_seq: int = 0,
               handlers: Optional[ExecutionHandlers] = None) -> Execution:
        """Replays a run osbd journalled from after event `after_seq` and follows it to its end,
        as run() does; so a client that lost its stream misses nothing. SandboxNotFoundException
        when osbd no longer holds the run."""
        request = commands_pb2.AttachCommandRequest(
            connection=self._daemon.config.to_proto(), sandbox_id=self._sandbox_id,
            command_id=command_id, after_seq=after_seq)
        execution = self._stream(self._daemon.commands.Attach(request), handlers)
        execution.id = execution.id or command_id
        return execution

    def create_session(self, *, working_directory: Optional[str] = None) -> str:
        """Starts a bash session whose `cd` and `export` carry over between runs; its id."""
        return self._daemon.call(self._daemon.commands.CreateSession,
                                 _wire.create_session_request(
                                     self._daemon.config, self._sandbox_id,
                                     working_directory)).session_id

    def run_in_session(self, session_id: str, command: str, *,
                       working_directory: Optional[str] = None,
                       timeout: Optional[timedelta] = None,
                       handlers: Optional[ExecutionHandlers] = None) -> Execution:
        """Runs `command` in the session, as run() does; stderr arrives merged into stdout."""
        return self._stream(self._daemon.commands.RunInSession(_wire.session_run_request(
            self._daemon.config, self._sandbox_id, session_id, command, working_directory,
            timeout)), handlers)

    def delete_session(self, session_id: str) -> None:
        """Ends the session; SandboxNotFoundException when there is none."""
        self._daemon.call(self._daemon.commands.DeleteSession, _wire.delete_session_request(
            self._daemon.config, self._sandbox_id, session_id))

    @staticmethod
    def _stream(call, handlers: Optional[ExecutionHandlers]) -> Execution:
        return _wire.stream(call, handlers or ExecutionHandlers(), _wire.apply_event)


class Filesystem:
    """`sandbox.files`: files inside the sandbox (osbd's Files service), named as the official
    SDK's `sandbox.files`. Contents stream in chunks both ways; modes are plain permission bits
    (0o644). Every method raises a SandboxException subclass: SandboxNotFoundException for a
    missing path, InvalidArgumentException for a bad request, FailedPreconditionException
    when the sandbox is not running."""

    def __init__(self, daemon: _Daemon, sandbox_id: str) -> None:
        self._daemon = daemon
        self._sandbox_id = sandbox_id

    def _base(self) -> dict:
        return {"config": self._daemon.config, "sandbox_id": self._sandbox_id}

    def read_file(self, path: str, *, encoding: str = "utf-8",
                  range_header: Optional[str] = None) -> str:
        """The file (or the byte range `range_header`, e.g. "bytes=0-1023") decoded with
        `encoding`."""
        return self.read_bytes(path, range_header=range_header).decode(encoding)

    def read_bytes(self, path: str, *, range_header: Optional[str] = None) -> bytes:
        """The file's bytes, or those of `range_header` ("bytes=FIRST-LAST", "bytes=FIRST-",
        "bytes=-N"); a range past the end is shortened to it."""
        return b"".join(self.read_bytes_stream(path, range_header=range_header))

    def read_bytes_stream(self, path: str, *, chunk_size: int = 64 * 1024,
                          range_header: Optional[str] = None) -> Iterator[bytes]:
        """The file's bytes in pieces of `chunk_size` (the last shorter), read from osbd as they
        are consumed, so a large file never sits in memory whole. The call starts here: a
        missing file raises SandboxNotFoundException at once; a stream that breaks later
        raises while iterating. Closing the iterator early cancels the read."""
        chunk_size = _wire.chunk_size_of(chunk_size)
        call = self._daemon.files.Read(
            _wire.read_file_request(self._daemon.config, self._sandbox_id, path, range_header))
        try:
            first = next(call, None)
        except grpc.RpcError as e:
            call.cancel()
            raise from_rpc_error(e) from None
        return _wire.rechunk(self._chunks(call, first), chunk_size)

    @staticmethod
    def _chunks(call, first) -> Iterator[bytes]:
        try:
            if first is None:
                return
            yield first.data
            for chunk in call:
                yield chunk.data
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        finally:
            call.cancel()  # a no-op once the call ended; stops the read if the caller left

    def write_file(self, path: str, data, *, encoding: str = "utf-8",
                   mode: Optional[int] = None, owner: Optional[str] = None,
                   group: Optional[str] = None) -> None:
        """Creates or replaces `path` (and its missing parents) with `data`: str (encoded with
        `encoding`), bytes, or a file object streamed in 64 KiB chunks. `mode` like 0o644 (None:
        execd's default); `owner`, `group` names or numeric ids as text."""
        requests = _wire.write_file_requests(self._daemon.config, self._sandbox_id, path, data,
                                             mode, owner=owner, group=group, encoding=encoding)
        self._daemon.call(self._daemon.files.Write, requests)

    def write_files(self, entries: List[WriteEntry]) -> None:
        """Writes each entry as write_file does, in order; stops at the first failure."""
        streams = [_wire.write_entry_requests(self._daemon.config, self._sandbox_id, e)
                   for e in entries]  # every entry checked before anything is written
        for requests in streams:
            self._daemon.call(self._daemon.files.Write, requests)

    def get_file_info(self, paths: List[str]) -> Dict[str, EntryInfo]:
        """Metadata of each path (symlinks not followed), keyed by the path as given;
        SandboxNotFoundException when any is missing."""
        response = self._daemon.call(self._daemon.files.GetInfo,
                                     _wire.get_info_request(**self._base(), paths=paths))
        return {path: _wire.entry_info(info) for path, info in response.infos.items()}

    def list_directory(self, entry: DirectoryListEntry) -> List[EntryInfo]:
        """The entries under `entry.path` to `entry.depth` levels (default 1), lexically ordered
        per directory, children after their parent (a str is a path)."""
        response = self._daemon.call(self._daemon.files.ListDirectory,
                                     _wire.list_directory_request(**self._base(), entry=entry))
        return [_wire.entry_info(e) for e in response.entries]

    def search(self, entry: SearchEntry) -> List[EntryInfo]:
        """Files under `entry.path` (recursively) whose base name matches `entry.pattern`."""
        response = self._daemon.call(self._daemon.files.Search,
                                     _wire.search_request(**self._base(), entry=entry))
        return [_wire.entry_info(e) for e in response.files]

    def create_directories(self, entries: List[WriteEntry]) -> None:
        """mkdir -p of each entry's path, then its `mode` (None: 0o755), `owner` and `group`."""
        self._daemon.call(self._daemon.files.MakeDirectories,
                          _wire.make_directories_request(**self._base(), entries=entries))

    def delete_files(self, paths: List[str]) -> None:
        """Deletes files; missing ones are ignored, a directory is an error."""
        self._daemon.call(self._daemon.files.Delete,
                          _wire.delete_files_request(**self._base(), paths=paths))

    def delete_directories(self, paths: List[str]) -> None:
        """Deletes directories with everything in them (rm -rf)."""
        self._daemon.call(self._daemon.files.DeleteDirectories,
                          _wire.delete_directories_request(**self._base(), paths=paths))

    def move_files(self, entries: List[MoveEntry]) -> None:
        """Renames each `src` to `dest` in order (creating `dest`'s parents);
        SandboxNotFoundException for a missing source."""
        self._daemon.call(self._daemon.files.Move,
                          _wire.move_request(**self._base(), entries=entries))

    def set_permissions(self, entries: List[SetPermissionEntry]) -> None:
        """chmod / chown each entry's path (None fields are left unchanged)."""
        self._daemon.call(self._daemon.files.SetPermissions,
                          _wire.set_permissions_request(**self._base(), entries=entries))

    def replace_contents(self, entries: List[ContentReplaceEntry]) -> None:
        """Replaces every occurrence of each entry's `old_content` in its file."""
        self.replace_contents_detailed(entries)

    def replace_contents_detailed(self, entries: List[ContentReplaceEntry]
                                  ) -> List[ContentReplaceResult]:
        """As replace_contents, returning how many occurrences each file had replaced."""
        return _wire.replace_results(self._daemon.call(
            self._daemon.files.Replace, _wire.replace_request(**self._base(), entries=entries)))


class Sandbox:
    """A sandbox reached through osbd. Make one with `create` or `connect`."""

    def __init__(self, sandbox_id: str, daemon: _Daemon) -> None:
        self._id = sandbox_id
        self._daemon = daemon
        self.commands = Commands(daemon, sandbox_id)
        self.files = Filesystem(daemon, sandbox_id)

    @classmethod
    def create(cls, image: Optional[str] = None, *,
               timeout: Optional[timedelta] = _wire.DEFAULT_TIMEOUT,
               ready_timeout: timedelta = _wire.DEFAULT_READY_TIMEOUT,
               env: Optional[Dict[str, str]] = None, metadata: Optional[Dict[str, str]] = None,
               resource: Optional[Dict[str, str]] = None,
               entrypoint: Optional[List[str]] = None, skip_health_check: bool = False,
               snapshot_id: Optional[str] = None, health_check: Optional[HealthCheck] = None,
               connection_config: Optional[ConnectionConfig] = None) -> "Sandbox":
        """Creates a sandbox from `image` or from a Ready snapshot (`snapshot_id`: its files, and
        its source's entrypoint unless one is given) and, unless `skip_health_check`, waits until
        it is ready.

        `timeout` is its time to live (at least 60 s; None: no TTL, it lives until killed);
        `resource` its limits, e.g. {"cpu": "1", "memory": "2Gi"} (the default). If the sandbox
        does not become ready within `ready_timeout`, osbd deletes it and this raises
        SandboxReadyTimeoutException. `health_check` chooses the readiness probe osbd runs
        (default: execd's /ping).
        """
        daemon = _Daemon(connection_config or ConnectionConfig())
        request = _wire.create_request(
            daemon.config, image, timeout=timeout, ready_timeout=ready_timeout, env=env,
            metadata=metadata, resource=resource, entrypoint=entrypoint,
            skip_health_check=skip_health_check, snapshot_id=snapshot_id,
            health_check=health_check)
        try:
            created = daemon.call(daemon.sandboxes.Create, request, readiness=True)
        except BaseException:
            daemon.channel.close()
            raise
        return cls(created.id, daemon)

    @classmethod
    def connect(cls, sandbox_id: str, *,
                connection_config: Optional[ConnectionConfig] = None) -> "Sandbox":
        """Attaches to an existing sandbox; raises SandboxNotFoundException if there is none."""
        daemon = _Daemon(connection_config or ConnectionConfig())
        try:
            daemon.get_info(sandbox_id)
        except BaseException:
            daemon.channel.close()
            raise
        return cls(sandbox_id, daemon)

    @property
    def id(self) -> str:
        return self._id

    @property
    def connection_config(self) -> ConnectionConfig:
        return self._daemon.config

    def get_info(self) -> SandboxInfo:
        """The sandbox's current state and attributes."""
        return self._daemon.get_info(self._id)

    def kill(self) -> None:
        """Deletes the sandbox and everything in it."""
        self._daemon.kill(self._id)

    def pause(self) -> None:
        """Freezes the sandbox's processes; returns once the service accepted the request."""
        self._daemon.pause(self._id)

    def resume(self, *, resume_timeout: timedelta = _wire.DEFAULT_READY_TIMEOUT) -> None:
        """Thaws a paused sandbox and waits until it is ready again."""
        self._daemon.resume(self._id, resume_timeout)

    def renew(self, timeout: timedelta) -> None:
        """Moves the sandbox's expiry to `timeout` from now."""
        self._daemon.renew(self._id, timeout)

    def create_snapshot(self, name: Optional[str] = None, *, wait: bool = True) -> SnapshotInfo:
        """Captures the sandbox's files; waits until the snapshot is Ready (or Failed) unless
        `wait` is False. Sandbox.create(snapshot_id=...) starts new sandboxes from it."""
        return self._daemon.create_snapshot(self._id, name, wait)

    def get_metrics(self) -> SandboxMetrics:
        """CPU and memory use inside the sandbox, measured over half a second."""
        return _wire.sandbox_metrics(self._daemon.call(
            self._daemon.sandboxes.GetMetrics, _wire.metrics_request(self._daemon.config, self._id)))

    def close(self) -> None:
        """Closes the connection to osbd; the sandbox keeps running."""
        self._daemon.channel.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SandboxManager:
    """Sandboxes by id, without a Sandbox object: list, inspect, kill, pause, resume."""

    def __init__(self, daemon: _Daemon) -> None:
        self._daemon = daemon

    @classmethod
    def create(cls, connection_config: Optional[ConnectionConfig] = None) -> "SandboxManager":
        return cls(_Daemon(connection_config or ConnectionConfig()))

    def list_sandbox_infos(self, sandbox_filter: Optional[SandboxFilter] = None
                           ) -> PagedSandboxInfos:
        """One page of sandboxes, newest first (page 1 of 20 unless the filter says else)."""
        request = _wire.list_request(self._daemon.config, sandbox_filter or SandboxFilter())
        return _wire.paged_infos(self._daemon.call(self._daemon.sandboxes.List, request))

    def get_sandbox_info(self, sandbox_id: str) -> SandboxInfo:
        return self._daemon.get_info(sandbox_id)

    def kill_sandbox(self, sandbox_id: str) -> None:
        self._daemon.kill(sandbox_id)

    def pause_sandbox(self, sandbox_id: str) -> None:
        self._daemon.pause(sandbox_id)

    def resume_sandbox(self, sandbox_id: str, *,
                       resume_timeout: timedelta = _wire.DEFAULT_READY_TIMEOUT) -> None:
        self._daemon.resume(sandbox_id, resume_timeout)

    def renew_sandbox(self, sandbox_id: str, timeout: timedelta) -> None:
        self._daemon.renew(sandbox_id, timeout)

    def create_snapshot(self, sandbox_id: str, name: Optional[str] = None, *,
                        wait: bool = True) -> SnapshotInfo:
        return self._daemon.create_snapshot(sandbox_id, name, wait)

    def get_snapshot(self, snapshot_id: str) -> SnapshotInfo:
        return _wire.snapshot_info(self._daemon.call(
            self._daemon.sandboxes.GetSnapshot,
            _wire.get_snapshot_request(self._daemon.config, snapshot_id)))

    def list_snapshots(self, *, sandbox_id: Optional[str] = None,
                       states: Optional[List[str]] = None, page: Optional[int] = None,
                       page_size: Optional[int] = None) -> PagedSnapshotInfos:
        """One page of snapshots, newest first; `states` match any (case-insensitive)."""
        return _wire.paged_snapshots(self._daemon.call(
            self._daemon.sandboxes.ListSnapshots, _wire.list_snapshots_request(
                self._daemon.config, sandbox_id, states, page, page_size)))

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._daemon.call(self._daemon.sandboxes.DeleteSnapshot,
                          _wire.delete_snapshot_request(self._daemon.config, snapshot_id))

    def close(self) -> None:
        self._daemon.channel.close()

    def __enter__(self) -> "SandboxManager":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
