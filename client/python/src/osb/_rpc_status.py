"""Reads the google.rpc details osbd puts in a failed call's `grpc-status-details-bin` trailer
(common.proto, "Errors"): a google.rpc.Status whose details hold an ErrorInfo (the OpenSandbox
error code as `reason`; `metadata` "request_id", "http_status", ...), for a server that asked to
wait a RetryInfo, and for a request osbd refused a BadRequest whose first field violation names
the request field ("port", "jobs[1].id").

The package depends on no copy of google/rpc (googleapis-common-protos): the messages are
declared here, field for field as in google/rpc/status.proto and error_details.proto, in a
private descriptor pool, so they never clash with another copy loaded in the same process.
`Status.details` (repeated Any) and `RetryInfo.retry_delay` (Duration) are declared as bytes,
which is the same wire format, and parsed with protobuf's own Any and Duration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Dict, Optional

from google.protobuf import (any_pb2, descriptor_pb2, descriptor_pool, duration_pb2,
                             message_factory)

DETAILS_KEY = "grpc-status-details-bin"
_TYPE_PREFIX = "type.googleapis.com/"

_F = descriptor_pb2.FieldDescriptorProto


def _build():
    proto = descriptor_pb2.FileDescriptorProto(name="osb/google_rpc_status.proto",
                                               package="google.rpc", syntax="proto3")
    status = proto.message_type.add(name="Status")
    status.field.add(name="code", number=1, type=_F.TYPE_INT32, label=_F.LABEL_OPTIONAL)
    status.field.add(name="message", number=2, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    status.field.add(name="details", number=3, type=_F.TYPE_BYTES, label=_F.LABEL_REPEATED)

    info = proto.message_type.add(name="ErrorInfo")
    info.field.add(name="reason", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    info.field.add(name="domain", number=2, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    entry = info.nested_type.add(name="MetadataEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    info.field.add(name="metadata", number=3, type=_F.TYPE_MESSAGE, label=_F.LABEL_REPEATED,
                   type_name=".google.rpc.ErrorInfo.MetadataEntry")

    retry = proto.message_type.add(name="RetryInfo")
    retry.field.add(name="retry_delay", number=1, type=_F.TYPE_BYTES, label=_F.LABEL_OPTIONAL)

    bad_request = proto.message_type.add(name="BadRequest")
    violation = bad_request.nested_type.add(name="FieldViolation")
    violation.field.add(name="field", number=1, type=_F.TYPE_STRING, label=_F.LABEL_OPTIONAL)
    violation.field.add(name="description", number=2, type=_F.TYPE_STRING,
                        label=_F.LABEL_OPTIONAL)
    bad_request.field.add(name="field_violations", number=1, type=_F.TYPE_MESSAGE,
                          label=_F.LABEL_REPEATED,
                          type_name=".google.rpc.BadRequest.FieldViolation")

    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)

    def message_class(name: str):
        descriptor = pool.FindMessageTypeByName("google.rpc." + name)
        if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
            return message_factory.GetMessageClass(descriptor)
        return message_factory.MessageFactory(pool).GetPrototype(descriptor)

    return (message_class("Status"), message_class("ErrorInfo"), message_class("RetryInfo"),
            message_class("BadRequest"))


# Also used by the tests to make trailers as osbd does.
Status, ErrorInfo, RetryInfo, BadRequest = _build()


@dataclass(frozen=True)
class RpcDetails:
    """What a status trailer said; every field empty when there was none."""

    reason: str = ""
    domain: str = ""
    metadata: Dict[str, str] = field(default_factory=dict)
    retry_after: Optional[timedelta] = None
    # The request field osbd refused, from the BadRequest's first field violation. Kept last:
    # in the class body its name hides dataclasses.field from the fields below it.
    field: str = ""


def pack(message) -> bytes:
    """`message` as a serialized google.protobuf.Any (for Status.details)."""
    return any_pb2.Any(type_url=_TYPE_PREFIX + message.DESCRIPTOR.full_name,
                       value=message.SerializeToString()).SerializeToString()


def retry_delay(delay: timedelta) -> bytes:
    """A serialized Duration for RetryInfo.retry_delay."""
    duration = duration_pb2.Duration()
    duration.FromTimedelta(delay)
    return duration.SerializeToString()


def _trailer(rpc_error) -> Optional[bytes]:
    try:
        metadata = rpc_error.trailing_metadata()
    except Exception:  # not a call's error (or a fake without trailers)
        return None
    for item in metadata or ():
        key, value = item
        if key == DETAILS_KEY and isinstance(value, bytes):
            return value
    return None


def details_of(rpc_error) -> RpcDetails:
    """The ErrorInfo, RetryInfo and BadRequest of a failed call; an empty RpcDetails when it has
    none or they do not parse (the status code and message still say what failed)."""
    trailer = _trailer(rpc_error)
    if not trailer:
        return RpcDetails()
    reason, domain, metadata, retry_after, bad_field = "", "", {}, None, ""
    try:
        status = Status.FromString(trailer)
        for packed in status.details:
            detail = any_pb2.Any.FromString(packed)
            name = detail.type_url.rsplit("/", 1)[-1]
            if name == "google.rpc.ErrorInfo" and not reason:
                info = ErrorInfo.FromString(detail.value)
                reason, domain, metadata = info.reason, info.domain, dict(info.metadata)
            elif name == "google.rpc.RetryInfo":
                delay = duration_pb2.Duration.FromString(RetryInfo.FromString(detail.value)
                                                         .retry_delay)
                retry_after = delay.ToTimedelta()
            elif name == "google.rpc.BadRequest" and not bad_field:
                violations = BadRequest.FromString(detail.value).field_violations
                if violations:
                    bad_field = violations[0].field
    except Exception:  # a malformed trailer: keep what was read
        pass
    return RpcDetails(reason=reason, domain=domain, metadata=metadata, retry_after=retry_after,
                      field=bad_field)
