// Batches (Commands.RunBatch) through the Node client, against a real osbd and osb-runtime.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { status } from '@grpc/grpc-js';

import {
  BatchRunner,
  CodeInterpreter,
  ConnectionConfig,
  InvalidArgumentError,
  Sandbox,
  SandboxManager,
  SandboxNotFoundError,
  TemplateManager,
} from '../src/index.js';
import { startStack } from './stack.js';

const IMAGE = 'host';
let stack;
let config;
let sandbox;
let batches;

before(async () => {
  stack = await startStack();
  config = new ConnectionConfig({ socket: stack.socket, domain: '', apiKey: '' });
  sandbox = await Sandbox.create({ image: IMAGE, timeoutSeconds: 300, connectionConfig: config });
  batches = BatchRunner.create({ connectionConfig: config });
});

after(async () => {
  await sandbox?.kill();
  sandbox?.close();
  batches?.close();
  await stack?.stop();
});

/** The most jobs that ran at the same time, from their start times and durations. */
function mostAtOnce(results) {
  const edges = results.flatMap((r) => [
    [r.startedAt.getTime(), 1],
    [r.startedAt.getTime() + r.durationInMillis, -1],
  ]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // at equal times an end sorts first
  let running = 0;
  let peak = 0;
  for (const [, step] of edges) peak = Math.max(peak, (running += step));
  return peak;
}

test('jobs in one sandbox arrive one by one, with bounded parallelism', async () => {
  const jobs = [
    { id: 'slow', command: 'sleep 2.5; echo slow' },
    ...[0, 1, 2].map((n) => ({ id: `quick-${n}`, command: `sleep 0.3; echo ${n}` })),
    { id: 'fails', command: 'echo partial; echo oops >&2; exit 3' },
    { id: 'env', command: 'pwd; echo "$X"', workingDirectory: '/tmp', envs: { X: 'y' } },
    'true', // a plain command; its id is its index
  ];
  const arrivals = [];
  for await (const result of batches.stream(sandbox, jobs, { maxParallel: 2 })) {
    arrivals.push([performance.now(), result]);
  }
  const byId = Object.fromEntries(arrivals.map(([, r]) => [r.jobId, r]));
  assert.deepEqual(Object.keys(byId).sort(), [
    '6',
    'env',
    'fails',
    'quick-0',
    'quick-1',
    'quick-2',
    'slow',
  ]);
  // In completion order: the other lane's jobs all ended long before the slow one.
  assert.equal(arrivals.at(-1)[1].jobId, 'slow');
  assert.ok(arrivals.at(-1)[0] - arrivals[0][0] > 1000);
  assert.equal(mostAtOnce(Object.values(byId)), 2);

  const quick = byId['quick-1'];
  assert.equal(quick.success, true);
  assert.equal(quick.exitCode, 0);
  assert.equal(quick.error, undefined);
  assert.equal(quick.stdout, '1\n');
  assert.equal(quick.stderr, '');
  assert.equal(quick.sandboxId, sandbox.id);
  assert.match(quick.commandId, /^[0-9a-f]{32}$/);
  assert.ok(quick.durationInMillis >= 300);
  const failed = byId.fails;
  assert.equal(failed.success, false);
  assert.equal(failed.exitCode, 3);
  assert.equal(failed.stdout, 'partial\n');
  assert.equal(failed.stderr, 'oops\n');
  assert.equal(failed.error, 'CommandExecError: 3');
  assert.equal(byId.env.stdout, '/tmp\ny\n');
  assert.equal(byId['6'].success, true);
});

test('run collects every result, calls onResult, and honours the options', async () => {
  const seen = [];
  const results = await batches.run(
    { sandboxId: sandbox.id },
    [
      { id: 'long', command: 'seq 1 100' },
      { id: 'slow', command: 'sleep 30', timeoutSeconds: 1 },
      { id: 'never', command: 'echo never' },
    ],
    { maxParallel: 1, stopOnFailure: true, outputLimitBytes: 10 },
    async (result) => {
      await sleep(5); // awaited before the next result
      seen.push(result);
    },
  );
  assert.deepEqual(seen, results);
  assert.deepEqual(
    results.map((r) => r.jobId),
    ['long', 'slow', 'never'],
  );
  const [long, slow, never] = results;
  assert.equal(long.stdout, '1\n2\n3\n4\n5\n');
  assert.equal(long.stdoutTruncated, true);
  assert.equal(slow.success, false);
  assert.equal(slow.exitCode, -1); // killed at its timeout
  assert.ok(slow.durationInMillis < 10_000);
  assert.equal(never.skipped, true);
  assert.equal(never.success, false);
  assert.equal(never.startedAt, undefined);
  assert.match(never.error, /stop_on_failure/);
});

test('code cells keep their context and report results and errors', async () => {
  const context = await CodeInterpreter.create(sandbox).codes.createContext('python');
  const results = await batches.run(
    sandbox,
    [
      { id: 'define', code: "total = 40\nprint('defined')" },
      { id: 'use', code: 'total + 2', language: 'python' },
      { id: 'raises', code: "raise ValueError('bad input')" },
      { id: 'shell', code: 'echo from bash; echo warn >&2', language: 'bash' },
      { id: 'in-context', code: "kept = 'mine'", contextId: context.id },
      { id: 'read-context', code: 'kept', contextId: context.id },
    ],
    { maxParallel: 4 },
  );
  const byId = Object.fromEntries(results.map((r) => [r.jobId, r]));
  assert.equal(results.length, 6);
  assert.equal(byId.define.success, true);
  assert.equal(byId.define.stdout, 'defined\n');
  assert.equal(byId.define.exitCode, undefined); // cells have no exit code
  assert.equal(byId.use.resultText, '42');
  assert.equal(byId.raises.success, false);
  assert.equal(byId.raises.error, 'ValueError: bad input');
  assert.equal(byId.shell.stdout, 'from bash\n');
  assert.equal(byId.shell.stderr, 'warn\n');
  assert.equal(byId['read-context'].resultText, "'mine'");
  assert.equal(byId['read-context'].commandId, context.id);
});

test('fresh sandboxes from a template are killed at the end', async () => {
  const name = `batch-${randomUUID().slice(0, 8)}`;
  const templates = TemplateManager.create({ connectionConfig: config });
  await templates.define(name, { image: IMAGE, env: { KIND: 'fresh' } });
  let oneEach;
  let shared;
  try {
    oneEach = await batches.run({ fresh: { template: name } }, Array(3).fill('echo $KIND'));
    shared = await batches.run(
      { fresh: { template: name, count: 2 } },
      Array(4).fill('echo $KIND'),
      { maxParallel: 4 },
    );
  } finally {
    await templates.delete(name);
    templates.close();
  }
  for (const r of [...oneEach, ...shared]) {
    assert.equal(r.success, true, r.error);
    assert.equal(r.stdout, 'fresh\n');
  }
  assert.equal(new Set(oneEach.map((r) => r.sandboxId)).size, 3); // count 0: one per job
  assert.equal(new Set(shared.map((r) => r.sandboxId)).size, 2);
  const manager = SandboxManager.create({ connectionConfig: config });
  for (const id of new Set([...oneEach, ...shared].map((r) => r.sandboxId))) {
    await assert.rejects(manager.getSandboxInfo(id), SandboxNotFoundError);
  }
  manager.close();
});

test('each runs every job in every sandbox', async () => {
  const other = await Sandbox.create({ image: IMAGE, connectionConfig: config });
  const results = await batches.run({ sandboxIds: [sandbox, other.id], each: true }, [
    { id: 'h', command: 'hostname' },
    { id: 't', command: 'true' },
  ]);
  await other.kill();
  other.close();
  assert.deepEqual(
    results.map((r) => `${r.jobId}@${r.sandboxId}`).sort(),
    ['h', 't'].flatMap((job) => [sandbox.id, other.id].map((box) => `${job}@${box}`)).sort(),
  );
});

test('bad batches are refused', async () => {
  await assert.rejects(batches.run(sandbox, []), (e) => {
    assert.ok(e instanceof InvalidArgumentError);
    assert.equal(e.grpcCode, status.INVALID_ARGUMENT); // osbd's answer
    assert.equal(e.detail, 'jobs needs at least one job');
    return true;
  });
  await assert.rejects(
    batches.run(sandbox, [
      { id: 'a', command: 'true' },
      { id: 'a', command: 'false' },
    ]),
    (e) => e instanceof InvalidArgumentError && e.detail === 'jobs[1].id repeats the job id a',
  );
  await assert.rejects(
    batches.run({ sandboxIds: [sandbox, 'other'] }, [{ code: '1', contextId: 'some-context' }]),
    (e) => e instanceof InvalidArgumentError && /a context lives in one sandbox/.test(e.detail),
  );

  // What the proto cannot carry is refused before anything is sent.
  for (const maxParallel of [-1, 1.5]) {
    assert.throws(
      () => batches.stream(sandbox, ['true'], { maxParallel }),
      (e) =>
        e instanceof InvalidArgumentError &&
        e.grpcCode === undefined &&
        /maxParallel must be an integer from 0/.test(e.message),
    );
  }
  await assert.rejects(batches.run(sandbox, ['true'], { maxParallel: -1 }), InvalidArgumentError);
  assert.throws(
    () => batches.stream(sandbox, [{ command: 'true', code: '1' }]),
    InvalidArgumentError,
  );
  assert.throws(() => batches.stream({}, ['true']), InvalidArgumentError);
  assert.throws(
    () => batches.stream({ fresh: { template: 't', pool: 'p' } }, ['true']),
    InvalidArgumentError,
  );

  // A job that cannot run is a result, not an error.
  const [lost] = await batches.run('no-such-sandbox', ['true']);
  assert.equal(lost.success, false);
  assert.ok(lost.error);
  assert.equal(lost.exitCode, undefined);
});

test('leaving the loop early cancels the batch', async () => {
  const marker = `/tmp/batch-${randomUUID().slice(0, 8)}`;
  const jobs = ['true', 'sleep 1', 'sleep 1', `touch ${marker}`];
  for await (const first of batches.stream(sandbox, jobs, { maxParallel: 1 })) {
    assert.equal(first.jobId, '0');
    assert.equal(first.success, true);
    break;
  }
  await sleep(3500); // uncancelled, the last job would have run by now
  assert.equal((await sandbox.commands.run(`test -e ${marker}`)).exitCode, 1);
  // The runner is still usable.
  assert.deepEqual(
    (await batches.run(sandbox, ['true'])).map((r) => r.success),
    [true],
  );
});
