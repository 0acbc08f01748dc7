// Unit tests (no daemon): ConnectionConfig's defaults and the mapping of gRPC statuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { status } from '@grpc/grpc-js';

import {
  ConnectionConfig,
  InvalidArgumentError,
  SandboxError,
  SandboxNotFoundError,
  UnimplementedError,
  defaultSocketPath,
} from '../src/index.js';
import { fromGrpcError } from '../src/errors.js';

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
      SandboxError,
      'SANDBOX::NOT_RUNNING',
      'paused',
      'a-1',
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
