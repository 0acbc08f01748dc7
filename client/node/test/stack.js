// A private osbd for a test file, as tests/integration/harness.cc starts it: a temporary socket
// and state directory, its embedded osb-runtime on a free port, binaries from $OSB_BIN_DIR.
// stop() deletes every sandbox through the lifecycle API, stops osbd and the runtime, and
// removes the directory.
import { spawn } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// The client must talk to this osbd and its default service, whatever the caller's environment.
const FOREIGN_ENV = [
  'OSBD_SOCKET',
  'OSBD_EMBEDDED_LISTEN',
  'OPEN_SANDBOX_DOMAIN',
  'OPEN_SANDBOX_API_KEY',
  'OPEN_SANDBOX_PROTOCOL',
];

async function waitFor(path, seconds) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (existsSync(path)) return true;
    await sleep(10);
  }
  return false;
}

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid) {
  // A zombie has exited: /proc/<pid>/stat says "Z".
  const stat = read(`/proc/${pid}/stat`);
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

async function stopProcess(pid) {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && alive(pid)) await sleep(10);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

export async function startStack() {
  const binDir = process.env.OSB_BIN_DIR;
  try {
    accessSync(join(binDir ?? '', 'osbd'), constants.X_OK);
  } catch {
    throw new Error('set OSB_BIN_DIR to the directory holding osbd, osb-runtime and osb-agent');
  }
  const dir = mkdtempSync('/tmp/osbt-node-');
  chmodSync(dir, 0o711); // the sandboxes' unprivileged ids traverse it
  const socket = join(dir, 'run/osbd.sock');
  const state = join(dir, 'state');
  const env = { ...process.env };
  for (const name of FOREIGN_ENV) delete env[name];
  const log = openSync(join(dir, 'osbd.log'), 'a');
  const osbd = spawn(
    join(binDir, 'osbd'),
    ['--socket', socket, '--state-dir', state, '--embedded-listen', '127.0.0.1:0'],
    { stdio: ['ignore', log, log], env, detached: true },
  );
  const osbdExited = new Promise((resolve) => osbd.once('exit', resolve));
  const readyPath = join(state, 'runtime/ready.json');
  const stack = { dir, socket, runtime: undefined };

  stack.stop = async () => {
    if (stack.runtime) {
      const { address, apiKey } = stack.runtime;
      const headers = { 'OPEN-SANDBOX-API-KEY': apiKey };
      const list = await (
        await fetch(`http://${address}/v1/sandboxes?pageSize=200`, { headers })
      ).json();
      for (const item of list.items) {
        await fetch(`http://${address}/v1/sandboxes/${item.id}`, { method: 'DELETE', headers });
      }
    }
    if (osbd.exitCode === null) {
      await stopProcess(osbd.pid);
      await osbdExited;
    }
    if (stack.runtime) await stopProcess(stack.runtime.pid);
    rmSync(dir, { recursive: true, force: true });
  };

  if (!(await waitFor(socket, 30)) || !(await waitFor(readyPath, 5))) {
    const logs = read(join(dir, 'osbd.log')) + read(join(state, 'runtime/runtime.log'));
    await stack.stop();
    throw new Error(`osbd did not start: ${logs}`);
  }
  const ready = JSON.parse(read(readyPath));
  stack.runtime = {
    address: ready.address,
    pid: ready.pid,
    apiKey: read(join(state, 'runtime/api-key')).trim(),
  };
  return stack;
}
