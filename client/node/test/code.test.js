// End-to-end tests of the Node client's code interpreter against a real osbd and osb-runtime.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  CodeInterpreter,
  ConnectionConfig,
  InvalidArgumentError,
  Sandbox,
  SandboxNotFoundError,
} from '../src/index.js';
import { startStack } from './stack.js';

let stack;
let sandbox;
let codes;

before(async () => {
  stack = await startStack();
  const connectionConfig = new ConnectionConfig({ socket: stack.socket, domain: '', apiKey: '' });
  sandbox = await Sandbox.create({ image: 'host', connectionConfig });
  codes = CodeInterpreter.create(sandbox).codes;
});

after(async () => {
  await sandbox?.kill();
  sandbox?.close();
  await stack?.stop();
});

test('a context keeps state and shows results', async () => {
  const context = await codes.createContext('python');
  assert.equal(context.language, 'python');
  assert.match(context.id, /^[0-9a-f]{32}$/);
  const seen = [];
  const handlers = {
    onStdout: (m) => seen.push(m.text),
    onResult: (r) => seen.push(['result', r.text]),
  };
  const first = await codes.run("x = 6 * 7\nprint('computed')", { context }, handlers);
  assert.equal(first.error, undefined);
  assert.ok(first.complete);
  assert.equal(first.executionCount, 1);
  const second = await codes.run('x', { context }, handlers);
  assert.deepEqual(
    second.result.map((r) => r.text),
    ['42'],
  );
  assert.equal(second.executionCount, 2);
  assert.deepEqual(seen, ['computed\n', ['result', '42']]);
});

test('errors, languages and default contexts', async () => {
  const failed = await codes.run("raise RuntimeError('no')", { language: 'python' });
  assert.equal(failed.error.name, 'RuntimeError');
  assert.equal(failed.error.value, 'no');
  assert.equal(failed.complete, undefined);
  const js = await codes.run('[1, 2, 3].map((n) => n * 2)', { language: 'javascript' });
  assert.equal(js.result[0].text, '[ 2, 4, 6 ]');
  const bash = await codes.run('cd /tmp; pwd', { language: 'bash' });
  assert.equal(bash.logs.stdout[0].text, '/tmp\n');
  assert.equal((await codes.run('pwd', { language: 'bash' })).logs.stdout[0].text, '/tmp\n');
});

test('contexts are listed, read, interrupted and deleted', async () => {
  for (const c of await codes.listContexts()) await codes.deleteContext(c.id);
  const a = await codes.createContext('python', { workingDirectory: '/tmp' });
  const b = await codes.createContext('bash');
  assert.deepEqual(
    (await codes.listContexts()).map((c) => c.id),
    [a.id, b.id],
  );
  assert.equal((await codes.getContext(a.id)).workingDirectory, '/tmp');
  const running = codes.run('import time\nwhile True: time.sleep(0.05)', { context: a });
  await sleep(800);
  await codes.interrupt(a.id);
  assert.equal((await running).error.name, 'KeyboardInterrupt');
  await codes.deleteContext(b.id);
  await assert.rejects(codes.getContext(b.id), SandboxNotFoundError);
  await codes.deleteContexts('python');
  assert.deepEqual(await codes.listContexts(), []);
});

test('bad input is refused', async () => {
  await assert.rejects(codes.run('  '), InvalidArgumentError);
  await assert.rejects(codes.createContext('cobol'), InvalidArgumentError);
  await assert.rejects(
    codes.run('1', { context: { id: 'no-such-context', language: 'python' } }),
    SandboxNotFoundError,
  );
});
