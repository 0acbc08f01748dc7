"""The asyncio client over grpc.aio: AsyncSandbox, AsyncSandboxManager, AsyncTemplateManager,
AsyncPoolManager and AsyncBatchRunner, the same API as osb.sandbox, osb.pools and osb.batch with
`await` (handlers may be plain or coroutine functions).

    async with await AsyncSandbox.create("debian") as sandbox:
        execution = await sandbox.commands.run("echo hello")
        await sandbox.kill()
"""

from __future__ import annotations

import inspect
from datetime import timedelta
from typing import AsyncIterator, Dict, Iterable, List, Optional, Union

import grpc
import grpc.aio

from osb import _wire
from osb._proto.opensandbox.v1 import (commands_pb2, commands_pb2_grpc, files_pb2_grpc, pools_pb2,
                                       pools_pb2_grpc, sandboxes_pb2, sandboxes_pb2_grpc,
                                       templates_pb2, templates_pb2_grpc)
from osb.config import ConnectionConfig
from osb.exceptions import from_rpc_error
from osb.models import (BatchJob, BatchJobResult, BatchOptions, BatchTarget,
                        ContentReplaceEntry, ContentReplaceResult, DirectoryListEntry, EntryInfo,
                        Execution, ExecutionHandlers, Handler, HealthCheck, MoveEntry,
                        PagedSandboxInfos, PagedSnapshotInfos, RunCommandOpts, SandboxFilter,
                        SandboxInfo, SandboxMetrics, SearchEntry, SetPermissionEntry,
                        SnapshotInfo, WriteEntry)


class _AsyncDaemon:
    """An asyncio channel to osbd and the stubs on it."""

    def __init__(self, config: ConnectionConfig) -> None:
        self.config = config
        self.channel = grpc.aio.insecure_channel(config.target)
        self.sandboxes = sandboxes_pb2_grpc.SandboxesStub(self.channel)
        self.commands = commands_pb2_grpc.CommandsStub(self.channel)
        self.files = files_pb2_grpc.FilesStub(self.channel)

    async def call(self, method, request, *, readiness: bool = False):
        """`readiness`: the call waits for a sandbox to become ready (Create, Resume)."""
        try:
            return await method(request)
        except grpc.RpcError as e:
            raise from_rpc_error(e, readiness=readiness) from None

    async def get_info(self, sandbox_id: str) -> SandboxInfo:
        return _wire.sandbox_info(await self.call(
            self.sandboxes.Get,
            sandboxes_pb2.GetSandboxRequest(connection=self.config.to_proto(),
                                            sandbox_id=sandbox_id)))

    async def kill(self, sandbox_id: str) -> None:
        await self.call(self.sandboxes.Kill, sandboxes_pb2.KillSandboxRequest(
            connection=self.config.to_proto(), sandbox_id=sandbox_id))

    async def pause(self, sandbox_id: str) -> None:
        await self.call(self.sandboxes.Pause, sandboxes_pb2.PauseSandboxRequest(
            connection=self.config.to_proto(), sandbox_id=sandbox_id))

    async def resume(self, sandbox_id: str, resume_timeout: timedelta) -> None:
        request = sandboxes_pb2.ResumeSandboxRequest(
            connection=self.config.to_proto(), sandbox_id=sandbox_id)
        request.ready_timeout.FromTimedelta(resume_timeout)
        await self.call(self.sandboxes.Resume, request, readiness=True)

    async def renew(self, sandbox_id: str, timeout: timedelta) -> None:
        await self.call(self.sandboxes.Renew, _wire.renew_request(self.config, sandbox_id, timeout))

    async def create_snapshot(self, sandbox_id: str, name: Optional[str],
                              wait: bool) -> SnapshotInfo:
        return _wire.snapshot_info(await self.call(
            self.sandboxes.CreateSnapshot,
            _wire.create_snapshot_request(self.config, sandbox_id, name, wait)))


class AsyncCommands:
    """`sandbox.commands` of an AsyncSandbox; see osb.sandbox.Commands."""

    def __init__(self, daemon: _AsyncDaemon, sandbox_id: str) -> None:
        self._daemon = daemon
        self._sandbox_id = sandbox_id

    async def run(self, command: str, *, opts: Optional[RunCommandOpts] = None,
                  handlers: Optional[ExecutionHandlers] = None) -> Execution:
        """As Commands.run; a coroutine handler is awaited before the next event is read."""
        return await self._stream(self._daemon.commands.Run(
            _wire.run_request(self._daemon.config, self._sandbox_id, command, opts)), handlers)

    async def attach(self, command_id: str, *, after_seq: int = 0,
                     handlers: Optional[ExecutionHandlers] = None) -> Execution:
        """As Commands.attach: replays a run osbd journalled from after event `after_seq` and
        follows it to its end; SandboxNotFoundException when osbd no longer holds the run."""
        request = commands_pb2.AttachCommandRequest(
            connection=self._daemon.config.to_proto(), sandbox_id=self._sandbox_id,
            command_id=command_id, after_seq=after_seq)
        execution = await self._stream(self._daemon.commands.Attach(request), handlers)
        execution.id = execution.id or command_id
        return execution

    async def create_session(self, *, working_directory: Optional[str] = None) -> str:
        """As Commands.create_session."""
        created = await self._daemon.call(self._daemon.commands.CreateSession,
                                          _wire.create_session_request(
                                              self._daemon.config, self._sandbox_id,
                                              working_directory))
        return created.session_id

    async def run_in_session(self, session_id: str, command: str, *,
                             working_directory: Optional[str] = None,
                             timeout: Optional[timedelta] = None,
                             handlers: Optional[ExecutionHandlers] = None) -> Execution:
        """As Commands.run_in_session."""
        return await self._stream(self._daemon.commands.RunInSession(_wire.session_run_request(
            self._daemon.config, self._sandbox_id, session_id, command, working_directory,
            timeout)), handlers)

    async def delete_session(self, session_id: str) -> None:
        """As Commands.delete_session."""
        await self._daemon.call(self._daemon.commands.DeleteSession, _wire.delete_session_request(
            self._daemon.config, self._sandbox_id, session_id))

    @staticmethod
    async def _stream(call, handlers: Optional[ExecutionHandlers]) -> Execution:
        handlers = handlers or ExecutionHandlers()
        execution = Execution()
        try:
            async for event in call:
                step = _wire.apply_event(execution, event)
                if step is not None and getattr(handlers, step[0]) is not None:
                    result = getattr(handlers, step[0])(step[1])
                    if inspect.isawaitable(result):
                        await result
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        finally:
            call.cancel()  # a no-op once the call ended; stops the stream if a handler raised
        return execution


class AsyncFilesystem:
    """`sandbox.files` of an AsyncSandbox; see osb.sandbox.Filesystem."""

    def __init__(self, daemon: _AsyncDaemon, sandbox_id: str) -> None:
        self._daemon = daemon
        self._sandbox_id = sandbox_id

    def _base(self) -> dict:
        return {"config": self._daemon.config, "sandbox_id": self._sandbox_id}

    async def read_file(self, path: str, *, encoding: str = "utf-8",
                        range_header: Optional[str] = None) -> str:
        """As Filesystem.read_file."""
        return (await self.read_bytes(path, range_header=range_header)).decode(encoding)

    async def read_bytes(self, path: str, *, range_header: Optional[str] = None) -> bytes:
        """As Filesystem.read_bytes."""
        chunks = []
        async for chunk in await self.read_bytes_stream(path, range_header=range_header):
            chunks.append(chunk)
        return b"".join(chunks)

    async def read_bytes_stream(self, path: str, *, chunk_size: int = 64 * 1024,
                                range_header: Optional[str] = None) -> AsyncIterator[bytes]:
        """As Filesystem.read_bytes_stream, as the official async SDK has it: awaiting starts
        the read (and raises for a missing file), then `async for` the pieces:

            async for chunk in await sandbox.files.read_bytes_stream(path): ...
        """
        chunk_size = _wire.chunk_size_of(chunk_size)
        call = self._daemon.files.Read(
            _wire.read_file_request(self._daemon.config, self._sandbox_id, path, range_header))
        try:
            first = await call.read()
        except grpc.RpcError as e:
            call.cancel()
            raise from_rpc_error(e) from None
        return self._chunks(call, first, chunk_size)

    @staticmethod
    async def _chunks(call, first, chunk_size: int) -> AsyncIterator[bytes]:
        buffer = bytearray()
        try:
            message = first
            while message is not grpc.aio.EOF:
                buffer += message.data
                while len(buffer) >= chunk_size:
                    yield bytes(buffer[:chunk_size])
                    del buffer[:chunk_size]
                message = await call.read()
            if buffer:
                yield bytes(buffer)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        finally:
            call.cancel()  # a no-op once the call ended; stops the read if the caller left

    async def write_file(self, path: str, data, *, encoding: str = "utf-8",
                         mode: Optional[int] = None, owner: Optional[str] = None,
                         group: Optional[str] = None) -> None:
        """As Filesystem.write_file."""
        requests = _wire.write_file_requests(self._daemon.config, self._sandbox_id, path, data,
                                             mode, owner=owner, group=group, encoding=encoding)
        await self._daemon.call(self._daemon.files.Write, requests)

    async def write_files(self, entries: List[WriteEntry]) -> None:
        """As Filesystem.write_files."""
        streams = [_wire.write_entry_requests(self._daemon.config, self._sandbox_id, e)
                   for e in entries]
        for requests in streams:
            await self._daemon.call(self._daemon.files.Write, requests)

    async def get_file_info(self, paths: List[str]) -> Dict[str, EntryInfo]:
        """As Filesystem.get_file_info."""
        response = await self._daemon.call(self._daemon.files.GetInfo,
                                           _wire.get_info_request(**self._base(), paths=paths))
        return {path: _wire.entry_info(info) for path, info in response.infos.items()}

    async def list_directory(self, entry: DirectoryListEntry) -> List[EntryInfo]:
        """As Filesystem.list_directory."""
        response = await self._daemon.call(
            self._daemon.files.ListDirectory,
            _wire.list_directory_request(**self._base(), entry=entry))
        return [_wire.entry_info(e) for e in response.entries]

    async def search(self, entry: SearchEntry) -> List[EntryInfo]:
        """As Filesystem.search."""
        response = await self._daemon.call(self._daemon.files.Search,
                                           _wire.search_request(**self._base(), entry=entry))
        return [_wire.entry_info(e) for e in response.files]

    async def create_directories(self, entries: List[WriteEntry]) -> None:
        """As Filesystem.create_directories."""
        await self._daemon.call(self._daemon.files.MakeDirectories,
                                _wire.make_directories_request(**self._base(), entries=entries))

    async def delete_files(self, paths: List[str]) -> None:
        """As Filesystem.delete_files."""
        await self._daemon.call(self._daemon.files.Delete,
                                _wire.delete_files_request(**self._base(), paths=paths))

    async def delete_directories(self, paths: List[str]) -> None:
        """As Filesystem.delete_directories."""
        await self._daemon.call(self._daemon.files.DeleteDirectories,
                                _wire.delete_directories_request(**self._base(), paths=paths))

    async def move_files(self, entries: List[MoveEntry]) -> None:
        """As Filesystem.move_files."""
        await self._daemon.call(self._daemon.files.Move,
                                _wire.move_request(**self._base(), entries=entries))

    async def set_permissions(self, entries: List[SetPermissionEntry]) -> None:
        """As Filesystem.set_permissions."""
        await self._daemon.call(self._daemon.files.SetPermissions,
                                _wire.set_permissions_request(**self._base(), entries=entries))

    async def replace_contents(self, entries: List[ContentReplaceEntry]) -> None:
        """As Filesystem.replace_contents."""
        await self.replace_contents_detailed(entries)

    async def replace_contents_detailed(self, entries: List[ContentReplaceEntry]
                                        ) -> List[ContentReplaceResult]:
        """As Filesystem.replace_contents_detailed."""
        return _wire.replace_results(await self._daemon.call(
            self._daemon.files.Replace, _wire.replace_request(**self._base(), entries=entries)))


class AsyncSandbox:
    """A sandbox reached through osbd, for asyncio. Make one with `create` or `connect`."""

    def __init__(self, sandbox_id: str, daemon: _AsyncDaemon) -> None:
        self._id = sandbox_id
        self._daemon = daemon
        self.commands = AsyncCommands(daemon, sandbox_id)
        self.files = AsyncFilesystem(daemon, sandbox_id)

    @classmethod
    async def create(cls, image: Optional[str] = None, *,
                     timeout: Optional[timedelta] = _wire.DEFAULT_TIMEOUT,
                     ready_timeout: timedelta = _wire.DEFAULT_READY_TIMEOUT,
                     env: Optional[Dict[str, str]] = None,
                     metadata: Optional[Dict[str, str]] = None,
                     resource: Optional[Dict[str, str]] = None,
                     entrypoint: Optional[List[str]] = None, skip_health_check: bool = False,
                     snapshot_id: Optional[str] = None,
                     health_check: Optional[HealthCheck] = None,
                     connection_config: Optional[ConnectionConfig] = None) -> "AsyncSandbox":
        """As Sandbox.create."""
        daemon = _AsyncDaemon(connection_config or ConnectionConfig())
        request = _wire.create_request(
            daemon.config, image, timeout=timeout, ready_timeout=ready_timeout, env=env,
            metadata=metadata, resource=resource, entrypoint=entrypoint,
            skip_health_check=skip_health_check, snapshot_id=snapshot_id,
            health_check=health_check)
        try:
            created = await daemon.call(daemon.sandboxes.Create, request, readiness=True)
        except BaseException:
            await daemon.channel.close()
            raise
        return cls(created.id, daemon)

    @classmethod
    async def connect(cls, sandbox_id: str, *,
                      connection_config: Optional[ConnectionConfig] = None) -> "AsyncSandbox":
        """As Sandbox.connect."""
        daemon = _AsyncDaemon(connection_config or ConnectionConfig())
        try:
            await daemon.get_info(sandbox_id)
        except BaseException:
            await daemon.channel.close()
            raise
        return cls(sandbox_id, daemon)

    @property
    def id(self) -> str:
        return self._id

    @property
    def connection_config(self) -> ConnectionConfig:
        return self._daemon.config

    async def get_info(self) -> SandboxInfo:
        return await self._daemon.get_info(self._id)

    async def kill(self) -> None:
        await self._daemon.kill(self._id)

    async def pause(self) -> None:
        await self._daemon.pause(self._id)

    async def resume(self, *, resume_timeout: timedelta = _wire.DEFAULT_READY_TIMEOUT) -> None:
        await self._daemon.resume(self._id, resume_timeout)

    async def renew(self, timeout: timedelta) -> None:
        """Moves the sandbox's expiry to `timeout` from now."""
        await self._daemon.renew(self._id, timeout)

    async def create_snapshot(self, name: Optional[str] = None, *,
                              wait: bool = True) -> SnapshotInfo:
        """As Sandbox.create_snapshot."""
        return await self._daemon.create_snapshot(self._id, name, wait)

    async def get_metrics(self) -> SandboxMetrics:
        """CPU and memory use inside the sandbox, measured over half a second."""
        return _wire.sandbox_metrics(await self._daemon.call(
            self._daemon.sandboxes.GetMetrics, _wire.metrics_request(self._daemon.config, self._id)))

    async def close(self) -> None:
        """Closes the connection to osbd; the sandbox keeps running."""
        await self._daemon.channel.close()

    async def __aenter__(self) -> "AsyncSandbox":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class AsyncSandboxManager:
    """SandboxManager for asyncio."""

    def __init__(self, daemon: _AsyncDaemon) -> None:
        self._daemon = daemon

    @classmethod
    def create(cls, connection_config: Optional[ConnectionConfig] = None
               ) -> "AsyncSandboxManager":
        return cls(_AsyncDaemon(connection_config or ConnectionConfig()))

    async def list_sandbox_infos(self, sandbox_filter: Optional[SandboxFilter] = None
                                 ) -> PagedSandboxInfos:
        request = _wire.list_request(self._daemon.config, sandbox_filter or SandboxFilter())
        return _wire.paged_infos(await self._daemon.call(self._daemon.sandboxes.List, request))

    async def get_sandbox_info(self, sandbox_id: str) -> SandboxInfo:
        return await self._daemon.get_info(sandbox_id)

    async def kill_sandbox(self, sandbox_id: str) -> None:
        await self._daemon.kill(sandbox_id)

    async def pause_sandbox(self, sandbox_id: str) -> None:
        await self._daemon.pause(sandbox_id)

    async def resume_sandbox(self, sandbox_id: str, *,
                             resume_timeout: timedelta = _wire.DEFAULT_READY_TIMEOUT) -> None:
        await self._daemon.resume(sandbox_id, resume_timeout)

    async def renew_sandbox(self, sandbox_id: str, timeout: timedelta) -> None:
        await self._daemon.renew(sandbox_id, timeout)

    async def create_snapshot(self, sandbox_id: str, name: Optional[str] = None, *,
                              wait: bool = True) -> SnapshotInfo:
        return await self._daemon.create_snapshot(sandbox_id, name, wait)

    async def get_snapshot(self, snapshot_id: str) -> SnapshotInfo:
        return _wire.snapshot_info(await self._daemon.call(
            self._daemon.sandboxes.GetSnapshot,
            _wire.get_snapshot_request(self._daemon.config, snapshot_id)))

    async def list_snapshots(self, *, sandbox_id: Optional[str] = None,
                             states: Optional[List[str]] = None, page: Optional[int] = None,
                             page_size: Optional[int] = None) -> PagedSnapshotInfos:
        return _wire.paged_snapshots(await self._daemon.call(
            self._daemon.sandboxes.ListSnapshots, _wire.list_snapshots_request(
                self._daemon.config, sandbox_id, states, page, page_size)))

    async def delete_snapshot(self, snapshot_id: str) -> None:
        await self._daemon.call(self._daemon.sandboxes.DeleteSnapshot,
                                _wire.delete_snapshot_request(self._daemon.config, snapshot_id))

    async def close(self) -> None:
        await self._daemon.channel.close()

    async def __aenter__(self) -> "AsyncSandboxManager":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class AsyncTemplateManager:
    """TemplateManager for asyncio."""

    def __init__(self, daemon: _AsyncDaemon) -> None:
        self._daemon = daemon
        self._stub = templates_pb2_grpc.TemplatesStub(daemon.channel)

    @classmethod
    def create(cls, connection_config: Optional[ConnectionConfig] = None
               ) -> "AsyncTemplateManager":
        return cls(_AsyncDaemon(connection_config or ConnectionConfig()))

    async def define(self, name: str, *, image: str = "", description: str = "",
                     timeout: Optional[timedelta] = None, env: Optional[Dict[str, str]] = None,
                     metadata: Optional[Dict[str, str]] = None,
                     resource: Optional[Dict[str, str]] = None,
                     entrypoint: Optional[List[str]] = None) -> templates_pb2.Template:
        """As TemplateManager.define."""
        return await self._daemon.call(self._stub.Define, _wire.define_template_request(
            name, image=image, description=description, timeout=timeout, env=env,
            metadata=metadata, resource=resource, entrypoint=entrypoint))

    async def get(self, name: str) -> templates_pb2.Template:
        return await self._daemon.call(self._stub.Get, templates_pb2.GetTemplateRequest(name=name))

    async def list(self) -> List[templates_pb2.Template]:
        return list((await self._daemon.call(self._stub.List,
                                             templates_pb2.ListTemplatesRequest())).templates)

    async def delete(self, name: str) -> None:
        await self._daemon.call(self._stub.Delete, templates_pb2.DeleteTemplateRequest(name=name))

    async def close(self) -> None:
        await self._daemon.channel.close()

    async def __aenter__(self) -> "AsyncTemplateManager":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class AsyncPoolManager:
    """PoolManager for asyncio; acquire() gives an AsyncSandbox."""

    def __init__(self, daemon: _AsyncDaemon) -> None:
        self._daemon = daemon
        self._stub = pools_pb2_grpc.PoolsStub(daemon.channel)

    @classmethod
    def create(cls, connection_config: Optional[ConnectionConfig] = None) -> "AsyncPoolManager":
        return cls(_AsyncDaemon(connection_config or ConnectionConfig()))

    async def define(self, name: str, *, template: str, min_idle: int,
                     max_idle: int = 0) -> None:
        """As PoolManager.define."""
        await self._daemon.call(self._stub.Define, _wire.define_pool_request(
            self._daemon.config, name, template, min_idle, max_idle))

    async def list(self) -> List[pools_pb2.Pool]:
        return list((await self._daemon.call(self._stub.List,
                                             pools_pb2.ListPoolsRequest())).pools)

    async def acquire(self, name: str, *, fail_fast: bool = False,
                      sandbox_timeout: Optional[timedelta] = None) -> AsyncSandbox:
        """As PoolManager.acquire."""
        acquired = await self._daemon.call(
            self._stub.Acquire, _wire.acquire_request(name, fail_fast, sandbox_timeout))
        return AsyncSandbox(acquired.sandbox.id, _AsyncDaemon(self._daemon.config))

    async def release(self, name: str, sandbox: AsyncSandbox, *, reuse: bool = False) -> bool:
        """As PoolManager.release."""
        return (await self._daemon.call(
            self._stub.Release, _wire.release_request(name, sandbox.id, reuse))).reused

    async def stats(self, name: str) -> pools_pb2.PoolStats:
        return await self._daemon.call(self._stub.GetStats,
                                       pools_pb2.GetPoolStatsRequest(name=name))

    async def delete(self, name: str, *, keep_idle: bool = False) -> None:
        await self._daemon.call(self._stub.Delete,
                                pools_pb2.DeletePoolRequest(name=name, keep_idle=keep_idle))

    async def close(self) -> None:
        await self._daemon.channel.close()

    async def __aenter__(self) -> "AsyncPoolManager":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()


class AsyncBatchRunner:
    """BatchRunner for asyncio."""

    def __init__(self, daemon: _AsyncDaemon) -> None:
        self._daemon = daemon

    @classmethod
    def create(cls, connection_config: Optional[ConnectionConfig] = None) -> "AsyncBatchRunner":
        return cls(_AsyncDaemon(connection_config or ConnectionConfig()))

    def stream(self, target: Union[BatchTarget, AsyncSandbox, str],
               jobs: Iterable[Union[BatchJob, str]], options: Optional[BatchOptions] = None
               ) -> AsyncIterator[BatchJobResult]:
        """As BatchRunner.stream, for `async for`: raises at once for what cannot be sent, and
        while iterating when osbd refuses the batch. Closing the iterator early (`aclose()`, or
        dropping it) cancels the call."""
        request = _wire.batch_request(self._daemon.config, target, jobs, options)
        return self._results(request)

    async def run(self, target: Union[BatchTarget, AsyncSandbox, str],
                  jobs: Iterable[Union[BatchJob, str]], options: Optional[BatchOptions] = None,
                  *, on_result: Optional[Handler[BatchJobResult]] = None
                  ) -> List[BatchJobResult]:
        """As BatchRunner.run; a coroutine `on_result` is awaited before the next result."""
        results = []
        stream = self.stream(target, jobs, options)
        try:
            async for result in stream:
                results.append(result)
                if on_result is not None:
                    awaited = on_result(result)
                    if inspect.isawaitable(awaited):
                        await awaited
        finally:
            await stream.aclose()
        return results

    async def _results(self, request) -> AsyncIterator[BatchJobResult]:
        call = self._daemon.commands.RunBatch(request)
        try:
            async for message in call:
                yield _wire.batch_job_result(message)
        except grpc.RpcError as e:
            raise from_rpc_error(e) from None
        finally:
            call.cancel()  # a no-op once the call ended; stops the batch if the caller left

    async def close(self) -> None:
        await self._daemon.channel.close()

    async def __aenter__(self) -> "AsyncBatchRunner":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()
