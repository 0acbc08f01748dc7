"""Typed errors, shaped like the official SDK's `opensandbox.exceptions`.

Every failed call raises a SandboxException (or a subclass chosen by the gRPC status code):

    try:
        sandbox = Sandbox.connect("no-such-id")
    except SandboxNotFoundException as e:
        print(e.error.code, e.request_id)   # "SANDBOX::NOT_FOUND", the server's X-Request-ID

osbd puts the OpenSandbox error code and the upstream request id into the status message
(daemon/services/grpc_status.cc): "SANDBOX::NOT_FOUND: sandbox 42 not found (request id 9f2c)".
This module takes them back out; errors osbd raises itself carry no code, and get the gRPC code's
name ("INVALID_ARGUMENT", "UNIMPLEMENTED", ...) instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import grpc

_CODE_PREFIX = re.compile(r"^([A-Z][A-Z0-9_]*(?:::[A-Z0-9_]+)*): (.*)$", re.DOTALL)
_REQUEST_ID_SUFFIX = re.compile(r"^(.*) \(request id ([^()]+)\)$", re.DOTALL)


@dataclass(frozen=True)
class SandboxError:
    """An error code and message, as in the official SDK (`exception.error`)."""

    code: str
    message: str


class SandboxException(Exception):
    """Any failure of a call to osbd or, through it, to the sandbox service.

    Attributes:
        error: the OpenSandbox error code (e.g. "SANDBOX::NOT_FOUND") or, when osbd itself
            refused the call, the gRPC code's name; and the message without code or request id.
        request_id: the upstream X-Request-ID to quote to the service's operator, or None.
        status_code: the grpc.StatusCode osbd answered with, or None for client-side errors.
    """

    def __init__(self, message: str, *, error: SandboxError, request_id: Optional[str] = None,
                 status_code: Optional[grpc.StatusCode] = None) -> None:
        super().__init__(message)
        self.error = error
        self.request_id = request_id
        self.status_code = status_code

    @property
    def code(self) -> str:
        """Shorthand for `error.code`."""
        return self.error.code


class InvalidArgumentException(SandboxException):
    """The request was malformed (gRPC INVALID_ARGUMENT), e.g. a timeout under 60 s."""


class SandboxNotFoundException(SandboxException):
    """The sandbox (or another named object) does not exist (gRPC NOT_FOUND)."""


class UnimplementedException(SandboxException):
    """This osbd (or the service behind it) does not implement the call yet (UNIMPLEMENTED)."""


_BY_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentException,
    grpc.StatusCode.NOT_FOUND: SandboxNotFoundException,
    grpc.StatusCode.UNIMPLEMENTED: UnimplementedException,
}


def invalid_argument(message: str) -> InvalidArgumentException:
    """A client-side validation error, with the official SDK's code INVALID_ARGUMENT."""
    return InvalidArgumentException(message, error=SandboxError("INVALID_ARGUMENT", message))


def from_rpc_error(rpc_error: grpc.RpcError) -> SandboxException:
    """The typed exception for a failed call (sync grpc.RpcError or grpc.aio.AioRpcError)."""
    status = rpc_error.code()
    details = rpc_error.details() or status.name
    text, request_id = details, None
    match = _REQUEST_ID_SUFFIX.match(text)
    if match:
        text, request_id = match.group(1), match.group(2)
    code = status.name
    match = _CODE_PREFIX.match(text)
    if match:
        code, text = match.group(1), match.group(2)
    cls = _BY_STATUS.get(status, SandboxException)
    return cls(f"{status.name}: {details}", error=SandboxError(code, text),
               request_id=request_id, status_code=status)
