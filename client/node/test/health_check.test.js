// End-to-end tests of Sandbox.create's healthCheck against a real osbd and osb-runtime: the probe
// osbd runs before a sandbox counts as ready, and the errors when it never passes.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { status } from '@grpc/grpc-js';

import {
  ConnectionConfig,
  InvalidArgumentError,
  Sandbox,
  SandboxManager,
  SandboxReadyTimeoutError,
  SandboxTimeoutError,
} from '../src/index.js';
import { healthCheckProto } from '../src/sandbox.js';
import { startStack } from './stack.js';

const IMAGE = 'host';
let stack;
let config;
let manager;

before(async () => {
  stack = await startStack();
  config = new ConnectionConfig({ socket: stack.socket, domain: '', apiKey: '' });
  manager = SandboxManager.create({ connectionConfig: config });
});

after(async () => {
  manager?.close();
  await stack?.stop();
});

/** The sandboxes tagged `run`, once osbd's clean-up of a failed create had time to finish. */
async function tagged(run) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { sandboxInfos } = await manager.listSandboxInfos({ metadata: { run } });
    if (sandboxInfos.length === 0 || Date.now() > deadline) return sandboxInfos;
    await sleep(100);
  }
}

test('a command probe holds create back until it passes', async () => {
  const sandbox = await Sandbox.create({
    image: IMAGE,
    entrypoint: ['bash', '-c', 'sleep 1; touch /tmp/ready; exec sleep infinity'],
    healthCheck: {
      command: 'test -f /tmp/ready',
      commandTimeoutSeconds: 2,
      pollingIntervalMs: 50,
    },
    connectionConfig: config,
  });
  try {
    assert.equal((await sandbox.commands.run('test -f /tmp/ready')).exitCode, 0);
    assert.equal((await sandbox.getInfo()).status.state, 'Running');
  } finally {
    await sandbox.kill();
    sandbox.close();
  }
});

test('a TCP probe holds create back until something listens on the port', async () => {
  // Not HTTP: the probe asks only that something listens on the port inside the sandbox.
  const listen =
    'import socket, time; s = socket.socket(); ' +
    's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); ' +
    "s.bind(('0.0.0.0', 7021)); s.listen(); time.sleep(3600)";
  const started = Date.now();
  const sandbox = await Sandbox.create({
    image: IMAGE,
    entrypoint: ['bash', '-c', `sleep 1; exec python3 -c "${listen}"`],
    healthCheck: { tcpPort: 7021, pollingIntervalMs: 50 },
    connectionConfig: config,
  });
  try {
    assert.ok(Date.now() - started >= 1000, 'ready only once the port listens');
    assert.equal((await sandbox.getInfo()).status.state, 'Running');
    assert.equal((await sandbox.commands.run('exec 3<>/dev/tcp/127.0.0.1/7021')).exitCode, 0);
  } finally {
    await sandbox.kill();
    sandbox.close();
  }
});

test('an HTTP probe nothing answers is a ready timeout, and the sandbox is deleted', async () => {
  const run = randomUUID().slice(0, 12);
  const started = Date.now();
  await assert.rejects(
    Sandbox.create({
      image: IMAGE,
      metadata: { run },
      readyTimeoutSeconds: 2,
      healthCheck: {
        httpPort: 9,
        httpPath: '/healthz',
        expectedStatus: [200],
        initialDelayMs: 100,
      },
      connectionConfig: config,
    }),
    (e) => {
      assert.ok(e instanceof SandboxReadyTimeoutError);
      assert.ok(e instanceof SandboxTimeoutError);
      assert.equal(e.grpcCode, status.DEADLINE_EXCEEDED);
      assert.equal(e.code, 'OSBD::READY_TIMEOUT');
      assert.equal(e.domain, 'osbd.opensandbox.io');
      assert.match(e.detail, /attempts/);
      return true;
    },
  );
  assert.ok(Date.now() - started < 15_000);
  assert.deepEqual(await tagged(run), []);
});

test('a failing command probe is a ready timeout too', async () => {
  await assert.rejects(
    Sandbox.create({
      image: IMAGE,
      readyTimeoutSeconds: 1,
      healthCheck: { command: 'exit 1' },
      connectionConfig: config,
    }),
    (e) => e instanceof SandboxReadyTimeoutError && e.code === 'OSBD::READY_TIMEOUT',
  );
});

test('a TCP port is the proto\'s tcp probe', () => {
  const message = healthCheckProto({ tcpPort: 7001, pollingIntervalMs: 50 });
  assert.deepEqual(message.tcp, { port: 7001 });
  assert.equal(message.command, undefined);
  assert.equal(message.http, undefined);
  assert.ok(message.pollingInterval);
  // Port 0 still goes to osbd as a TCP probe, for osbd to refuse (it checks 1 to 65535).
  assert.deepEqual(healthCheckProto({ tcpPort: 0 }).tcp, { port: 0 });
});

test('a TCP port out of range is refused by osbd', async () => {
  for (const tcpPort of [0, 65536]) {
    await assert.rejects(
      Sandbox.create({ image: IMAGE, healthCheck: { tcpPort }, connectionConfig: config }),
      (e) => {
        assert.ok(e instanceof InvalidArgumentError);
        assert.equal(e.grpcCode, status.INVALID_ARGUMENT);
        assert.match(e.detail, /health_check\.tcp\.port/);
        return true;
      },
    );
  }
});

test('more than one of a command, an HTTP and a TCP port is refused before sending', async () => {
  const run = randomUUID().slice(0, 12);
  for (const healthCheck of [
    { command: 'true', httpPort: 8080 },
    { command: 'true', tcpPort: 8080 },
    { httpPort: 8080, tcpPort: 8081 },
    { command: 'true', httpPort: 8080, tcpPort: 8081 },
    () => true,
  ]) {
    await assert.rejects(
      Sandbox.create({ image: IMAGE, metadata: { run }, healthCheck, connectionConfig: config }),
      (e) => e instanceof InvalidArgumentError && e.grpcCode === undefined,
    );
  }
  assert.throws(
    () => healthCheckProto({ command: 'true', tcpPort: 8080 }),
    /a health check probes a command, an HTTP port or a TCP port, not more than one/,
  );
  assert.deepEqual(await tagged(run), []);
});
