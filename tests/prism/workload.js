// The workload: every lifecycle-backed RPC of osbd's Sandboxes service, with the request fields
// that shape the upstream HTTP (metadata, env, resource limits, timeouts, filters, paging), the
// error answers osbd relays (404, 409), and some execd traffic (commands, files, metrics). It
// talks gRPC to osbd like any client; run.sh points osbd's --domain at Prism. Fails (exit 1)
// on the first call that answers other than expected, naming the step.
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

async function readFile(sandboxId, path) {
  const chunks = [];
  for await (const chunk of files.Read({ sandboxId, path })) chunks.push(chunk.data);
  return Buffer.concat(chunks).toString();
}

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
  () => process.exit(0),
  (error) => {
    console.error(`workload: FAILED at "${step}": ${error.details ?? error.message}` +
      (error.code !== undefined ? ` (gRPC ${error.code})` : ''));
    process.exit(1);
  },
);
