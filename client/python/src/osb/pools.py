"""Templates and warm pools kept by osbd: named sandbox presets, and pools of ready sandboxes
made from them that hand one out in a few milliseconds.

    from osb import PoolManager, Sandbox, TemplateManager

    TemplateManager.create().define("py", image="python:3.11", env={"MODE": "test"})
    pools = PoolManager.create()
    pools.define("py", template="py", min_idle=4)
    sandbox = pools.acquire("py")        # a ready Sandbox
    ...
    pools.release("py", sandbox)         # killed (or reused with reuse=True)

osb.aio has their asyncio twins, AsyncTemplateManager and AsyncPoolManager.
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
        return self._daemon.call(self._stub.Define, _wire.define_template_request(
            name, image=image, description=description, timeout=timeout, env=env,
            metadata=metadata, resource=resource, entrypoint=entrypoint))

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
        """Creates or replaces the pool and starts filling it in the background; its members are
        made through this manager's connection. SandboxNotFoundException for an unknown template."""
        self._daemon.call(self._stub.Define, _wire.define_pool_request(
            self._daemon.config, name, template, min_idle, max_idle))

    def list(self) -> List[pools_pb2.Pool]:
        """Every pool's definition."""
        return list(self._daemon.call(self._stub.List, pools_pb2.ListPoolsRequest()).pools)

    def acquire(self, name: str, *, fail_fast: bool = False,
                sandbox_timeout: Optional[timedelta] = None) -> Sandbox:
        """A ready sandbox from the pool, now yours. With no idle one: created on the spot, or,
        with `fail_fast`, PoolEmptyException (code OSBD::POOL_EMPTY). `sandbox_timeout` renews
        it to expire that long from now."""
        acquired = self._daemon.call(self._stub.Acquire,
                                     _wire.acquire_request(name, fail_fast, sandbox_timeout))
        return Sandbox(acquired.sandbox.id, _Daemon(self._daemon.config))

    def release(self, name: str, sandbox: Sandbox, *, reuse: bool = False) -> bool:
        """Kills the sandbox, or with `reuse` returns it to the idle set (when there is room and it
        still runs; you vouch it is clean); whether it was reused."""
        return self._daemon.call(self._stub.Release,
                                 _wire.release_request(name, sandbox.id, reuse)).reused

    def stats(self, name: str) -> pools_pb2.PoolStats:
        """Idle and creating members and counters; SandboxNotFoundException for an unknown pool."""
        return self._daemon.call(self._stub.GetStats, pools_pb2.GetPoolStatsRequest(name=name))

    def delete(self, name: str, *, keep_idle: bool = False) -> None:
        """Kills the pool's idle members (unless `keep_idle`) and forgets it."""
        self._daemon.call(self._stub.Delete,
                          pools_pb2.DeletePoolRequest(name=name, keep_idle=keep_idle))

    def close(self) -> None:
        self._daemon.channel.close()
