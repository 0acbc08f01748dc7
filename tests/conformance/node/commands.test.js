// Commands through the official JavaScript SDK: foreground runs with their line events and exit
// codes, env and cwd, timeouts, background runs with status and logs, interrupts, and bash
// sessions (COMPAT.md §2.3-2.5, §3.2).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';

import { SandboxApiException } from '@alibaba-group/opensandbox';

import { startRuntime, texts, waitFor } from './runtime.js';

let runtime;
let sbx; // one sandbox for the file: creating one per test would only measure creation

before(async () => {
  runtime = await startRuntime();
  sbx = await runtime.create({ timeoutSeconds: 1800 });
});
after(async () => {
  await runtime?.closeAll();
  await runtime?.stop();
});

async function waitUntilFinished(id, seconds = 20) {
  return waitFor(async () => {
    const status = await sbx.commands.getCommandStatus(id);
    return status.running ? undefined : status;
  }, { seconds, what: `command ${id} to finish` });
}

test('foreground output arrives as one event per line', async () => {
  const events = [];
  const inits = [];
  const completes = [];
  const run = await sbx.commands.run('echo one; echo two >&2; sleep 0.2; echo three', {}, {
    onInit: (i) => inits.push(i),
    onStdout: (m) => events.push(['stdout', m.text]),
    onStderr: (m) => events.push(['stderr', m.text]),
    onExecutionComplete: (c) => completes.push(c),
  });
  assert.deepEqual(texts(run.logs.stdout), ['one', 'three']);
  assert.deepEqual(texts(run.logs.stderr), ['two']);
  assert.deepEqual(
    events.filter((e) => e[0] === 'stdout'),
    [['stdout', 'one'], ['stdout', 'three']],
  );
  assert.ok(events.some((e) => e[0] === 'stderr' && e[1] === 'two'));
  assert.ok(run.logs.stderr.every((m) => m.isError));
  assert.equal(inits.length, 1);
  assert.ok(run.id);
  assert.equal(inits[0].id, run.id);
  assert.equal(completes.length, 1);
  assert.equal(run.exitCode, 0);
  assert.equal(run.error, undefined);
  assert.ok(run.complete);
});

test('blank lines, a last line without newline, long output', async () => {
  // COMPAT.md §2.3: a blank line arrives as "\n" (execd omits empty text).
  let run = await sbx.commands.run("printf 'a\\n\\nb\\n'");
  assert.deepEqual(texts(run.logs.stdout), ['a', '\n', 'b']);
  run = await sbx.commands.run("printf 'no newline'");
  assert.deepEqual(texts(run.logs.stdout), ['no newline']);
  run = await sbx.commands.run('seq 1 2000');
  assert.deepEqual(texts(run.logs.stdout), Array.from({ length: 2000 }, (_, i) => String(i + 1)));
});

for (const [command, code] of [['exit 3', 3], ['false', 1], ['exit 255', 255]]) {
  test(`exit code from the error event: ${command}`, async () => {
    const run = await sbx.commands.run(command);
    assert.equal(run.exitCode, code);
    assert.equal(run.error.name, 'CommandExecError');
    assert.equal(run.error.value, String(code));
    assert.equal(run.complete, undefined);
  });
}

test('unknown program exits 127', async () => {
  const run = await sbx.commands.run('no-such-program-here');
  assert.equal(run.exitCode, 127);
  assert.ok(run.logs.stderr.some((m) => m.text.includes('not found')));
});

test('env does not leak between runs', async () => {
  let run = await sbx.commands.run('export LEAK=1; echo $LEAK');
  assert.deepEqual(texts(run.logs.stdout), ['1']);
  run = await sbx.commands.run('echo ${LEAK:-unset}');
  assert.deepEqual(texts(run.logs.stdout), ['unset']);
  run = await sbx.commands.run('echo $ONLY_HERE', { envs: { ONLY_HERE: 'with spaces & $x' } });
  assert.deepEqual(texts(run.logs.stdout), ['with spaces & $x']);
  run = await sbx.commands.run('echo ${ONLY_HERE:-unset}');
  assert.deepEqual(texts(run.logs.stdout), ['unset']);
});

test('working directory', async () => {
  await sbx.commands.run('mkdir -p /tmp/wd/inner');
  let run = await sbx.commands.run('pwd', { workingDirectory: '/tmp/wd/inner' });
  assert.deepEqual(texts(run.logs.stdout), ['/tmp/wd/inner']);
  await sbx.commands.run('cd /tmp/wd');
  run = await sbx.commands.run('pwd', { workingDirectory: '/etc' });
  assert.deepEqual(texts(run.logs.stdout), ['/etc']);
  await assert.rejects(sbx.commands.run('pwd', { workingDirectory: '/no/such/dir' }), (err) => {
    assert.ok(err instanceof SandboxApiException, String(err));
    assert.equal(err.statusCode, 400);
    return true;
  });
});

test('uid and gid', async () => {
  const run = await sbx.commands.run('id -u; id -g', { uid: 65534, gid: 65534 });
  assert.deepEqual(texts(run.logs.stdout), ['65534', '65534']);
});

test('timeout kills the command', async () => {
  const started = Date.now();
  const run = await sbx.commands.run('echo before; sleep 30; echo after', { timeoutSeconds: 1 });
  assert.ok(Date.now() - started < 10_000);
  assert.deepEqual(texts(run.logs.stdout), ['before']);
  assert.ok(run.error);
  // COMPAT.md §2.4: a command killed by a signal reports exit code -1.
  assert.equal(run.exitCode, -1);
});

test('background run: status and logs', async () => {
  // The command waits for a file only this test creates, so the call returning proves it did
  // not wait for the command.
  const command = 'echo start; while [ ! -e /tmp/bg-go ]; do sleep 0.05; done; echo done; exit 4';
  const run = await sbx.commands.run(command, { background: true });
  // The id, and no exit code (COMPAT.md §2.4).
  assert.ok(run.id);
  assert.equal(run.exitCode ?? null, null);

  let status = await sbx.commands.getCommandStatus(run.id);
  assert.equal(status.running, true);
  assert.equal(status.content, command);
  assert.equal(status.exitCode, null);

  await sbx.files.writeFiles([{ path: '/tmp/bg-go', data: '' }]);
  status = await waitUntilFinished(run.id);
  assert.equal(status.exitCode, 4);
  assert.ok(status.finishedAt >= status.startedAt);

  const logs = await sbx.commands.getBackgroundCommandLogs(run.id);
  assert.equal(logs.content, 'start\ndone\n');
  // The cursor is a byte offset: the next read from it returns only what came after.
  assert.equal(logs.cursor, 'start\ndone\n'.length);
  const tail = await sbx.commands.getBackgroundCommandLogs(run.id, 'start\n'.length);
  assert.equal(tail.content, 'done\n');
  const rest = await sbx.commands.getBackgroundCommandLogs(run.id, logs.cursor);
  assert.equal(rest.content, '');
  assert.equal(rest.cursor, logs.cursor);
});

test('background logs grow while it runs', async () => {
  const run = await sbx.commands.run('for i in 1 2 3; do echo line$i; sleep 0.5; done', {
    background: true,
  });
  let seen = '';
  let cursor;
  await waitFor(async () => {
    const logs = await sbx.commands.getBackgroundCommandLogs(run.id, cursor);
    seen += logs.content;
    cursor = logs.cursor;
    const { running } = await sbx.commands.getCommandStatus(run.id);
    return !running && seen.split('\n').length === 4;
  }, { what: 'all three lines' });
  assert.equal(seen, 'line1\nline2\nline3\n');
});

test('interrupt a background command', async () => {
  const run = await sbx.commands.run('sleep 60', { background: true });
  assert.equal((await sbx.commands.getCommandStatus(run.id)).running, true);
  const started = Date.now();
  await sbx.commands.interrupt(run.id);
  const status = await waitUntilFinished(run.id, 10);
  assert.ok(Date.now() - started < 8000);
  assert.notEqual(status.exitCode, 0);
});

test('interrupt a foreground command', async () => {
  let id;
  const started = Date.now();
  const pending = sbx.commands.run('echo waiting; sleep 60', {}, { onInit: (i) => { id = i.id; } });
  await waitFor(() => id, { what: 'the init event' });
  await sleep(500); // let the shell reach the sleep
  await sbx.commands.interrupt(id);
  const run = await pending;
  assert.ok(Date.now() - started < 15_000);
  assert.deepEqual(texts(run.logs.stdout), ['waiting']);
  assert.equal(run.exitCode, -1);
});

for (const [name, call] of [
  ['status', (id) => sbx.commands.getCommandStatus(id)],
  ['logs', (id) => sbx.commands.getBackgroundCommandLogs(id)],
  ['interrupt', (id) => sbx.commands.interrupt(id)],
]) {
  test(`unknown command id is rejected: ${name}`, async () => {
    await assert.rejects(call('0123456789abcdef0123456789abcdef'), SandboxApiException);
  });
}

test('a session keeps exports and cwd', async () => {
  const session = await sbx.commands.createSession({ workingDirectory: '/tmp' });
  try {
    let run = await sbx.commands.runInSession(session, 'pwd');
    assert.deepEqual(texts(run.logs.stdout), ['/tmp']);
    assert.equal(run.exitCode, 0);

    await sbx.commands.runInSession(session, 'export KEPT=42; mkdir -p /tmp/s; cd /tmp/s');
    run = await sbx.commands.runInSession(session, 'echo $KEPT; pwd');
    assert.deepEqual(texts(run.logs.stdout), ['42', '/tmp/s']);

    // A per-run directory wins for that run and becomes the session's directory.
    run = await sbx.commands.runInSession(session, 'pwd', { workingDirectory: '/etc' });
    assert.deepEqual(texts(run.logs.stdout), ['/etc']);
    run = await sbx.commands.runInSession(session, 'pwd');
    assert.deepEqual(texts(run.logs.stdout), ['/etc']);

    // stderr is merged into stdout in a session (COMPAT.md §2.4).
    run = await sbx.commands.runInSession(session, 'echo to-stderr >&2');
    assert.deepEqual(texts(run.logs.stdout), ['to-stderr']);
    assert.deepEqual(run.logs.stderr, []);

    run = await sbx.commands.runInSession(session, 'exit 7');
    assert.equal(run.exitCode, 7);
    assert.equal(run.error.value, '7');
    assert.equal(run.complete, undefined);

    // Nothing of the session leaks into plain commands.
    const plain = await sbx.commands.run('echo ${KEPT:-unset}');
    assert.deepEqual(texts(plain.logs.stdout), ['unset']);
  } finally {
    await sbx.commands.deleteSession(session);
  }
  await assert.rejects(sbx.commands.runInSession(session, 'pwd'), SandboxApiException);
});

test('sessions are isolated', async () => {
  const first = await sbx.commands.createSession();
  const second = await sbx.commands.createSession();
  try {
    await sbx.commands.runInSession(first, 'export WHO=first');
    const run = await sbx.commands.runInSession(second, 'echo ${WHO:-unset}');
    assert.deepEqual(texts(run.logs.stdout), ['unset']);
  } finally {
    await sbx.commands.deleteSession(first);
    await sbx.commands.deleteSession(second);
  }
});

test('a session run times out', async () => {
  const session = await sbx.commands.createSession();
  try {
    const started = Date.now();
    const run = await sbx.commands.runInSession(session, 'sleep 30', { timeoutSeconds: 1 });
    assert.ok(Date.now() - started < 10_000);
    assert.equal(run.complete, undefined);
    assert.notEqual(run.exitCode, 0);
  } finally {
    await sbx.commands.deleteSession(session);
  }
});

test('deleting an unknown session is rejected', async () => {
  await assert.rejects(sbx.commands.deleteSession('no-such-session'), SandboxApiException);
});
