// Unit tests (no daemon): ConnectionConfig's defaults, and the mapping of gRPC statuses and
// their google.rpc details to typed errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Metadata, status } from '@grpc/grpc-js';

import {
  ConnectionConfig,
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
  defaultSocketPath,
} from '../src/index.js';
import { fromGrpcError } from '../src/errors.js';
import {
  BadRequest,
  DETAILS_KEY,
  ErrorInfo,
  RetryInfo,
  Status,
  pack,
} from '../src/rpc_status.js';

function withEnv(vars, body) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const apply = (values) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(vars);
  try {
    body();
  } finally {
    apply(saved);
  }
}

test('ConnectionConfig reads socket, domain and key from the environment', () => {
  withEnv(
    {
      OSBD_SOCKET: '/tmp/x/osbd.sock',
      OPEN_SANDBOX_DOMAIN: 'sandbox.example.com:8080',
      OPEN_SANDBOX_API_KEY: 'secret',
    },
    () => {
      const config = new ConnectionConfig({ requestTimeoutSeconds: 2.5 });
      assert.equal(config.target, 'unix:/tmp/x/osbd.sock');
      const proto = config.toProto();
      assert.equal(proto.domain, 'sandbox.example.com:8080');
      assert.equal(proto.apiKey, 'secret');
      assert.deepEqual(proto.requestTimeout, { seconds: 2, nanos: 500_000_000 });
      assert.equal(new ConnectionConfig({ domain: '', apiKey: '' }).toProto().apiKey, '');
    },
  );
});

test('the default socket follows osbd', () => {
  withEnv({ OSBD_SOCKET: undefined, XDG_RUNTIME_DIR: '/run/user/7' }, () => {
    assert.equal(new ConnectionConfig().socket, '/run/user/7/opensandbox/osbd.sock');
  });
  withEnv({ XDG_RUNTIME_DIR: undefined }, () => {
    const uid = process.geteuid();
    assert.equal(
      defaultSocketPath(),
      uid === 0 ? '/run/opensandbox/osbd.sock' : `/tmp/opensandbox-${uid}/osbd.sock`,
    );
  });
});

test('gRPC statuses become typed errors with code and request id', () => {
  const cases = [
    [
      status.NOT_FOUND,
      'SANDBOX::NOT_FOUND: sandbox 42 not found (request id 9f2c)',
      SandboxNotFoundError,
      'SANDBOX::NOT_FOUND',
      'sandbox 42 not found',
      '9f2c',
    ],
    [
      status.INVALID_ARGUMENT,
      'timeout must be at least 60 s, got -5 s',
      InvalidArgumentError,
      'INVALID_ARGUMENT',
      'timeout must be at least 60 s, got -5 s',
      undefined,
    ],
    [status.UNIMPLEMENTED, '', UnimplementedError, 'UNIMPLEMENTED', 'UNIMPLEMENTED', undefined],
    [
      status.FAILED_PRECONDITION,
      'SANDBOX::NOT_RUNNING: paused (request id a-1)',
      FailedPreconditionError,
      'SANDBOX::NOT_RUNNING',
      'paused',
      'a-1',
    ],
    [
      status.CANCELLED,
      'the call was cancelled',
      SandboxError,
      'CANCELLED',
      'the call was cancelled',
      undefined,
    ],
  ];
  for (const [code, details, type, errorCode, detail, requestId] of cases) {
    const e = fromGrpcError({ code, details });
    assert.equal(e.constructor, type);
    assert.deepEqual(
      [e.code, e.detail, e.requestId, e.grpcCode],
      [errorCode, detail, requestId, code],
    );
    assert.ok(e.message.startsWith(`${Object.keys(status).find((k) => status[k] === code)}: `));
  }
});

/**
 * A failed call as grpc-js reports it, with the google.rpc.Status trailer osbd sends
 * (daemon/services/grpc_status.cc).
 */
function serviceError(code, details, options = {}) {
  const { reason, domain = 'opensandbox.io', metadata = {}, retryAfter, field } = options;
  const packed = [];
  if (reason !== undefined) packed.push(pack(ErrorInfo, { reason, domain, metadata }));
  if (retryAfter !== undefined) {
    packed.push(pack(RetryInfo, { retryDelay: { seconds: retryAfter } }));
  }
  if (field !== undefined) {
    packed.push(pack(BadRequest, { fieldViolations: [{ field, description: details }] }));
  }
  const trailer = Status.encode({ code, message: details, details: packed }).finish();
  const trailers = new Metadata();
  trailers.set(DETAILS_KEY, Buffer.from(trailer));
  return { code, details, metadata: trailers };
}

test('a rate limit carries retryAfter, code, request id and HTTP status', () => {
  const e = fromGrpcError(
    serviceError(status.RESOURCE_EXHAUSTED, 'RATE_LIMITED: slow down (request id r-429)', {
      reason: 'RATE_LIMITED',
      metadata: { request_id: 'r-429', http_status: '429' },
      retryAfter: 7,
    }),
  );
  assert.equal(e.constructor, SandboxRateLimitError);
  assert.ok(e instanceof ResourceExhaustedError && e instanceof SandboxError);
  assert.deepEqual(
    [e.code, e.detail, e.requestId, e.httpStatus, e.retryAfter, e.domain, e.grpcCode],
    ['RATE_LIMITED', 'slow down', 'r-429', 429, 7, 'opensandbox.io', status.RESOURCE_EXHAUSTED],
  );

  const noRetryInfo = fromGrpcError(
    serviceError(status.RESOURCE_EXHAUSTED, 'TOO_MANY: busy', {
      reason: 'TOO_MANY',
      metadata: { http_status: '429' },
    }),
  );
  assert.equal(noRetryInfo.constructor, SandboxRateLimitError);
  assert.equal(noRetryInfo.retryAfter, null);
});

test('resource exhaustion that is no rate limit', () => {
  const pool = fromGrpcError(
    serviceError(status.RESOURCE_EXHAUSTED, 'OSBD::POOL_EMPTY: pool py has no idle sandbox', {
      reason: 'OSBD::POOL_EMPTY',
      domain: 'osbd.opensandbox.io',
    }),
  );
  assert.equal(pool.constructor, PoolEmptyError);
  assert.ok(pool instanceof ResourceExhaustedError);
  assert.deepEqual(
    [pool.code, pool.detail, pool.domain],
    ['OSBD::POOL_EMPTY', 'pool py has no idle sandbox', 'osbd.opensandbox.io'],
  );
  const plain = fromGrpcError({ code: status.RESOURCE_EXHAUSTED, details: 'line too long' });
  assert.equal(plain.constructor, ResourceExhaustedError);
  assert.equal(plain.retryAfter, null);
});

test('unavailable with a RetryInfo says how long to wait', () => {
  const e = fromGrpcError(
    serviceError(status.UNAVAILABLE, 'UNAVAILABLE: maintenance', {
      reason: 'UNAVAILABLE',
      metadata: { http_status: '503' },
      retryAfter: 30,
    }),
  );
  assert.equal(e.constructor, UnavailableError);
  assert.deepEqual([e.retryAfter, e.httpStatus], [30, 503]);
});

test('deadlines and failures while awaiting readiness', () => {
  const ready = fromGrpcError(
    serviceError(status.DEADLINE_EXCEEDED, 'OSBD::READY_TIMEOUT: not ready after 9 attempts', {
      reason: 'OSBD::READY_TIMEOUT',
      domain: 'osbd.opensandbox.io',
    }),
  );
  assert.equal(ready.constructor, SandboxReadyTimeoutError);
  assert.ok(ready instanceof SandboxTimeoutError);
  assert.equal(ready.detail, 'not ready after 9 attempts');
  // Any deadline of a call that waited for readiness is a ready timeout; others are not.
  const deadline = { code: status.DEADLINE_EXCEEDED, details: 'Deadline exceeded' };
  assert.equal(fromGrpcError(deadline, { readiness: true }).constructor, SandboxReadyTimeoutError);
  assert.equal(fromGrpcError(deadline).constructor, SandboxTimeoutError);

  const unhealthy = fromGrpcError(
    serviceError(status.FAILED_PRECONDITION, 'OSBD::SANDBOX_UNHEALTHY: sandbox 7 is Failed', {
      reason: 'OSBD::SANDBOX_UNHEALTHY',
      domain: 'osbd.opensandbox.io',
      metadata: { sandbox_id: '7' },
    }),
  );
  assert.equal(unhealthy.constructor, SandboxUnhealthyError);
  assert.ok(unhealthy instanceof FailedPreconditionError);
  assert.deepEqual(unhealthy.metadata, { sandbox_id: '7' });
});

test('every status has its class, with code and request id from the ErrorInfo', () => {
  const cases = [
    [status.UNAUTHENTICATED, 'INVALID_API_KEY', '401', UnauthenticatedError],
    [status.PERMISSION_DENIED, 'FORBIDDEN', '403', PermissionDeniedError],
    [status.FAILED_PRECONDITION, 'SANDBOX::NOT_RUNNING', '409', FailedPreconditionError],
    [status.ALREADY_EXISTS, 'FILE_EXISTS', '409', FailedPreconditionError],
    [status.ABORTED, 'CONFLICT', '409', FailedPreconditionError],
    [status.INTERNAL, 'SANDBOX::INTERNAL', '500', SandboxInternalError],
    [status.UNKNOWN, 'X', undefined, SandboxInternalError],
    [status.DATA_LOSS, 'LOST', undefined, SandboxInternalError],
    [status.DEADLINE_EXCEEDED, 'GATEWAY_TIMEOUT', '504', SandboxTimeoutError],
    [status.OUT_OF_RANGE, 'RANGE', '416', InvalidArgumentError],
    [status.NOT_FOUND, 'FILE_NOT_FOUND', '404', SandboxNotFoundError],
    [status.UNIMPLEMENTED, 'NOPE', '501', UnimplementedError],
  ];
  for (const [code, reason, http, type] of cases) {
    const metadata = { request_id: 'req-1', ...(http && { http_status: http }) };
    // The message's request id differs: the ErrorInfo's wins.
    const e = fromGrpcError(
      serviceError(code, `${reason}: it failed (request id from-text)`, { reason, metadata }),
    );
    assert.equal(e.constructor, type, reason);
    assert.deepEqual(
      [e.code, e.detail, e.requestId, e.httpStatus, e.grpcCode],
      [reason, 'it failed', 'req-1', http && Number(http), code],
    );
    assert.deepEqual(e.metadata, metadata);
  }
});

test('a refused request names its field', () => {
  // osbd sends a BadRequest alone (no ErrorInfo): the code is the gRPC code's name.
  const e = fromGrpcError(
    serviceError(status.INVALID_ARGUMENT, 'jobs[1].id is taken', { field: 'jobs[1].id' }),
  );
  assert.equal(e.constructor, InvalidArgumentError);
  assert.deepEqual([e.code, e.field], ['INVALID_ARGUMENT', 'jobs[1].id']);
  const withoutBadRequest = fromGrpcError(
    serviceError(status.INVALID_ARGUMENT, 'bad', { reason: 'SANDBOX::INVALID' }),
  );
  assert.equal(withoutBadRequest.field, '');
  assert.equal(fromGrpcError({ code: status.INVALID_ARGUMENT, details: 'bad' }).field, '');
});

test('a malformed trailer leaves the status message to go by', () => {
  const trailers = new Metadata();
  trailers.set(DETAILS_KEY, Buffer.from([0x1a, 0xff, 0x01]));
  const e = fromGrpcError({
    code: status.NOT_FOUND,
    details: 'SANDBOX::NOT_FOUND: gone (request id t-1)',
    metadata: trailers,
  });
  assert.equal(e.constructor, SandboxNotFoundError);
  assert.deepEqual(
    [e.code, e.detail, e.requestId, e.httpStatus, e.retryAfter, e.domain],
    ['SANDBOX::NOT_FOUND', 'gone', 't-1', undefined, null, ''],
  );
});
