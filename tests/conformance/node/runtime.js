// A private osb-runtime for one test file, as tests/integration/harness.cc starts it: a
// temporary state directory, a random API key and a free loopback port, binaries from
// $OSB_BIN_DIR. The official JavaScript SDK (@alibaba-group/opensandbox, unchanged) is pointed
// at it through its ConnectionConfig. stop() deletes every sandbox through the lifecycle API,
// stops the runtime and removes the directory.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
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

import { ConnectionConfig, Sandbox } from '@alibaba-group/opensandbox';

// The SDK reads these when a ConnectionConfig leaves a field unset; the tests must reach this
// file's runtime whatever the caller's environment says.
for (const name of ['OPEN_SANDBOX_DOMAIN', 'OPEN_SANDBOX_API_KEY']) delete process.env[name];

// The runtime ignores the image (every sandbox gets the same minimal root over the host's
// /usr), but the SDK and the API require one.
export const IMAGE = 'debian:12';

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export async function startRuntime() {
  const binDir = process.env.OSB_BIN_DIR ?? '';
  try {
    accessSync(join(binDir, 'osb-runtime'), constants.X_OK);
  } catch {
    throw new Error('set OSB_BIN_DIR to the directory holding osb-runtime and osb-agent');
  }
  const dir = mkdtempSync('/tmp/osbt-conf-node-');
  chmodSync(dir, 0o711); // the sandboxes' unprivileged ids traverse it
  const ready = join(dir, 'ready.json');
  const apiKey = randomBytes(16).toString('hex');
  const log = openSync(join(dir, 'runtime.log'), 'a');
  const child = spawn(
    join(binDir, 'osb-runtime'),
    ['--listen', '127.0.0.1:0', '--state-dir', join(dir, 'state'), '--api-key', apiKey,
      '--ready-file', ready],
    { stdio: ['ignore', log, log], detached: true },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const runtime = { dir, apiKey, address: undefined };

  runtime.stop = async () => {
    if (runtime.address) {
      // Raw lifecycle calls: clean-up must not depend on the SDK under test.
      const headers = { 'OPEN-SANDBOX-API-KEY': apiKey };
      const base = `http://${runtime.address}/v1/sandboxes`;
      const list = await (await fetch(`${base}?pageSize=200`, { headers })).json();
      for (const item of list.items) {
        await fetch(`${base}/${item.id}`, { method: 'DELETE', headers });
      }
    }
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (process.env.OSB_CONFORMANCE_KEEP_LOG) process.stdout.write(read(join(dir, 'runtime.log')));
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  while (!existsSync(ready) && child.exitCode === null && Date.now() < deadline) await sleep(20);
  if (!existsSync(ready)) {
    const text = read(join(dir, 'runtime.log'));
    await runtime.stop();
    throw new Error(`osb-runtime did not start: ${text}`);
  }
  runtime.address = JSON.parse(read(ready)).address;

  runtime.config = (extra = {}) =>
    new ConnectionConfig({ domain: runtime.address, apiKey, protocol: 'http', ...extra });

  // Sandbox.create with this runtime's connection; closeAll() kills and closes what it made.
  const made = [];
  runtime.create = async (opts = {}) => {
    const sandbox = await Sandbox.create({
      connectionConfig: runtime.config(),
      image: IMAGE,
      timeoutSeconds: 600,
      ...opts,
    });
    made.push(sandbox);
    return sandbox;
  };
  runtime.closeAll = async () => {
    for (const sandbox of made.splice(0)) {
      await sandbox.kill().catch(() => {}); // already killed by the test
      await sandbox.close();
    }
  };
  return runtime;
}

// A metadata value unique to one test, so list filters see only that test's sandboxes.
export function label() {
  return `t${randomBytes(6).toString('hex')}`;
}

export function texts(messages) {
  return messages.map((m) => m.text);
}

export async function waitFor(check, { seconds = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
