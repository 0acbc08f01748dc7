// The workload: every lifecycle-backed RPC of osbd's Sandboxes service, with the request fields
// that shape the upstream HTTP (metadata, env, resource limits, timeouts, filters, paging), the
// error answers osbd relays (404, 409), and every execd-backed RPC (Commands, Files, Code,
// GetMetrics, WatchMetrics; the health checks of Create and Resume). It talks gRPC to osbd like
// any client; run.sh points osbd's --domain at the lifecycle tap, whose endpoints point osbd's
// execd calls at the execd tap. Fails (exit 1) on the first call that answers other than
// expected, naming the step.
//
// Prism relays a streamed answer only once it has all of it (it validates it whole): a command's
// or a code run's events reach osbd when the run has ended. So a command to interrupt runs in
// the background (its id comes at once), and a code run is interrupted by its context's id.
//
//   node workload.js OSBD_SOCKET PROTO_DIR
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const [socket, protoRoot] = process.argv.slice(2);
if (!socket || !protoRoot) {
  console.error('usage: node workload.js OSBD_SOCKET PROTO_DIR');
  process.exit(2);
}

const definition = protoLoader.loadSync(
  readdirSync(join(protoRoot, 'opensandbox/v1'))
    .filter((name) => name.endsWith('.proto'))
    .map((name) => `opensandbox/v1/${name}`),
  { includeDirs: [protoRoot], longs: Number, enums: String, defaults: true, oneofs: true },
);
const v1 = grpc.loadPackageDefinition(definition).opensandbox.v1;
const target = `unix:${socket}`;
const credentials = grpc.credentials.createInsecure();
const sandboxes = new v1.Sandboxes(target, credentials);
const commands = new v1.Commands(target, credentials);
const files = new v1.Files(target, credentials);
const code = new v1.Code(target, credentials);

const seconds = (s) => ({ seconds: s, nanos: 0 });
const millis = (timestamp) => timestamp.seconds * 1000 + Math.floor(timestamp.nanos / 1e6);

let step = '';
function log(message) {
  console.log(`workload: ${message}`);
}
function check(condition, what, value) {
  if (!condition) {
    throw new Error(`${what}${value === undefined ? '' : `: ${JSON.stringify(value)}`}`);
  }
}

function call(client, method, request, timeoutSeconds = 120) {
  return new Promise((resolve, reject) => {
    client[method](
      request,
      { deadline: Date.now() + timeoutSeconds * 1000 },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}

// An RPC that must fail with `code` (a grpc.status name), as osbd maps the upstream's error.
async function callFails(client, method, request, code) {
  try {
    await call(client, method, request);
  } catch (error) {
    check(error.code === grpc.status[code], `${method} should fail with ${code}`, {
      code: error.code,
      details: error.details,
    });
    return;
  }
  throw new Error(`${method} should fail with ${code} but succeeded`);
}

async function run(name, fn) {
  step = name;
  const start = Date.now();
  const result = await fn();
  log(`ok   ${name} (${Date.now() - start} ms)`);
  return result;
}

// A step whose failure is reported and fails the workload at its end, but lets the later steps
// run (a known violation must not hide what comes after it).
const failedSteps = [];
async function runOn(name, fn) {
  try {
    await run(name, fn);
  } catch (error) {
    failedSteps.push(name);
    console.error(`workload: FAILED at "${name}": ${error.details ?? error.message}` +
      (error.code !== undefined ? ` (gRPC ${error.code})` : ''));
  }
}

// A command to completion: its stdout and stderr lines (each without its newline), exit code.
async function runCommand(sandboxId, command, envs = {}) {
  const result = { stdout: [], stderr: [], exitCode: undefined };
  const stream = commands.Run({ sandboxId, command, envs, timeout: seconds(60) });
  for await (const event of stream) {
    if (event.kind === 'stdout') result.stdout.push(Buffer.from(event.stdout.data).toString());
    if (event.kind === 'stderr') result.stderr.push(Buffer.from(event.stderr.data).toString());
    if (event.kind === 'completed') result.exitCode = 0;
    if (event.kind === 'failed') result.exitCode = event.failed.exitCode ?? -1;
    if (event.kind === 'broken') throw new Error(`command stream broken: ${event.broken.reason}`);
  }
  return result;
}

function writeFile(sandboxId, path, data, mode) {
  return new Promise((resolve, reject) => {
    const stream = files.Write((error, response) => (error ? reject(error) : resolve(response)));
    stream.write({ header: { sandboxId, path, mode, size: data.length } });
    stream.write({ data });
    stream.end();
  });
}

async function readFile(sandboxId, path, range = {}) {
  const chunks = [];
  for await (const chunk of files.Read({ sandboxId, path, ...range })) chunks.push(chunk.data);
  return Buffer.concat(chunks).toString();
}

// All events of a streaming RPC.
async function collectStream(stream) {
  const events = [];
  for await (const event of stream) events.push(event);
  return events;
}

// The output of command events (stdout lines joined with "\n") and the terminal event.
function commandOutcome(events) {
  const stdout = events.filter((e) => e.kind === 'stdout')
    .map((e) => Buffer.from(e.stdout.data).toString()).join('\n');
  return { stdout, last: events.at(-1) };
}

// Code run events: stdout text and the terminal event.
function codeOutcome(events) {
  const stdout = events.filter((e) => e.kind === 'stdout')
    .map((e) => Buffer.from(e.stdout.data).toString()).join('');
  return { stdout, last: events.at(-1) };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const runId = `r${process.pid}-${Date.now() % 100000}`;
  const created = [];
  const lifecycle = async () => {
    const a = await run('Create (timeout, resource limits, env, metadata)', async () => {
      const sandbox = await call(sandboxes, 'Create', {
        image: 'debian:12',
        timeout: seconds(600),
        resourceLimits: { cpu: '1', memory: '512Mi' },
        env: { PRISM_GREETING: 'hello from prism' },
        metadata: { suite: 'prism', run: runId, scratch: 'drop-me' },
        readyTimeout: seconds(60),
      });
      created.push(sandbox.id);
      check(sandbox.status.state === 'Running', 'a new sandbox should be Running', sandbox.status);
      return sandbox;
    });
    const b = await run('Create (manual cleanup, entrypoint)', async () => {
      const sandbox = await call(sandboxes, 'Create', {
        image: 'debian:12',
        manualCleanup: true,
        entrypoint: ['sleep', 'infinity'],
        metadata: { suite: 'prism', run: runId },
        readyTimeout: seconds(60),
      });
      created.push(sandbox.id);
      return sandbox;
    });

    await run('Get', async () => {
      const got = await call(sandboxes, 'Get', { sandboxId: a.id });
      check(got.metadata.run === runId && got.metadata.scratch === 'drop-me', 'metadata',
        got.metadata);
      check(got.expiresAt, 'a sandbox with a timeout has expiresAt');
      const manual = await call(sandboxes, 'Get', { sandboxId: b.id });
      check(!manual.expiresAt, 'a manual-cleanup sandbox has no expiresAt', manual.expiresAt);
    });
    await run('Get (unknown id: 404)', () =>
      callFails(sandboxes, 'Get', { sandboxId: '00000000-0000-4000-8000-000000000000' },
        'NOT_FOUND'));

    await run('List (state and metadata filters, paging)', async () => {
      const filter = { states: ['Running'], metadata: { suite: 'prism', run: runId } };
      const first = await call(sandboxes, 'List', { ...filter, page: 1, pageSize: 1 });
      check(first.sandboxes.length === 1, 'page 1 of size 1 has one sandbox',
        first.sandboxes.length);
      check(Number(first.pagination.totalItems) === 2 && first.pagination.hasNextPage,
        'page 1 of 2', first.pagination);
      const second = await call(sandboxes, 'List', { ...filter, page: 2, pageSize: 1 });
      check(second.sandboxes.length === 1 && !second.pagination.hasNextPage, 'page 2 of 2',
        second.pagination);
      check(first.sandboxes[0].id !== second.sandboxes[0].id, 'pages hold different sandboxes');
      const none = await call(sandboxes, 'List', { states: ['Paused'], metadata: { run: runId } });
      check(none.sandboxes.length === 0, 'no Paused sandbox yet', none.sandboxes.length);
      const all = await call(sandboxes, 'List', {});
      check(all.sandboxes.length >= 2, 'the unfiltered list holds both', all.sandboxes.length);
    });

    await run('Renew', async () => {
      const renewed = await call(sandboxes, 'Renew', { sandboxId: a.id, timeout: seconds(900) });
      const ahead = millis(renewed.expiresAt) - Date.now();
      check(ahead > 800e3 && ahead < 1000e3, 'expires about 900 s from now', ahead);
    });
    await run('Renew (manual cleanup: 409)', () =>
      callFails(sandboxes, 'Renew', { sandboxId: b.id, timeout: seconds(900) },
        'FAILED_PRECONDITION'));

    await run('PatchMetadata (upsert and remove)', async () => {
      const patched = await call(sandboxes, 'PatchMetadata', {
        sandboxId: a.id,
        upsert: { stage: 'patched' },
        remove: ['scratch'],
      });
      check(patched.metadata.stage === 'patched' && !('scratch' in patched.metadata) &&
        patched.metadata.run === runId, 'patched metadata', patched.metadata);
    });

    await run('GetEndpoint (execd port; another port through the server proxy)', async () => {
      const execd = await call(sandboxes, 'GetEndpoint', { sandboxId: a.id, port: 44772 });
      check(execd.endpoint.includes(`/sandboxes/${a.id}/proxy/44772`), 'execd endpoint', execd);
      const other = await call(sandboxes, 'GetEndpoint', {
        sandboxId: a.id, port: 8080, useServerProxy: true,
      });
      check(other.endpoint.endsWith('/proxy/8080'), 'server-proxy endpoint', other);
    });

    await run('Commands.Run (env from create, stderr, exit status)', async () => {
      const result = await runCommand(a.id, 'echo "$PRISM_GREETING"; echo "$X" >&2; exit 3', {
        X: 'to stderr',
      });
      check(result.stdout.join() === 'hello from prism' && result.stderr.join() === 'to stderr' &&
        result.exitCode === 3, 'command result', result);
    });
    const content = `written through osbd ${runId}\n`;
    await run('Files.Write and Files.Read', async () => {
      await writeFile(a.id, '/srv/prism/data.txt', Buffer.from(content), 0o640);
      const back = await readFile(a.id, '/srv/prism/data.txt');
      check(back === content, 'file read back', back);
    });
    await run('Commands.Run (background), GetStatus, GetLogs', async () => {
      const events = await collectStream(commands.Run({
        sandboxId: a.id, command: 'echo bg-out; echo bg-err >&2', background: true,
        cwd: '/tmp', uid: 0, gid: 0, timeout: seconds(30),
      }));
      check(events[0]?.kind === 'started' && events.at(-1)?.kind === 'completed',
        'a background run starts and completes at once', events.map((e) => e.kind));
      const id = events[0].started.commandId;
      let status;
      for (let i = 0; i < 50; i++) {
        status = await call(commands, 'GetStatus', { sandboxId: a.id, commandId: id });
        if (!status.running) break;
        await sleep(100);
      }
      check(!status.running && status.exitCode === 0 && status.command.includes('bg-out'),
        'the background command finished', status);
      const logs = await call(commands, 'GetLogs', { sandboxId: a.id, commandId: id });
      const text = Buffer.from(logs.data).toString();
      check(text.includes('bg-out') && text.includes('bg-err'), 'background logs', text);
      const more = await call(commands, 'GetLogs', {
        sandboxId: a.id, commandId: id, cursor: logs.nextCursor,
      });
      check(Buffer.from(more.data).length === 0, 'nothing after the cursor', more);
    });
    await run('Commands.Interrupt (a background command), Attach', async () => {
      const events = await collectStream(commands.Run({
        sandboxId: a.id, command: 'sleep 30', background: true,
      }));
      const id = events[0].started.commandId;
      await call(commands, 'Interrupt', { sandboxId: a.id, commandId: id });
      let status;
      for (let i = 0; i < 100; i++) {
        status = await call(commands, 'GetStatus', { sandboxId: a.id, commandId: id });
        if (!status.running) break;
        await sleep(100);
      }
      check(!status.running, 'the interrupted command ended', status);
      // The journal replays the run's events (osbd's own, no upstream call).
      const replayed = await collectStream(commands.Attach({ sandboxId: a.id, commandId: id }));
      check(replayed.length === events.length && replayed[0].kind === 'started',
        'Attach replays the run', replayed.map((e) => e.kind));
    });
    await run('Commands.CreateSession, RunInSession, DeleteSession', async () => {
      const session = await call(commands, 'CreateSession', { sandboxId: a.id, cwd: '/tmp' });
      check(session.sessionId, 'a session id', session);
      const first = commandOutcome(await collectStream(commands.RunInSession({
        sandboxId: a.id, sessionId: session.sessionId, command: 'export PRISM_Y=kept; pwd',
        timeout: seconds(30),
      })));
      check(first.stdout === '/tmp' && first.last.kind === 'completed', 'first run', first);
      const second = commandOutcome(await collectStream(commands.RunInSession({
        sandboxId: a.id, sessionId: session.sessionId, command: 'echo "$PRISM_Y"; pwd',
        cwd: '/srv',
      })));
      check(second.stdout === 'kept\n/srv', 'the session keeps its state', second);
      await call(commands, 'DeleteSession', { sandboxId: a.id, sessionId: session.sessionId });
    });
    await run('Commands.RunBatch (a command job and a code job)', async () => {
      const results = await collectStream(commands.RunBatch({
        target: { sandboxId: a.id },
        jobs: [
          { id: 'cmd', command: { command: 'echo batch-cmd', envs: { B: '1' } } },
          { id: 'code', code: { code: 'echo batch-code', language: 'bash' } },
        ],
        maxParallel: 2,
        jobTimeout: seconds(60),
      }));
      const byId = Object.fromEntries(results.map((r) => [r.jobId, r]));
      check(byId.cmd?.success && Buffer.from(byId.cmd.stdout).toString() === 'batch-cmd\n',
        'the command job', byId.cmd);
      check(byId.code?.success && Buffer.from(byId.code.stdout).toString().includes('batch-code'),
        'the code job', byId.code);
    });

    await run('Files: MakeDirectories, Write, Read (a range), GetInfo, ListDirectory, Search',
      async () => {
        await call(files, 'MakeDirectories', { sandboxId: a.id, directories: [
          { path: '/srv/work/keep', mode: 0o750 },
          { path: '/srv/work/drop', mode: 0o755, owner: 'root', group: 'root' },
        ] });
        await writeFile(a.id, '/srv/work/keep/notes.txt', Buffer.from('alpha beta alpha\n'), 0o644);
        const part = await readFile(a.id, '/srv/work/keep/notes.txt', { offset: 6, length: 4 });
        check(part === 'beta', 'a byte range', part);
        const info = await call(files, 'GetInfo', {
          sandboxId: a.id, paths: ['/srv/work/keep/notes.txt', '/srv/work/keep'],
        });
        const file = info.infos['/srv/work/keep/notes.txt'];
        check(file?.type === 'FILE_TYPE_FILE' && Number(file.size) === 17 && file.mode === 0o644,
          'file info', file);
        check(info.infos['/srv/work/keep']?.mode === 0o750, 'directory info', info.infos);
        const listed = await call(files, 'ListDirectory', { sandboxId: a.id, path: '/srv/work',
          depth: 2 });
        check(listed.entries.map((e) => e.path).join() ===
          '/srv/work/drop,/srv/work/keep,/srv/work/keep/notes.txt', 'listing', listed.entries);
        const found = await call(files, 'Search', { sandboxId: a.id, path: '/srv/work',
          pattern: '*.txt' });
        check(found.files.length === 1 && found.files[0].path === '/srv/work/keep/notes.txt',
          'search', found.files);
      });
    await run('Files: SetPermissions, Replace, Move, Delete, DeleteDirectories', async () => {
      await call(files, 'SetPermissions', { sandboxId: a.id, permissions: [
        { path: '/srv/work/keep/notes.txt', mode: 0o600, owner: 'root', group: 'root' },
      ] });
      const replaced = await call(files, 'Replace', { sandboxId: a.id, replacements: [
        { path: '/srv/work/keep/notes.txt', oldContent: 'alpha', newContent: 'gamma' },
      ] });
      check(Number(replaced.results[0]?.replacedCount) === 2, 'two replaced', replaced);
      await call(files, 'Move', { sandboxId: a.id, moves: [
        { source: '/srv/work/keep/notes.txt', destination: '/srv/work/keep/moved.txt' },
      ] });
      const info = await call(files, 'GetInfo', { sandboxId: a.id,
        paths: ['/srv/work/keep/moved.txt'] });
      check(info.infos['/srv/work/keep/moved.txt']?.mode === 0o600, 'moved, mode kept', info);
      check(await readFile(a.id, '/srv/work/keep/moved.txt') === 'gamma beta gamma\n',
        'replaced content');
      await call(files, 'Delete', { sandboxId: a.id, paths: ['/srv/work/keep/moved.txt'] });
      await call(files, 'DeleteDirectories', { sandboxId: a.id,
        paths: ['/srv/work/drop', '/srv/work/keep'] });
      const left = await call(files, 'ListDirectory', { sandboxId: a.id, path: '/srv/work' });
      check(left.entries.length === 0, 'all deleted', left.entries);
    });

    await run('Code: CreateContext, ListContexts, GetContext, Run', async () => {
      const context = await call(code, 'CreateContext', { sandboxId: a.id, language: 'bash',
        cwd: '/tmp' });
      check(context.id && context.language === 'bash', 'a bash context', context);
      const listed = await call(code, 'ListContexts', { sandboxId: a.id, language: 'bash' });
      check(listed.contexts.some((c) => c.id === context.id), 'listed context', listed);
      const got = await call(code, 'GetContext', { sandboxId: a.id, contextId: context.id });
      check(got.id === context.id, 'got context', got);
      // With the context's language too, as the official SDKs send it (see the last step).
      const ran = codeOutcome(await collectStream(code.Run({
        sandboxId: a.id, contextId: context.id, language: 'bash',
        code: 'X=41; echo $((X + 1)); pwd',
      })));
      check(ran.stdout === '42\n/tmp\n' && ran.last.kind === 'completed', 'code run', ran);
      const byLanguage = codeOutcome(await collectStream(code.Run({
        sandboxId: a.id, language: 'bash', code: 'echo default context',
      })));
      check(byLanguage.stdout === 'default context\n', 'run by language', byLanguage);
      return context;
    });
    await run('Code: Interrupt, DeleteContext, DeleteContexts', async () => {
      const context = await call(code, 'CreateContext', { sandboxId: a.id, language: 'bash' });
      const running = collectStream(code.Run({
        sandboxId: a.id, contextId: context.id, language: 'bash',
        code: 'sleep 3; echo not interrupted',
      }));
      // The run's events come only when it ends (Prism): wait until it runs, by the clock.
      await sleep(1000);
      await call(code, 'Interrupt', { sandboxId: a.id, contextId: context.id });
      const ran = codeOutcome(await running);
      check(ran.last.kind === 'completed' || ran.last.kind === 'error', 'the run ends', ran);
      // Only the exchange's conformance is this test's business; whether the cell stopped is
      // logged (a bash cell's `sleep` has been seen to run on: README.md).
      log(`     the cell ${ran.stdout.includes('not interrupted') ? 'ran on' : 'was interrupted'}`);
      await call(code, 'DeleteContext', { sandboxId: a.id, contextId: context.id });
      await callFails(code, 'GetContext', { sandboxId: a.id, contextId: context.id },
        'NOT_FOUND');
      await call(code, 'DeleteContexts', { sandboxId: a.id, language: 'bash' });
      const listed = await call(code, 'ListContexts', { sandboxId: a.id, language: 'bash' });
      check(listed.contexts.length === 0, 'no bash context left', listed);
    });
    await run('GetMetrics and WatchMetrics', async () => {
      const metrics = await call(sandboxes, 'GetMetrics', { sandboxId: a.id });
      check(metrics.cpuCount > 0, 'cpu count', metrics);
      const watch = sandboxes.WatchMetrics({ sandboxId: a.id });
      for await (const sample of watch) {
        check(sample.memoryTotalMib > 0, 'a watched sample', sample);
        break;
      }
      watch.cancel();
    });

    const snapshot = await run('CreateSnapshot (wait until Ready)', async () => {
      const s = await call(sandboxes, 'CreateSnapshot', {
        sandboxId: a.id, name: 'prism-snapshot', wait: true, waitTimeout: seconds(90),
      }, 120);
      check(s.status.state === 'Ready', 'snapshot Ready', s.status);
      return s;
    });
    await run('GetSnapshot and ListSnapshots (filters, paging)', async () => {
      const got = await call(sandboxes, 'GetSnapshot', { snapshotId: snapshot.id });
      check(got.sandboxId === a.id && got.name === 'prism-snapshot', 'snapshot', got);
      const listed = await call(sandboxes, 'ListSnapshots', {
        sandboxId: a.id, states: ['Ready'], page: 1, pageSize: 5,
      });
      check(listed.snapshots.some((s) => s.id === snapshot.id), 'listed snapshot', listed);
      const all = await call(sandboxes, 'ListSnapshots', {});
      check(all.snapshots.length >= 1, 'unfiltered snapshot list', all.snapshots.length);
    });
    const c = await run('Create (from the snapshot)', async () => {
      const sandbox = await call(sandboxes, 'Create', {
        snapshotId: snapshot.id,
        timeout: seconds(300),
        metadata: { suite: 'prism', run: runId, from: 'snapshot' },
        readyTimeout: seconds(60),
      });
      created.push(sandbox.id);
      const back = await readFile(sandbox.id, '/srv/prism/data.txt');
      check(back === content, 'the restored sandbox has the file', back);
      return sandbox;
    });

    await run('Pause (wait until Paused)', async () => {
      const paused = await call(sandboxes, 'Pause', { sandboxId: a.id, wait: true,
        waitTimeout: seconds(30) });
      check(paused.sandbox.status.state === 'Paused', 'paused', paused.sandbox.status);
      const listed = await call(sandboxes, 'List', {
        states: ['Paused'], metadata: { run: runId },
      });
      check(listed.sandboxes.length === 1, 'one Paused sandbox', listed.sandboxes.length);
    });
    await run('Pause (already paused: 409)', () =>
      callFails(sandboxes, 'Pause', { sandboxId: a.id }, 'FAILED_PRECONDITION'));
    await run('Resume (wait until healthy)', async () => {
      const resumed = await call(sandboxes, 'Resume', { sandboxId: a.id,
        readyTimeout: seconds(60) });
      check(resumed.sandbox.status.state === 'Running', 'resumed', resumed.sandbox.status);
      const result = await runCommand(a.id, 'cat /srv/prism/data.txt');
      check(result.stdout.join('\n') === content.trimEnd(), 'runs after resume', result);
    });
    await run('Resume (running: 409)', () =>
      callFails(sandboxes, 'Resume', { sandboxId: a.id, skipHealthCheck: true },
        'FAILED_PRECONDITION'));

    await run('DeleteSnapshot', async () => {
      await call(sandboxes, 'DeleteSnapshot', { snapshotId: snapshot.id });
      await callFails(sandboxes, 'GetSnapshot', { snapshotId: snapshot.id }, 'NOT_FOUND');
    });
    // Code.Run and a batch's code job given a context id and no language, which the proto
    // allows: the spec's CodeContext requires the language, so osbd looks it up (GET
    // /code/contexts/{id}) and sends both, as the official SDKs do (README.md, what it found).
    await runOn('Code.Run and RunBatch (a context id alone)', async () => {
      const context = await call(code, 'CreateContext', { sandboxId: a.id, language: 'bash' });
      const ran = codeOutcome(await collectStream(code.Run({
        sandboxId: a.id, contextId: context.id, code: 'echo by id',
      })));
      check(ran.stdout === 'by id\n', 'run by context id', ran);
      const results = await collectStream(commands.RunBatch({
        target: { sandboxId: a.id },
        jobs: [{ id: 'by-id', code: { code: 'echo batch by id', contextId: context.id } }],
        jobTimeout: seconds(60),
      }));
      check(results.length === 1 && results[0].success &&
        Buffer.from(results[0].stdout).toString().includes('batch by id'),
      'a batch code job by context id', results);
      await call(code, 'DeleteContext', { sandboxId: a.id, contextId: context.id });
    });

    await run('Kill', async () => {
      for (const id of [c.id, b.id, a.id]) await call(sandboxes, 'Kill', { sandboxId: id });
      created.length = 0;
      await callFails(sandboxes, 'Get', { sandboxId: a.id }, 'NOT_FOUND');
      await callFails(sandboxes, 'Kill', { sandboxId: a.id }, 'NOT_FOUND');
      const left = await call(sandboxes, 'List', { metadata: { run: runId } });
      check(left.sandboxes.length === 0, 'nothing left of this run', left.sandboxes);
    });
  };

  try {
    await lifecycle();
  } finally {
    // On a failure, what this run made goes (run.sh also deletes whatever the runtime still has).
    for (const id of created) {
      await call(sandboxes, 'Kill', { sandboxId: id }).catch(() => {});
    }
  }
}

main().then(
  () => {
    if (failedSteps.length) console.error(`workload: FAILED: ${failedSteps.length} step(s)`);
    process.exit(failedSteps.length ? 1 : 0);
  },
  (error) => {
    console.error(`workload: FAILED at "${step}": ${error.details ?? error.message}` +
      (error.code !== undefined ? ` (gRPC ${error.code})` : ''));
    process.exit(1);
  },
);
