// Typed errors. osbd puts the OpenSandbox error code and the upstream request id into the status
// message (daemon/services/grpc_status.cc):
//   "SANDBOX::NOT_FOUND: sandbox 42 not found (request id 9f2c)"
// fromGrpcError takes them back out; errors osbd raises itself carry no code and get the gRPC
// code's name ("INVALID_ARGUMENT", "UNIMPLEMENTED", ...) instead.
import { status as Status } from '@grpc/grpc-js';

const CODE_PREFIX = /^([A-Z][A-Z0-9_]*(?:::[A-Z0-9_]+)*): ([\s\S]*)$/;
const REQUEST_ID_SUFFIX = /^([\s\S]*) \(request id ([^()]+)\)$/;
const STATUS_NAMES = Object.fromEntries(Object.entries(Status).map(([name, n]) => [n, name]));

/** Any failure of a call to osbd or, through it, to the sandbox service. */
export class SandboxError extends Error {
  /**
   * @param {string} message
   * @param {object} fields
   * @param {string} fields.code OpenSandbox error code (e.g. "SANDBOX::NOT_FOUND") or the gRPC
   *   code's name
   * @param {string} [fields.detail] the message without code and request id
   * @param {string} [fields.requestId] the upstream X-Request-ID, to quote to the service's
   *   operator
   * @param {number} [fields.grpcCode] the gRPC status code osbd answered with
   */
  constructor(message, { code, detail = message, requestId, grpcCode }) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.detail = detail;
    this.requestId = requestId;
    this.grpcCode = grpcCode;
  }
}

/** The request was malformed (gRPC INVALID_ARGUMENT), e.g. a timeout under 60 s. */
export class InvalidArgumentError extends SandboxError {}
/** The sandbox (or another named object) does not exist (gRPC NOT_FOUND). */
export class SandboxNotFoundError extends SandboxError {}
/** This osbd (or the service behind it) does not implement the call yet (gRPC UNIMPLEMENTED). */
export class UnimplementedError extends SandboxError {}

const BY_STATUS = {
  [Status.INVALID_ARGUMENT]: InvalidArgumentError,
  [Status.NOT_FOUND]: SandboxNotFoundError,
  [Status.UNIMPLEMENTED]: UnimplementedError,
};

/**
 * The typed error for a failed gRPC call (a grpc-js ServiceError).
 * @param {{code: number, details?: string}} error
 * @returns {SandboxError}
 */
export function fromGrpcError(error) {
  const statusName = STATUS_NAMES[error.code] ?? `STATUS_${error.code}`;
  const details = error.details || statusName;
  let text = details;
  let requestId;
  let match = REQUEST_ID_SUFFIX.exec(text);
  if (match) [, text, requestId] = match;
  let code = statusName;
  match = CODE_PREFIX.exec(text);
  if (match) [, code, text] = match;
  const ErrorType = BY_STATUS[error.code] ?? SandboxError;
  return new ErrorType(`${statusName}: ${details}`, {
    code,
    detail: text,
    requestId,
    grpcCode: error.code,
  });
}

/**
 * A client-side validation error, with code INVALID_ARGUMENT.
 * @param {string} message
 */
export function invalidArgument(message) {
  return new InvalidArgumentError(message, { code: 'INVALID_ARGUMENT' });
}
