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

test('a probe of both a command and a port is refused before anything is sent', async () => {
  const run = randomUUID().slice(0, 12);
  for (const healthCheck of [{ command: 'true', httpPort: 8080 }, () => true]) {
    await assert.rejects(
      Sandbox.create({ image: IMAGE, metadata: { run }, healthCheck, connectionConfig: config }),
      (e) => e instanceof InvalidArgumentError && e.grpcCode === undefined,
    );
  }
  assert.deepEqual(await tagged(run), []);
});
