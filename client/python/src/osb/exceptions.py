"""Typed errors, shaped like the official SDK's `opensandbox.exceptions`.

Every failed call raises a SandboxException, as the subclass its gRPC status (and the ErrorInfo
reason osbd sent) calls for:

    try:
        sandbox = Sandbox.connect("no-such-id")
    except SandboxNotFoundException as e:
        print(e.code, e.error.message, e.request_id)   # "SANDBOX::NOT_FOUND", ..., X-Request-ID
    except SandboxRateLimitException as e:
        time.sleep(e.retry_after_seconds or 1)

gRPC status                          exception
INVALID_ARGUMENT, OUT_OF_RANGE       InvalidArgumentException
NOT_FOUND                            SandboxNotFoundException
UNAUTHENTICATED                      UnauthenticatedException
PERMISSION_DENIED                    PermissionDeniedException
RESOURCE_EXHAUSTED                   SandboxRateLimitException (HTTP 429 or a RetryInfo),
                                     PoolEmptyException (OSBD::POOL_EMPTY),
                                     else ResourceExhaustedException
DEADLINE_EXCEEDED                    SandboxReadyTimeoutException (OSBD::READY_TIMEOUT, or while
                                     create/resume waited for readiness),
                                     else SandboxTimeoutException
FAILED_PRECONDITION, ALREADY_EXISTS, SandboxUnhealthyException (OSBD::SANDBOX_UNHEALTHY),
ABORTED                              else FailedPreconditionException
UNAVAILABLE                          UnavailableException
UNIMPLEMENTED                        UnimplementedException
INTERNAL, UNKNOWN, DATA_LOSS         SandboxInternalException
other (CANCELLED)                    SandboxException

Where the details come from: osbd attaches a google.rpc.ErrorInfo to every failure that has an
OpenSandbox code (`reason`, e.g. "SANDBOX::NOT_FOUND", or osbd's own "OSBD::READY_TIMEOUT"),
with `metadata` "request_id" (the upstream X-Request-ID) and "http_status", and a
google.rpc.RetryInfo when the server asked to wait; a request osbd refuses itself is
INVALID_ARGUMENT with a google.rpc.BadRequest naming the request field, e.g. "port" or
"jobs[1].id" (daemon/services/grpc_status.cc). It also
writes code and request id into the status message ("SANDBOX::NOT_FOUND: sandbox 42 not found
(request id 9f2c)"), which this module falls back on. Errors osbd raises itself without a
reason get the gRPC code's name ("INVALID_ARGUMENT", "UNAVAILABLE", ...) as their code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Dict, Optional

import grpc

from osb._rpc_status import details_of

_CODE_PREFIX = re.compile(r"^([A-Z][A-Z0-9_]*(?:::[A-Z0-9_]+)*): (.*)$", re.DOTALL)
_REQUEST_ID_SUFFIX = re.compile(r"^(.*) \(request id ([^()]+)\)$", re.DOTALL)

READY_TIMEOUT_REASON = "OSBD::READY_TIMEOUT"
SANDBOX_UNHEALTHY_REASON = "OSBD::SANDBOX_UNHEALTHY"
POOL_EMPTY_REASON = "OSBD::POOL_EMPTY"


@dataclass(frozen=True)
class SandboxError:
    """An error code and message, as in the official SDK (`exception.error`)."""

    code: str
    message: str


class SandboxException(Exception):
    """Any failure of a call to osbd or, through it, to the sandbox service.

    Attributes:
        error: the OpenSandbox error code (e.g. "SANDBOX::NOT_FOUND", osbd's own
            "OSBD::READY_TIMEOUT") or, when osbd refused the call without one, the gRPC code's
            name; and the message without code or request id.
        request_id: the upstream X-Request-ID to quote to the service's operator, or None.
        status_code: the grpc.StatusCode osbd answered with, or None for client-side errors.
        http_status: the upstream HTTP status (ErrorInfo metadata "http_status"), or None.
        retry_after: how long the server asked to wait (RetryInfo), or None.
        domain: the ErrorInfo domain: "opensandbox.io" for the service's codes,
            "osbd.opensandbox.io" for osbd's own; "" without an ErrorInfo.
        metadata: the ErrorInfo metadata ("request_id", "http_status", "origin", "sandbox_id",
            ...); empty without an ErrorInfo.
        field: the request field osbd refused (the BadRequest's first field violation), as its
            proto path: "port", "jobs[1].id", "moves[0].destination"; "" without a BadRequest.
    """

    def __init__(self, message: str, *, error: SandboxError, request_id: Optional[str] = None,
                 status_code: Optional[grpc.StatusCode] = None,
                 http_status: Optional[int] = None, retry_after: Optional[timedelta] = None,
                 domain: str = "", metadata: Optional[Dict[str, str]] = None,
                 field: str = "") -> None:
        super().__init__(message)
        self.error = error
        self.request_id = request_id
        self.status_code = status_code
        self.http_status = http_status
        self.retry_after = retry_after
        self.domain = domain
        self.metadata = dict(metadata or {})
        self.field = field

    @property
    def code(self) -> str:
        """Shorthand for `error.code`."""
        return self.error.code

    @property
    def message(self) -> str:
        """Shorthand for `error.message`."""
        return self.error.message

    @property
    def retry_after_seconds(self) -> Optional[float]:
        """`retry_after` in seconds, or None."""
        return None if self.retry_after is None else self.retry_after.total_seconds()


class InvalidArgumentException(SandboxException):
    """The request was malformed (INVALID_ARGUMENT, OUT_OF_RANGE), e.g. a timeout under 60 s;
    also raised by the client itself for what it cannot send."""


class SandboxNotFoundException(SandboxException):
    """The sandbox (or another named object: file, session, command, ...) does not exist
    (NOT_FOUND)."""


class UnimplementedException(SandboxException):
    """This osbd (or the service behind it) does not implement the call yet (UNIMPLEMENTED)."""


class UnauthenticatedException(SandboxException):
    """The service refused the API key (UNAUTHENTICATED, HTTP 401): e.g. code
    "INVALID_API_KEY" or "MISSING_API_KEY"."""


class PermissionDeniedException(SandboxException):
    """The key may not do this (PERMISSION_DENIED, HTTP 403)."""


class ResourceExhaustedException(SandboxException):
    """A quota or limit was reached (RESOURCE_EXHAUSTED)."""


class SandboxRateLimitException(ResourceExhaustedException):
    """The service is rate limiting (HTTP 429); `retry_after` is the wait it asked for (from
    its Retry-After), or None."""


class PoolEmptyException(ResourceExhaustedException):
    """A fail-fast acquire found no idle sandbox in the pool (OSBD::POOL_EMPTY)."""


class SandboxTimeoutException(SandboxException):
    """Something took too long (DEADLINE_EXCEEDED, e.g. an upstream 504)."""


class SandboxReadyTimeoutException(SandboxTimeoutException):
    """The sandbox did not become ready within the ready (or resume) timeout
    (OSBD::READY_TIMEOUT); osbd deletes a sandbox it created. The message gives the attempts
    and the last health check error."""


class FailedPreconditionException(SandboxException):
    """The call conflicts with the object's state (FAILED_PRECONDITION / HTTP 409,
    ALREADY_EXISTS, ABORTED): e.g. pausing a sandbox that is not running, renewing one created
    for manual cleanup, a destination that exists."""


class SandboxUnhealthyException(FailedPreconditionException):
    """The sandbox failed (Failed or Terminated) while osbd waited for it to become ready
    (OSBD::SANDBOX_UNHEALTHY)."""


class UnavailableException(SandboxException):
    """osbd, the service or the sandbox could not be reached, or asked to be retried later
    (UNAVAILABLE, HTTP 502/503); `retry_after` when the server said how long."""


class SandboxInternalException(SandboxException):
    """An unexpected failure in osbd or the service (INTERNAL, UNKNOWN, DATA_LOSS)."""


_BY_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgumentException,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgumentException,
    grpc.StatusCode.NOT_FOUND: SandboxNotFoundException,
    grpc.StatusCode.UNIMPLEMENTED: UnimplementedException,
    grpc.StatusCode.UNAUTHENTICATED: UnauthenticatedException,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDeniedException,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhaustedException,
    grpc.StatusCode.DEADLINE_EXCEEDED: SandboxTimeoutException,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPreconditionException,
    grpc.StatusCode.ALREADY_EXISTS: FailedPreconditionException,
    grpc.StatusCode.ABORTED: FailedPreconditionException,
    grpc.StatusCode.UNAVAILABLE: UnavailableException,
    grpc.StatusCode.INTERNAL: SandboxInternalException,
    grpc.StatusCode.UNKNOWN: SandboxInternalException,
    grpc.StatusCode.DATA_LOSS: SandboxInternalException,
}


def invalid_argument(message: str) -> InvalidArgumentException:
    """A client-side validation error, with the official SDK's code INVALID_ARGUMENT."""
    return InvalidArgumentException(message, error=SandboxError("INVALID_ARGUMENT", message))


def _exception_class(status: grpc.StatusCode, reason: str, http_status: Optional[int],
                     retry_after: Optional[timedelta], readiness: bool) -> type:
    if status == grpc.StatusCode.DEADLINE_EXCEEDED and (reason == READY_TIMEOUT_REASON or
                                                        readiness):
        return SandboxReadyTimeoutException
    if reason == SANDBOX_UNHEALTHY_REASON:
        return SandboxUnhealthyException
    if status == grpc.StatusCode.RESOURCE_EXHAUSTED:
        if reason == POOL_EMPTY_REASON:
            return PoolEmptyException
        if http_status == 429 or retry_after is not None:
            return SandboxRateLimitException
    return _BY_STATUS.get(status, SandboxException)


def from_rpc_error(rpc_error: grpc.RpcError, *, readiness: bool = False) -> SandboxException:
    """The typed exception for a failed call (sync grpc.RpcError or grpc.aio.AioRpcError).

    `readiness`: the call waited for a sandbox to become ready (Create, Resume), so a
    DEADLINE_EXCEEDED is a SandboxReadyTimeoutException whatever its reason.
    """
    status = rpc_error.code()
    details = rpc_error.details() or status.name
    info = details_of(rpc_error)
    text, request_id = details, None
    match = _REQUEST_ID_SUFFIX.match(text)
    if match:
        text, request_id = match.group(1), match.group(2)
    code = status.name
    match = _CODE_PREFIX.match(text)
    if match and (not info.reason or match.group(1) == info.reason):
        code, text = match.group(1), match.group(2)
    if info.reason:
        code = info.reason
    request_id = info.metadata.get("request_id") or request_id
    try:
        http_status = int(info.metadata["http_status"])
    except (KeyError, ValueError):
        http_status = None
    cls = _exception_class(status, info.reason, http_status, info.retry_after, readiness)
    return cls(f"{status.name}: {details}", error=SandboxError(code, text),
               request_id=request_id, status_code=status, http_status=http_status,
               retry_after=info.retry_after, domain=info.domain, metadata=info.metadata,
               field=info.field)
