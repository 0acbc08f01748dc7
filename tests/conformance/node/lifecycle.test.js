// The lifecycle API through the official JavaScript SDK: create with metadata, env and
// resources, getInfo, list with filters, renew, pause and resume, endpoints, kill, and unknown
// ids (COMPAT.md §1, §3.2).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, afterEach, before, test } from 'node:test';

import {
  DEFAULT_EXECD_PORT,
  Sandbox,
  SandboxApiException,
  SandboxException,
  SandboxManager,
} from '@alibaba-group/opensandbox';

import { label, startRuntime, texts, waitFor } from './runtime.js';

let runtime;
let manager;

before(async () => {
  runtime = await startRuntime();
  manager = SandboxManager.create({ connectionConfig: runtime.config() });
});
afterEach(async () => runtime.closeAll());
after(async () => {
  await manager?.close();
  await runtime?.stop();
});

const MISSING = '00000000-0000-4000-8000-000000000000';

function closeTo(date, expectedMs, slackMs = 30_000) {
  return Math.abs(date.getTime() - expectedMs) <= slackMs;
}

async function waitForState(getInfo, state) {
  return waitFor(async () => {
    const info = await getInfo();
    return info.status.state === state ? info : undefined;
  }, { what: `state ${state}` });
}

async function rejectsWithStatus(promise, status) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof SandboxApiException, `not a SandboxApiException: ${err}`);
    assert.equal(err.statusCode, status, err.message);
    return true;
  });
}

test('create applies metadata, env and resources', async () => {
  const tag = label();
  const before = Date.now();
  const sbx = await runtime.create({
    metadata: { suite: 'conformance', case: tag },
    env: { CONF_GREETING: 'hello world' },
    resource: { cpu: '500m', memory: '256Mi' },
    timeoutSeconds: 600,
  });
  const info = await sbx.getInfo();
  assert.equal(info.id, sbx.id);
  assert.equal(info.status.state, 'Running');
  assert.equal(info.metadata.suite, 'conformance');
  assert.equal(info.metadata.case, tag);
  assert.deepEqual(info.entrypoint, ['tail', '-f', '/dev/null']);
  assert.ok(info.expiresAt instanceof Date);
  assert.ok(closeTo(info.expiresAt, before + 600_000));
  assert.ok(info.createdAt.getTime() >= before - 5000 && info.createdAt.getTime() <= Date.now());

  // The sandbox's env reaches every command.
  const run = await sbx.commands.run('echo $CONF_GREETING');
  assert.deepEqual(texts(run.logs.stdout), ['hello world']);

  // execd's metrics report the limits the sandbox was given.
  const metrics = await sbx.getMetrics();
  assert.equal(metrics.cpuCount, 0.5);
  assert.equal(metrics.memoryTotalMiB, 256);
  assert.ok(metrics.memoryUsedMiB > 0 && metrics.memoryUsedMiB < 256);
});

test('manual cleanup: no expiry', async () => {
  const sbx = await runtime.create({ timeoutSeconds: null });
  assert.equal((await sbx.getInfo()).expiresAt, null);
  await rejectsWithStatus(sbx.renew(300), 409);
});

test('patchMetadata merges', async () => {
  const tag = label();
  const sbx = await runtime.create({ metadata: { case: tag, old: 'x' } });
  const info = await sbx.patchMetadata({ old: null, new: 'y' });
  assert.deepEqual(info.metadata, { case: tag, new: 'y' });
  assert.deepEqual((await manager.getSandboxInfo(sbx.id)).metadata, { case: tag, new: 'y' });
});

test('list filters by metadata and state', async () => {
  const tag = label();
  const a = await runtime.create({ metadata: { case: tag, role: 'a' } });
  const b = await runtime.create({ metadata: { case: tag, role: 'b' } });
  await b.pause();
  await waitForState(() => b.getInfo(), 'Paused');

  const ids = async (filter) =>
    new Set((await manager.listSandboxInfos(filter)).items.map((i) => i.id));
  assert.deepEqual(await ids({ metadata: { case: tag } }), new Set([a.id, b.id]));
  // Several metadata pairs must all match.
  assert.deepEqual(await ids({ metadata: { case: tag, role: 'a' } }), new Set([a.id]));
  assert.deepEqual(await ids({ metadata: { case: tag, role: 'c' } }), new Set());
  assert.deepEqual(await ids({ metadata: { case: tag }, states: ['Paused'] }), new Set([b.id]));
  assert.deepEqual(await ids({ metadata: { case: tag }, states: ['Running'] }), new Set([a.id]));
  // Several states match any of them.
  assert.deepEqual(
    await ids({ metadata: { case: tag }, states: ['Running', 'Paused'] }),
    new Set([a.id, b.id]),
  );
  assert.deepEqual(await ids({ metadata: { case: tag }, states: ['Terminated'] }), new Set());

  const first = await manager.listSandboxInfos({ metadata: { case: tag }, pageSize: 1 });
  assert.equal(first.items.length, 1);
  assert.equal(first.pagination.totalItems, 2);
  assert.equal(first.pagination.totalPages, 2);
  assert.equal(first.pagination.hasNextPage, true);
  const second = await manager.listSandboxInfos({ metadata: { case: tag }, pageSize: 1, page: 2 });
  assert.equal(second.pagination.hasNextPage, false);
  assert.deepEqual(new Set([first.items[0].id, second.items[0].id]), new Set([a.id, b.id]));

  const info = await manager.getSandboxInfo(b.id);
  assert.equal(info.status.state, 'Paused');
  assert.equal(info.metadata.role, 'b');
});

test('renew moves the expiry', async () => {
  const sbx = await runtime.create({ timeoutSeconds: 600 });
  const renewed = await sbx.renew(1800);
  assert.ok(closeTo(renewed.expiresAt, Date.now() + 1_800_000));
  const info = await sbx.getInfo();
  assert.ok(Math.abs(info.expiresAt - renewed.expiresAt) < 1000);

  await manager.renewSandbox(sbx.id, 7200);
  assert.ok(closeTo((await manager.getSandboxInfo(sbx.id)).expiresAt, Date.now() + 7_200_000));
});

test('pause keeps processes; resume brings them back', async () => {
  const sbx = await runtime.create();
  const pid = (await sbx.commands.run('sleep 600 & echo $!')).logs.stdout[0].text;
  await sbx.commands.run('echo kept > /tmp/state.txt');

  await sbx.pause();
  await waitForState(() => sbx.getInfo(), 'Paused');
  // A paused sandbox answers no execd call.
  assert.equal(await sbx.isHealthy(), false);
  await rejectsWithStatus(sbx.pause(), 409);

  const resumed = await sbx.resume();
  assert.equal((await resumed.getInfo()).status.state, 'Running');
  assert.equal(await resumed.isHealthy(), true);
  const check = await resumed.commands.run(`kill -0 ${pid} && cat /tmp/state.txt`);
  assert.equal(check.exitCode, 0);
  assert.deepEqual(texts(check.logs.stdout), ['kept']);
  await rejectsWithStatus(manager.resumeSandbox(sbx.id), 409);
});

test('manager pause and resume; Sandbox.resume by id', async () => {
  const sbx = await runtime.create();
  await manager.pauseSandbox(sbx.id);
  await waitForState(() => manager.getSandboxInfo(sbx.id), 'Paused');
  await manager.resumeSandbox(sbx.id);
  await waitForState(() => manager.getSandboxInfo(sbx.id), 'Running');
  assert.equal((await sbx.commands.run('true')).exitCode, 0);

  await manager.pauseSandbox(sbx.id);
  await waitForState(() => manager.getSandboxInfo(sbx.id), 'Paused');
  const resumed = await Sandbox.resume({ sandboxId: sbx.id, connectionConfig: runtime.config() });
  try {
    assert.equal((await resumed.commands.run('echo back')).logs.stdout[0].text, 'back');
  } finally {
    await resumed.close();
  }
});

test('endpoints reach execd and any sandbox port', async () => {
  const sbx = await runtime.create();
  const execd = await sbx.getEndpoint(DEFAULT_EXECD_PORT);
  // COMPAT.md §1.3: no scheme; a path-shaped endpoint ends with the port.
  assert.ok(!execd.endpoint.includes('://'), execd.endpoint);
  assert.ok(execd.endpoint.endsWith('/44772'), execd.endpoint);
  const ping = await fetch(`http://${execd.endpoint}/ping`, { headers: execd.headers ?? {} });
  assert.equal(ping.status, 200);

  await sbx.files.writeFiles([{ path: '/tmp/www/hello.txt', data: 'served from the sandbox\n' }]);
  await sbx.commands.run('cd /tmp/www && exec python3 -m http.server 8000 --bind 127.0.0.1', {
    background: true,
  });
  const web = await sbx.getEndpoint(8000);
  assert.ok(!web.endpoint.includes('://'));
  assert.ok(web.endpoint.endsWith('/8000'), web.endpoint);
  assert.equal(await sbx.getEndpointUrl(8000), `http://${web.endpoint}`);
  const body = await waitFor(async () => {
    try {
      const res = await fetch(`http://${web.endpoint}/hello.txt`, { headers: web.headers ?? {} });
      return res.status === 200 ? res.text() : undefined;
    } catch {
      return undefined; // the server is not listening yet
    }
  }, { what: 'the web server in the sandbox' });
  assert.equal(body, 'served from the sandbox\n');
});

test('kill removes the sandbox', async () => {
  const tag = label();
  const sbx = await runtime.create({ metadata: { case: tag } });
  await sbx.kill();
  await rejectsWithStatus(manager.getSandboxInfo(sbx.id), 404);
  assert.deepEqual((await manager.listSandboxInfos({ metadata: { case: tag } })).items, []);
});

for (const [name, call] of [
  ['get', () => manager.getSandboxInfo(MISSING)],
  ['kill', () => manager.killSandbox(MISSING)],
  ['pause', () => manager.pauseSandbox(MISSING)],
  ['resume', () => manager.resumeSandbox(MISSING)],
  ['renew', () => manager.renewSandbox(MISSING, 300)],
  ['patch', () => manager.patchSandboxMetadata(MISSING, { a: 'b' })],
]) {
  test(`unknown id is rejected: ${name}`, async () => {
    await assert.rejects(call(), (err) => {
      assert.ok(err instanceof SandboxApiException, String(err));
      assert.equal(err.statusCode, 404);
      // The server's {"code","message"} body and X-Request-ID reach the exception.
      assert.match(err.error.code, /NOT_FOUND$/);
      assert.ok(err.requestId);
      return true;
    });
  });
}

test('connect to an unknown id fails; to a live one reaches it', async () => {
  await assert.rejects(
    Sandbox.connect({ sandboxId: MISSING, connectionConfig: runtime.config(),
      readyTimeoutSeconds: 5 }),
    SandboxException,
  );
  const sbx = await runtime.create();
  await sbx.files.writeFiles([{ path: '/tmp/mark.txt', data: 'same sandbox' }]);
  const other = await Sandbox.connect({ sandboxId: sbx.id, connectionConfig: runtime.config() });
  try {
    assert.equal(await other.files.readFile('/tmp/mark.txt'), 'same sandbox');
  } finally {
    await other.close();
  }
});

test('useServerProxy mode', async () => {
  const sbx = await runtime.create({ connectionConfig: runtime.config({ useServerProxy: true }) });
  assert.ok((await sbx.getEndpoint(DEFAULT_EXECD_PORT)).endpoint.endsWith('/44772'));
  await sbx.files.writeFiles([{ path: '/tmp/proxied.txt', data: 'through the proxy\n' }]);
  const run = await sbx.commands.run('cat /tmp/proxied.txt');
  assert.deepEqual(texts(run.logs.stdout), ['through the proxy']);
});

// osb-runtime answers the egress sidecar's /policy at port 18080 of the sandbox's endpoint.
const hasPasta = ['/usr/bin/pasta', '/usr/sbin/pasta'].some((p) => existsSync(p));

test('egress rules change while the sandbox runs', { skip: !hasPasta && 'no pasta' }, async () => {
  const sbx = await runtime.create({
    networkPolicy: { defaultAction: 'deny', egress: [{ action: 'allow', target: 'pypi.org' }] },
  });
  const policy = await sbx.getEgressPolicy();
  assert.equal(policy.defaultAction, 'deny');
  assert.deepEqual(policy.egress, [{ action: 'allow', target: 'pypi.org' }]);
  await sbx.patchEgressRules([
    { action: 'allow', target: '*.github.com' },
    { action: 'deny', target: 'pypi.org' },
    { action: 'allow', target: 'pypi.org' },
  ]);
  assert.deepEqual((await sbx.getEgressPolicy()).egress, [
    { action: 'allow', target: '*.github.com' },
    { action: 'deny', target: 'pypi.org' },
  ]);
  await sbx.deleteEgressRules(['pypi.org', 'never.there']);
  assert.deepEqual((await sbx.getEgressPolicy()).egress, [
    { action: 'allow', target: '*.github.com' },
  ]);
});
