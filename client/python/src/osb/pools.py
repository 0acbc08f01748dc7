"""Templates and warm pools kept by osbd: named sandbox presets, and pools of ready sandboxes
made from them that hand one out in a few milliseconds.

    from osb import PoolManager, Sandbox, TemplateManager

    TemplateManager.create().define("py", image="python:3.11", env={"MODE": "test"})
    pools = PoolManager.create()
    pools.define("py", template="py", min_idle=4)
    sandbox = pools.acquire("py")        # a ready Sandbox
    ...
    pools.release("py", sandbox)         # killed (or reused with reuse=True)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Dict, List, Optional

from osb import _wire
from osb._proto.opensandbox.v1 import (pools_pb2, pools_pb2_grpc, templates_pb2,
                                       templates_pb2_grpc)
from osb.config import ConnectionConfig
from osb.sandbox import Sandbox, _Daemon


class TemplateManager:
    """Named presets of create parameters (osbd's Templates service)."""

    def __init__(self, daemon: _Daemon) -> None:
        self._daemon = daemon
        self._stub = templates_pb2_grpc.TemplatesStub(daemon.channel)

    @classmethod
    def create(cls, connection_config: Optional[ConnectionConfig] = None) -> "TemplateManager":
        return cls(_Daemon(connection_config or ConnectionConfig()))

    def define(self, name: str, *, image: str = "", description: str = "",
               timeout: Optional[timedelta] = None, env: Optional[Dict[str, str]] = None,
               metadata: Optional[Dict[str, str]] = None,
               resource: Optional[Dict[str, str]] = None,
               entrypoint: Optional[List[str]] = None) -> templates_pb2.Template:
        """Creates or replaces the template; InvalidArgumentException for a bad name or value."""
        template = templates_pb2.Template(
            name=name, image=image, description=description, env=env or {},
            metadata=metadata or {}, resource_limits=resource or {}, entrypoint=entrypoint or [])
        if timeout is not None:
            template.timeout.CopyFrom(_wire._duration(timeout))
        return self._daemon.call(self._stub.Define,
                                 templates_pb2.DefineTemplateRequest(template=template))

    def get(self, name: str) -> templates_pb2.Template:
        return self._daemon.call(self._stub.Get, templates_pb2.GetTemplateRequest(name=name))

    def list(self) -> List[templates_pb2.Template]:
        return list(self._daemon.call(self._stub.List,
                                      templates_pb2.ListTemplatesRequest()).templates)

    def delete(self, name: str) -> None:
        self._daemon.call(self._stub.Delete, templates_pb2.DeleteTemplateRequest(name=name))

    def close(self) -> None:
        self._daemon.channel.close()


class PoolManager:
    """Warm pools of ready sandboxes (osbd's Pools service)."""

    def __init__(self, daemon: _Daemon) -> None:
        self._daemon = daemon
        self._stub = pools_pb2_grpc.PoolsStub(daemon.channel)

    @classmethod
    def create(cls, connection_config: Optional[ConnectionConfig] = None) -> "PoolManager":
        return cls(_Daemon(connection_config or ConnectionConfig()))

    def define(self, name: str, *, template: str, min_idle: int, max_idle: int = 0) -> None:
        """Creates or replaces the pool and starts filling it in the background."""
        pool = pools_pb2.Pool(name=name, template=template, min_idle=min_idle,
                              max_idle=max_idle, connection=self._daemon.config.to_proto())
        self._daemon.call(self._stub.Define, pools_pb2.DefinePoolRequest(pool=pool))

    def acquire(self, name: str, *, fail_fast: bool = False,
                sandbox_timeout: Optional[timedelta] = None) -> Sandbox:
        """A ready sandbox from the pool, now yours. With no idle one: created on the spot, or,
        with `fail_fast`, SandboxException with code OSBD::POOL_EMPTY."""
        request = pools_pb2.AcquireSandboxRequest(
            pool_name=name,
            policy=pools_pb2.ACQUIRE_POLICY_FAIL_FAST if fail_fast
            else pools_pb2.ACQUIRE_POLICY_DIRECT_CREATE)
        if sandbox_timeout is not None:
            request.sandbox_timeout.CopyFrom(_wire._duration(sandbox_timeout))
        acquired = self._daemon.call(self._stub.Acquire, request)
        return Sandbox(acquired.sandbox.id, _Daemon(self._daemon.config))

    def release(self, name: str, sandbox: Sandbox, *, reuse: bool = False) -> bool:
        """Kills the sandbox, or with `reuse` returns it to the idle set; whether it was reused."""
        return self._daemon.call(self._stub.Release, pools_pb2.ReleaseSandboxRequest(
            pool_name=name, sandbox_id=sandbox.id, reuse=reuse)).reused

    def stats(self, name: str) -> pools_pb2.PoolStats:
        return self._daemon.call(self._stub.GetStats, pools_pb2.GetPoolStatsRequest(name=name))

    def delete(self, name: str, *, keep_idle: bool = False) -> None:
        self._daemon.call(self._stub.Delete,
                          pools_pb2.DeletePoolRequest(name=name, keep_idle=keep_idle))

    def close(self) -> None:
        self._daemon.channel.close()
