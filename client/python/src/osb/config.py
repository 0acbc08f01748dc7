"""Where osbd listens and which OpenSandbox service each request names.

    config = ConnectionConfig()                        # OSBD_SOCKET or the default socket
    config = ConnectionConfig(domain="sandbox.example.com:8080", api_key="...")

Like the official SDK's ConnectionConfig, `domain` and `api_key` fall back to the environment
(OPEN_SANDBOX_DOMAIN, OPEN_SANDBOX_API_KEY). Unlike it, an empty domain is not "localhost:8080"
but "osbd's default": the service osbd was started with, or its embedded osb-runtime.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Dict, Optional

from osb._proto.opensandbox.v1 import common_pb2


def default_socket_path() -> str:
    """osbd's default socket, as osbd computes it (rest/sys/default_paths.cc)."""
    runtime_dir = os.environ.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        return os.path.join(runtime_dir, "opensandbox", "osbd.sock")
    if os.geteuid() == 0:
        return "/run/opensandbox/osbd.sock"
    return f"/tmp/opensandbox-{os.geteuid()}/osbd.sock"


@dataclass
class ConnectionConfig:
    """How to reach osbd, and the OpenSandbox service every request asks osbd to use.

    Attributes:
        socket: osbd's Unix socket. None: env OSBD_SOCKET, else `default_socket_path()`.
        domain: host[:port] (or http(s):// URL) of the OpenSandbox lifecycle server. None: env
            OPEN_SANDBOX_DOMAIN, else "" (osbd's default service).
        api_key: sent by osbd as OPEN-SANDBOX-API-KEY. None: env OPEN_SANDBOX_API_KEY, else ""
            (osbd's key for its default service; osbd never sends it to another domain).
        protocol: "http" or "https"; "" lets osbd decide (a URL domain's scheme, else http).
        headers: extra HTTP headers osbd sends upstream on every request.
        use_server_proxy: reach execd through the lifecycle server's proxy route.
        request_timeout: limit of each upstream HTTP request osbd makes (osbd's default: 30 s).
        profile: a connection profile of osbd's config file; "" the default.
    """

    socket: Optional[str] = None
    domain: Optional[str] = None
    api_key: Optional[str] = None
    protocol: str = ""
    headers: Dict[str, str] = field(default_factory=dict)
    use_server_proxy: bool = False
    request_timeout: Optional[timedelta] = None
    profile: str = ""

    def __post_init__(self) -> None:
        if self.socket is None:
            self.socket = os.environ.get("OSBD_SOCKET") or default_socket_path()
        if self.domain is None:
            self.domain = os.environ.get("OPEN_SANDBOX_DOMAIN", "")
        if self.api_key is None:
            self.api_key = os.environ.get("OPEN_SANDBOX_API_KEY", "")

    @property
    def target(self) -> str:
        """The gRPC target of osbd's socket."""
        return "unix:" + self.socket

    def to_proto(self) -> common_pb2.Connection:
        """The per-request `Connection` message osbd reads."""
        connection = common_pb2.Connection(
            domain=self.domain, protocol=self.protocol, api_key=self.api_key,
            headers=self.headers, use_server_proxy=self.use_server_proxy, profile=self.profile)
        if self.request_timeout is not None:
            connection.request_timeout.FromTimedelta(self.request_timeout)
        return connection
