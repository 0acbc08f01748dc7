// opensandbox-osbd: the Node.js client of osbd, the local OpenSandbox daemon, shaped like the
// official JS SDK (@alibaba-group/opensandbox) but calling osbd's gRPC API on a Unix socket.
export { BatchRunner } from './batch.js';
export { CodeInterpreter, Codes } from './code.js';
export { ConnectionConfig, defaultSocketPath } from './config.js';
export {
  FailedPreconditionError,
  InvalidArgumentError,
  PermissionDeniedError,
  PoolEmptyError,
  ResourceExhaustedError,
  SandboxError,
  SandboxInternalError,
  SandboxNotFoundError,
  SandboxRateLimitError,
  SandboxReadyTimeoutError,
  SandboxTimeoutError,
  SandboxUnhealthyError,
  UnauthenticatedError,
  UnavailableError,
  UnimplementedError,
} from './errors.js';
export { Filesystem } from './files.js';
export { PoolManager, TemplateManager } from './pools.js';
export { Commands, Sandbox, SandboxManager } from './sandbox.js';
