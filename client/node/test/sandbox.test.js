// End-to-end tests of the Node client against a real osbd and osb-runtime.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { status } from '@grpc/grpc-js';

import {
  ConnectionConfig,
  FailedPreconditionError,
  InvalidArgumentError,
  PoolEmptyError,
  PoolManager,
  ResourceExhaustedError,
  Sandbox,
  SandboxError,
  SandboxManager,
  SandboxNotFoundError,
  TemplateManager,
  UnauthenticatedError,
  UnavailableError,
} from '../src/index.js';
import { startStack } from './stack.js';

const IMAGE = 'host'; // osb-runtime's built-in base
let stack;
let config;

before(async () => {
  stack = await startStack();
  config = new ConnectionConfig({ socket: stack.socket, domain: '', apiKey: '' });
});

after(async () => {
  await stack?.stop();
});

function recordingHandlers(events) {
  return {
    onInit: (init) => events.push(['init', init.id]),
    onStdout: (m) => events.push(['stdout', m.text]),
    onStderr: (m) => events.push(['stderr', m.text]),
    onExecutionComplete: () => events.push(['complete']),
    onError: (e) => events.push(['error', e.value]),
  };
}

describe('a running sandbox', () => {
  let sandbox;
  before(async () => {
    sandbox = await Sandbox.create({
      image: IMAGE,
      timeoutSeconds: 300,
      env: { GREETING: 'hi' },
      metadata: { suite: 'node' },
      connectionConfig: config,
    });
  });
  after(async () => {
    await sandbox?.kill();
    sandbox?.close();
  });

  test('run collects output and exit code and calls the handlers in order', async () => {
    const events = [];
    const execution = await sandbox.commands.run(
      'echo hello; echo err >&2; exit 3',
      {},
      recordingHandlers(events),
    );
    assert.match(execution.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(
      execution.logs.stdout.map((m) => m.text),
      ['hello'],
    );
    assert.deepEqual(
      execution.logs.stderr.map((m) => m.text),
      ['err'],
    );
    assert.equal(execution.logs.stderr[0].isError, true);
    assert.ok(execution.logs.stdout[0].timestamp > Date.now() - 60_000);
    assert.equal(execution.exitCode, 3);
    assert.equal(execution.error.name, 'CommandExecError');
    assert.equal(execution.complete, undefined);
    // init first, the terminal event last; the two lines come from two pipes, in either order.
    assert.deepEqual(events[0], ['init', execution.id]);
    assert.deepEqual(events.slice(1, 3).sort(), [
      ['stderr', 'err'],
      ['stdout', 'hello'],
    ]);
    assert.deepEqual(events.slice(3), [['error', '3']]);
  });

  test('a successful run completes, with options, sandbox env and async handlers', async () => {
    const lines = [];
    const execution = await sandbox.commands.run(
      'pwd; echo "$GREETING $EXTRA"',
      { workingDirectory: '/tmp', envs: { EXTRA: 'there' } },
      {
        onStdout: async (m) => {
          await sleep(5); // awaited before the next event
          lines.push(m.text);
        },
      },
    );
    assert.deepEqual(lines, ['/tmp', 'hi there']);
    assert.equal(execution.exitCode, 0);
    assert.equal(execution.error, undefined);
    assert.ok(execution.complete.executionTimeInMillis >= 0);
  });

  test('a throwing handler abandons the run', async () => {
    await assert.rejects(
      sandbox.commands.run(
        'echo one; echo two',
        {},
        {
          onStdout: () => {
            throw new Error('stop here');
          },
        },
      ),
      /stop here/,
    );
  });

  test('getInfo reports Running with metadata and TTL', async () => {
    const info = await sandbox.getInfo();
    assert.equal(info.id, sandbox.id);
    assert.equal(info.status.state, 'Running');
    assert.deepEqual(info.metadata, { suite: 'node' });
    assert.ok(Math.abs(info.expiresAt - info.createdAt - 300_000) < 5000);
  });

  test('files are written and read back', async () => {
    await sandbox.files.writeFiles([{ path: '/tmp/node.txt', data: 'from node\n', mode: 0o640 }]);
    assert.equal(await sandbox.files.readFile('/tmp/node.txt'), 'from node\n');
    await assert.rejects(sandbox.files.readFile('/tmp/none'), (e) => {
      assert.equal(e.grpcCode, status.NOT_FOUND);
      return true;
    });
    await assert.rejects(
      sandbox.files.writeFiles([{ path: '/tmp/a', data: 42 }]),
      InvalidArgumentError,
    );
  });

  test('a session keeps directory and exports between runs', async () => {
    const session = await sandbox.commands.createSession({ workingDirectory: '/tmp' });
    const first = await sandbox.commands.runInSession(session, 'pwd; export N=7; cd /usr; echo e >&2');
    assert.deepEqual(first.logs.stdout.map((m) => m.text), ['/tmp', 'e']);
    const second = await sandbox.commands.runInSession(session, 'echo $N; pwd; exit 4');
    assert.deepEqual(second.logs.stdout.map((m) => m.text), ['7', '/usr']);
    assert.equal(second.exitCode, 4);
    await sandbox.commands.deleteSession(session);
    await assert.rejects(sandbox.commands.deleteSession(session), (e) => {
      assert.equal(e.grpcCode, status.NOT_FOUND);
      return true;
    });
  });

  test('attach replays a journalled run from any event', async () => {
    const run = await sandbox.commands.run('echo one; echo two; exit 5');
    const replay = await sandbox.commands.attach(run.id);
    assert.deepEqual(replay.logs.stdout.map((m) => m.text), ['one', 'two']);
    assert.equal(replay.exitCode, 5);
    const tail = await sandbox.commands.attach(run.id, { afterSeq: 2 });
    assert.deepEqual(tail.logs.stdout.map((m) => m.text), ['two']);
    assert.equal(tail.id, run.id);
    await assert.rejects(sandbox.commands.attach('0'.repeat(32)), (e) => {
      assert.equal(e.grpcCode, status.NOT_FOUND);
      return true;
    });
  });

  test('metrics and renew', async () => {
    const metrics = await sandbox.getMetrics();
    assert.ok(metrics.cpuCount > 0);
    assert.ok(metrics.memoryUsedMiB > 0 && metrics.memoryUsedMiB < metrics.memoryTotalMiB);
    assert.ok(metrics.timestamp instanceof Date);
    await sandbox.renew(3600);
    const info = await sandbox.getInfo();
    assert.ok(info.expiresAt - Date.now() > 3000_000);
    await assert.rejects(sandbox.renew(0));
  });
});

test('kill, then get is a not-found error with the upstream code and request id', async () => {
  const sandbox = await Sandbox.create({ image: IMAGE, connectionConfig: config });
  await sandbox.kill();
  await assert.rejects(sandbox.getInfo(), (e) => {
    assert.ok(e instanceof SandboxNotFoundError);
    assert.equal(e.code, 'SANDBOX::NOT_FOUND');
    assert.ok(e.detail.includes(sandbox.id));
    assert.ok(!e.detail.includes('request id'));
    assert.ok(e.requestId);
    // From the ErrorInfo osbd attaches.
    assert.equal(e.metadata.request_id, e.requestId);
    assert.equal(e.httpStatus, 404);
    assert.equal(e.domain, 'opensandbox.io');
    assert.equal(e.grpcCode, status.NOT_FOUND);
    return true;
  });
  await assert.rejects(
    Sandbox.connect({ sandboxId: sandbox.id, connectionConfig: config }),
    SandboxNotFoundError,
  );
  sandbox.close();
});

test('a wrong API key is unauthenticated', async () => {
  const manager = SandboxManager.create({
    connectionConfig: new ConnectionConfig({ socket: stack.socket, domain: '', apiKey: 'wrong' }),
  });
  await assert.rejects(manager.listSandboxInfos(), (e) => {
    assert.ok(e instanceof UnauthenticatedError);
    assert.equal(e.grpcCode, status.UNAUTHENTICATED);
    assert.equal(e.code, 'INVALID_API_KEY');
    assert.equal(e.httpStatus, 401);
    return true;
  });
  manager.close();
});

test('renewing a sandbox without TTL is a failed precondition', async () => {
  const sandbox = await Sandbox.create({
    image: IMAGE,
    timeoutSeconds: null,
    connectionConfig: config,
  });
  try {
    await assert.rejects(sandbox.renew(3600), (e) => {
      assert.ok(e instanceof FailedPreconditionError);
      assert.equal(e.grpcCode, status.FAILED_PRECONDITION);
      assert.match(e.detail, /manual cleanup/);
      assert.equal(e.httpStatus, 409);
      assert.ok(e.requestId);
      return true;
    });
  } finally {
    await sandbox.kill();
    sandbox.close();
  }
});

test('a fail-fast acquire from an empty pool is a pool-empty error', async () => {
  const name = `empty-${randomUUID().slice(0, 8)}`;
  const templates = TemplateManager.create({ connectionConfig: config });
  const pools = PoolManager.create({ connectionConfig: config });
  try {
    await templates.define(name, { image: IMAGE });
    await pools.define(name, { template: name, minIdle: 0 });
    await assert.rejects(pools.acquire(name, { failFast: true }), (e) => {
      assert.ok(e instanceof PoolEmptyError);
      assert.ok(e instanceof ResourceExhaustedError);
      assert.equal(e.code, 'OSBD::POOL_EMPTY');
      return true;
    });
  } finally {
    await pools.delete(name);
    await templates.delete(name);
    pools.close();
    templates.close();
  }
});

test('a negative timeout is an invalid-argument error and creates nothing', async () => {
  const manager = SandboxManager.create({ connectionConfig: config });
  const before = (await manager.listSandboxInfos()).pagination.totalItems;
  await assert.rejects(
    Sandbox.create({ image: IMAGE, timeoutSeconds: -5, connectionConfig: config }),
    (e) => {
      assert.ok(e instanceof InvalidArgumentError);
      assert.equal(e.code, 'INVALID_ARGUMENT');
      assert.match(e.detail, /at least 60/);
      return true;
    },
  );
  assert.equal((await manager.listSandboxInfos()).pagination.totalItems, before);
  manager.close();
});

test('templates and a warm pool', async () => {
  const name = `js-${randomUUID().slice(0, 8)}`;
  const templates = TemplateManager.create({ connectionConfig: config });
  const pools = PoolManager.create({ connectionConfig: config });
  try {
    await templates.define(name, { image: IMAGE, timeoutSeconds: 300, env: { ROLE: 'pooled' } });
    assert.equal((await templates.get(name)).env.ROLE, 'pooled');
    await pools.define(name, { template: name, minIdle: 1 });
    const listed = (await pools.list()).find((p) => p.name === name);
    assert.equal(listed.template, name);
    assert.equal(listed.minIdle, 1);
    for (let i = 0; i < 300 && (await pools.stats(name)).idle < 1; ++i) await sleep(100);
    assert.equal((await pools.stats(name)).idle, 1);
    const sandbox = await pools.acquire(name, { failFast: true });
    const run = await sandbox.commands.run('echo $ROLE');
    assert.deepEqual(run.logs.stdout.map((m) => m.text), ['pooled']);
    assert.equal(await pools.release(name, sandbox), false);
    await assert.rejects(sandbox.getInfo(), (e) => {
      assert.equal(e.grpcCode, status.NOT_FOUND);
      return true;
    });
    sandbox.close();
  } finally {
    await pools.delete(name);
    await templates.delete(name);
    pools.close();
    templates.close();
  }
});

test('pause and resume', async () => {
  const sandbox = await Sandbox.create({ image: IMAGE, connectionConfig: config });
  await sandbox.pause();
  const deadline = Date.now() + 10_000;
  while ((await sandbox.getInfo()).status.state !== 'Paused' && Date.now() < deadline)
    await sleep(50);
  assert.equal((await sandbox.getInfo()).status.state, 'Paused');
  await sandbox.resume();
  assert.equal((await sandbox.getInfo()).status.state, 'Running');
  assert.deepEqual(
    (await sandbox.commands.run('echo back')).logs.stdout.map((m) => m.text),
    ['back'],
  );
  await sandbox.kill();
  sandbox.close();
});

test('snapshots capture files and start new sandboxes', async () => {
  const source = await Sandbox.create({ image: IMAGE, connectionConfig: config });
  const manager = SandboxManager.create({ connectionConfig: config });
  await source.commands.run('echo kept > /root/kept');
  const snapshot = await source.createSnapshot({ name: 'before' });
  assert.equal(snapshot.status.state, 'Ready');
  assert.equal(snapshot.name, 'before');
  assert.equal(snapshot.sandboxId, source.id);
  assert.equal((await manager.getSnapshot(snapshot.id)).status.reason, 'snapshot_ready');
  const page = await manager.listSnapshots({ sandboxId: source.id, states: ['ready'] });
  assert.deepEqual(
    page.snapshotInfos.map((s) => s.id),
    [snapshot.id],
  );

  const restored = await Sandbox.create({ snapshotId: snapshot.id, connectionConfig: config });
  assert.deepEqual(
    (await restored.commands.run('cat /root/kept')).logs.stdout.map((m) => m.text),
    ['kept'],
  );
  await restored.kill();
  restored.close();
  await manager.deleteSnapshot(snapshot.id);
  await assert.rejects(manager.getSnapshot(snapshot.id), SandboxNotFoundError);
  await source.kill();
  source.close();
  manager.close();
});

test('the manager lists with filters and kills', async () => {
  const tag = randomUUID().slice(0, 12);
  const a = await Sandbox.create({
    image: IMAGE,
    metadata: { run: tag },
    connectionConfig: config,
  });
  const b = await Sandbox.create({
    image: IMAGE,
    metadata: { run: tag, role: 'b' },
    connectionConfig: config,
  });
  const manager = SandboxManager.create({ connectionConfig: config });
  const tagged = await manager.listSandboxInfos({ metadata: { run: tag } });
  assert.deepEqual(tagged.sandboxInfos.map((i) => i.id).sort(), [a.id, b.id].sort());
  assert.equal(tagged.pagination.totalItems, 2);
  const onlyB = await manager.listSandboxInfos({ metadata: { run: tag, role: 'b' } });
  assert.deepEqual(
    onlyB.sandboxInfos.map((i) => i.id),
    [b.id],
  );
  await manager.killSandbox(a.id);
  await manager.killSandbox(b.id);
  assert.deepEqual((await manager.listSandboxInfos({ metadata: { run: tag } })).sandboxInfos, []);
  await assert.rejects(manager.getSandboxInfo('no-such-sandbox'), SandboxNotFoundError);
  manager.close();
  a.close();
  b.close();
});

test('no daemon on the socket is an UnavailableError', async () => {
  const manager = SandboxManager.create({
    connectionConfig: new ConnectionConfig({ socket: `${stack.dir}/none.sock` }),
  });
  await assert.rejects(manager.listSandboxInfos(), (e) => {
    assert.ok(e instanceof UnavailableError && e instanceof SandboxError);
    assert.equal(e.code, 'UNAVAILABLE');
    return true;
  });
  manager.close();
});
