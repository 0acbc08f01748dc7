// Typed errors. Every failed call rejects with a SandboxError, as the subclass its gRPC status
// (and the ErrorInfo reason osbd sent) calls for:
//
//   gRPC status                           error
//   INVALID_ARGUMENT, OUT_OF_RANGE        InvalidArgumentError
//   NOT_FOUND                             SandboxNotFoundError
//   UNAUTHENTICATED                       UnauthenticatedError
//   PERMISSION_DENIED                     PermissionDeniedError
//   RESOURCE_EXHAUSTED                    SandboxRateLimitError (HTTP 429 or a RetryInfo),
//                                         PoolEmptyError (OSBD::POOL_EMPTY),
//                                         else ResourceExhaustedError
//   DEADLINE_EXCEEDED                     SandboxReadyTimeoutError (OSBD::READY_TIMEOUT, or while
//                                         create/resume waited for readiness),
//                                         else SandboxTimeoutError
//   FAILED_PRECONDITION, ALREADY_EXISTS,  SandboxUnhealthyError (OSBD::SANDBOX_UNHEALTHY),
//   ABORTED                               else FailedPreconditionError
//   UNAVAILABLE                           UnavailableError
//   UNIMPLEMENTED                         UnimplementedError
//   INTERNAL, UNKNOWN, DATA_LOSS          SandboxInternalError
//   other (CANCELLED)                     SandboxError
//
// Where the details come from: osbd attaches a google.rpc.ErrorInfo to every failure that has an
// OpenSandbox code (`reason`, e.g. "SANDBOX::NOT_FOUND", or osbd's own "OSBD::READY_TIMEOUT"),
// with `metadata` "request_id" (the upstream X-Request-ID) and "http_status", and a
// google.rpc.RetryInfo when the server asked to wait; a request osbd refuses itself is
// INVALID_ARGUMENT with a google.rpc.BadRequest naming the request field, e.g. "port" or
// "jobs[1].id" (daemon/services/grpc_status.cc). It also
// writes code and request id into the status message
//   "SANDBOX::NOT_FOUND: sandbox 42 not found (request id 9f2c)"
// which fromGrpcError falls back on. Errors osbd raises itself without a reason get the gRPC
// code's name ("INVALID_ARGUMENT", "UNAVAILABLE", ...) as their code.
import { status as Status } from '@grpc/grpc-js';

import { detailsOf } from './rpc_status.js';

const CODE_PREFIX = /^([A-Z][A-Z0-9_]*(?:::[A-Z0-9_]+)*): ([\s\S]*)$/;
const REQUEST_ID_SUFFIX = /^([\s\S]*) \(request id ([^()]+)\)$/;
const STATUS_NAMES = Object.fromEntries(Object.entries(Status).map(([name, n]) => [n, name]));

const READY_TIMEOUT_REASON = 'OSBD::READY_TIMEOUT';
const SANDBOX_UNHEALTHY_REASON = 'OSBD::SANDBOX_UNHEALTHY';
const POOL_EMPTY_REASON = 'OSBD::POOL_EMPTY';

/** Any failure of a call to osbd or, through it, to the sandbox service. */
export class SandboxError extends Error {
  /**
   * @param {string} message
   * @param {object} fields
   * @param {string} fields.code OpenSandbox error code (e.g. "SANDBOX::NOT_FOUND", osbd's own
   *   "OSBD::READY_TIMEOUT") or the gRPC code's name
   * @param {string} [fields.detail] the message without code and request id
   * @param {string} [fields.requestId] the upstream X-Request-ID, to quote to the service's
   *   operator
   * @param {number} [fields.grpcCode] the gRPC status code osbd answered with; undefined for
   *   the client's own checks
   * @param {number} [fields.httpStatus] the upstream HTTP status (ErrorInfo metadata
   *   "http_status")
   * @param {number|null} [fields.retryAfter] seconds the server asked to wait (RetryInfo)
   * @param {string} [fields.domain] the ErrorInfo domain: "opensandbox.io" for the service's
   *   codes, "osbd.opensandbox.io" for osbd's own; "" without an ErrorInfo
   * @param {Record<string, string>} [fields.metadata] the ErrorInfo metadata ("request_id",
   *   "http_status", "origin", "sandbox_id", ...)
   * @param {string} [fields.field] the request field osbd refused (the BadRequest's first field
   *   violation), as its proto path: "port", "jobs[1].id", "moves[0].destination"; "" without a
   *   BadRequest
   */
  constructor(
    message,
    {
      code,
      detail = message,
      requestId,
      grpcCode,
      httpStatus,
      retryAfter = null,
      domain = '',
      metadata = {},
      field = '',
    },
  ) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
    this.requestId = requestId;
    this.grpcCode = grpcCode;
    this.httpStatus = httpStatus;
    this.retryAfter = retryAfter;
    this.domain = domain;
    this.metadata = metadata;
    this.field = field;
  }
}

/** The request was malformed (INVALID_ARGUMENT, OUT_OF_RANGE), e.g. a timeout under 60 s; also
 * the client's own checks of what it cannot send. */
export class InvalidArgumentError extends SandboxError {}
/** The sandbox (or another named object: file, session, command, ...) does not exist
 * (NOT_FOUND). */
export class SandboxNotFoundError extends SandboxError {}
/** This osbd (or the service behind it) does not implement the call yet (UNIMPLEMENTED). */
export class UnimplementedError extends SandboxError {}
/** The service refused the API key (UNAUTHENTICATED, HTTP 401), e.g. code INVALID_API_KEY. */
export class UnauthenticatedError extends SandboxError {}
/** The key may not do this (PERMISSION_DENIED, HTTP 403). */
export class PermissionDeniedError extends SandboxError {}
/** A quota or limit was reached (RESOURCE_EXHAUSTED). */
export class ResourceExhaustedError extends SandboxError {}
/** The service is rate limiting (HTTP 429); `retryAfter` is the wait it asked for, or null. */
export class SandboxRateLimitError extends ResourceExhaustedError {}
/** A fail-fast acquire found no idle sandbox in the pool (OSBD::POOL_EMPTY). */
export class PoolEmptyError extends ResourceExhaustedError {}
/** Something took too long (DEADLINE_EXCEEDED, e.g. an upstream 504). */
export class SandboxTimeoutError extends SandboxError {}
/** The sandbox did not become ready within the ready (or resume) timeout (OSBD::READY_TIMEOUT);
 * osbd deletes a sandbox it created. `detail` gives the attempts and the last probe error. */
export class SandboxReadyTimeoutError extends SandboxTimeoutError {}
/** The call conflicts with the object's state (FAILED_PRECONDITION / HTTP 409, ALREADY_EXISTS,
 * ABORTED): e.g. pausing a sandbox that is not running, renewing one without TTL. */
export class FailedPreconditionError extends SandboxError {}
/** The sandbox failed (Failed or Terminated) while osbd waited for it to become ready
 * (OSBD::SANDBOX_UNHEALTHY). */
export class SandboxUnhealthyError extends FailedPreconditionError {}
/** osbd, the service or the sandbox could not be reached, or asked to be retried later
 * (UNAVAILABLE, HTTP 502/503); `retryAfter` when the server said how long. */
export class UnavailableError extends SandboxError {}
/** An unexpected failure in osbd or the service (INTERNAL, UNKNOWN, DATA_LOSS). */
export class SandboxInternalError extends SandboxError {}

const BY_STATUS = {
  [Status.INVALID_ARGUMENT]: InvalidArgumentError,
  [Status.OUT_OF_RANGE]: InvalidArgumentError,
  [Status.NOT_FOUND]: SandboxNotFoundError,
  [Status.UNIMPLEMENTED]: UnimplementedError,
  [Status.UNAUTHENTICATED]: UnauthenticatedError,
  [Status.PERMISSION_DENIED]: PermissionDeniedError,
  [Status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [Status.DEADLINE_EXCEEDED]: SandboxTimeoutError,
  [Status.FAILED_PRECONDITION]: FailedPreconditionError,
  [Status.ALREADY_EXISTS]: FailedPreconditionError,
  [Status.ABORTED]: FailedPreconditionError,
  [Status.UNAVAILABLE]: UnavailableError,
  [Status.INTERNAL]: SandboxInternalError,
  [Status.UNKNOWN]: SandboxInternalError,
  [Status.DATA_LOSS]: SandboxInternalError,
};

function errorType(grpcCode, reason, httpStatus, retryAfter, readiness) {
  if (grpcCode === Status.DEADLINE_EXCEEDED && (reason === READY_TIMEOUT_REASON || readiness)) {
    return SandboxReadyTimeoutError;
  }
  if (reason === SANDBOX_UNHEALTHY_REASON) return SandboxUnhealthyError;
  if (grpcCode === Status.RESOURCE_EXHAUSTED) {
    if (reason === POOL_EMPTY_REASON) return PoolEmptyError;
    if (httpStatus === 429 || retryAfter !== null) return SandboxRateLimitError;
  }
  return BY_STATUS[grpcCode] ?? SandboxError;
}

/**
 * The typed error for a failed gRPC call (a grpc-js ServiceError, its trailers in `metadata`).
 * @param {{code: number, details?: string, metadata?: import('@grpc/grpc-js').Metadata}} error
 * @param {{readiness?: boolean}} [options] `readiness`: the call waited for a sandbox to become
 *   ready (Create, Resume), so a DEADLINE_EXCEEDED is a SandboxReadyTimeoutError whatever its
 *   reason
 * @returns {SandboxError}
 */
export function fromGrpcError(error, { readiness = false } = {}) {
  const statusName = STATUS_NAMES[error.code] ?? `STATUS_${error.code}`;
  const details = error.details || statusName;
  const info = detailsOf(error);
  let text = details;
  let requestId;
  let match = REQUEST_ID_SUFFIX.exec(text);
  if (match) [, text, requestId] = match;
  let code = statusName;
  match = CODE_PREFIX.exec(text);
  if (match && (!info.reason || match[1] === info.reason)) [, code, text] = match;
  if (info.reason) code = info.reason;
  requestId = info.metadata.request_id || requestId;
  const httpStatus = /^\d+$/.test(info.metadata.http_status ?? '')
    ? Number(info.metadata.http_status)
    : undefined;
  const ErrorType = errorType(error.code, info.reason, httpStatus, info.retryAfter, readiness);
  return new ErrorType(`${statusName}: ${details}`, {
    code,
    detail: text,
    requestId,
    grpcCode: error.code,
    httpStatus,
    retryAfter: info.retryAfter,
    domain: info.domain,
    metadata: info.metadata,
    field: info.field,
  });
}

/**
 * A client-side validation error, with code INVALID_ARGUMENT.
 * @param {string} message
 */
export function invalidArgument(message) {
  return new InvalidArgumentError(message, { code: 'INVALID_ARGUMENT' });
}
