// End-to-end tests of sandbox.files against a real osbd and osb-runtime: every operation of
// osbd's Files service, under the official JS SDK's names.
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, beforeEach, test } from 'node:test';

import { status } from '@grpc/grpc-js';

import {
  ConnectionConfig,
  FailedPreconditionError,
  InvalidArgumentError,
  Sandbox,
  SandboxError,
  SandboxNotFoundError,
} from '../src/index.js';
import { startStack } from './stack.js';

const IMAGE = 'host';
let stack;
let config;
let sandbox;
let files;
let root; // a fresh directory for each test

before(async () => {
  stack = await startStack();
  config = new ConnectionConfig({ socket: stack.socket, domain: '', apiKey: '' });
  sandbox = await Sandbox.create({ image: IMAGE, timeoutSeconds: 300, connectionConfig: config });
  files = sandbox.files;
});

after(async () => {
  await sandbox?.kill();
  sandbox?.close();
  await stack?.stop();
});

beforeEach(async () => {
  root = `/tmp/files-${randomUUID().slice(0, 8)}`;
  await files.createDirectories([root]);
});

/** stdout lines of a command that must succeed. */
async function sh(command) {
  const execution = await sandbox.commands.run(command);
  assert.equal(execution.exitCode, 0, `${command}: ${JSON.stringify(execution.logs)}`);
  return execution.logs.stdout.map((m) => m.text);
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

test('writeFiles, then read text, bytes and byte ranges', async () => {
  const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await files.writeFiles([
    { path: `${root}/deep/a.txt`, data: 'grüße\n', mode: 0o640 },
    { path: `${root}/b.bin`, data: binary },
    { path: `${root}/c.txt`, data: new TextEncoder().encode('an ArrayBuffer').buffer },
    { path: `${root}/d.txt`, data: new Blob(['a ', 'Blob']) },
    { path: `${root}/e.txt`, data: 'latin', encoding: 'latin1' },
  ]);
  assert.equal(await files.readFile(`${root}/deep/a.txt`), 'grüße\n');
  assert.deepEqual(await files.readBytes(`${root}/b.bin`), binary);
  assert.equal(await files.readFile(`${root}/c.txt`), 'an ArrayBuffer');
  assert.equal(await files.readFile(`${root}/d.txt`), 'a Blob');
  assert.equal(await files.readFile(`${root}/e.txt`, { encoding: 'latin1' }), 'latin');
  assert.deepEqual(await sh(`stat -c %a ${root}/deep/a.txt`), ['640']);

  const read = (range) => files.readBytes(`${root}/b.bin`, { range });
  assert.deepEqual(await read('bytes=16-31'), binary.subarray(16, 32));
  assert.deepEqual(await read('bytes=250-'), binary.subarray(250));
  assert.deepEqual(await read('bytes=-3'), binary.subarray(-3));
  assert.deepEqual(await read('bytes=250-9999'), binary.subarray(250)); // shortened to the end
  assert.equal(await files.readFile(`${root}/deep/a.txt`, { range: 'bytes=0-1' }), 'gr');
  for (const bad of ['0-9', 'bytes=-', 'bytes=9-2', 'bytes=-0']) {
    await assert.rejects(read(bad), InvalidArgumentError);
  }

  await files.writeFile(`${root}/b.bin`, ''); // replaced, now empty
  assert.equal((await files.readBytes(`${root}/b.bin`)).length, 0);
  for await (const piece of files.readBytesStream(`${root}/b.bin`)) assert.fail(`read ${piece}`);
});

test('large files stream both ways in chunks', async () => {
  const size = 3 * 1024 * 1024 + 12345;
  const data = randomBytes(size);
  // A stream: sent as it is read, its size unknown up front, in pieces larger than a chunk.
  const pieces = [data.subarray(0, 1 << 20), data.subarray(1 << 20)];
  await files.writeFile(`${root}/big`, Readable.from(pieces), { mode: 0o600 });
  assert.deepEqual(await sh(`stat -c '%s %a' ${root}/big`), [`${size} 600`]);
  assert.deepEqual(await sh(`sha256sum ${root}/big | cut -d' ' -f1`), [sha256(data)]);

  const sizes = [];
  const digest = createHash('sha256');
  for await (const piece of files.readBytesStream(`${root}/big`, { chunkSize: 1 << 20 })) {
    sizes.push(piece.length);
    digest.update(piece);
  }
  assert.deepEqual(sizes, [1 << 20, 1 << 20, 1 << 20, 12345]);
  assert.equal(digest.digest('hex'), sha256(data));

  // Leaving the loop early cancels the read; the next call is unaffected.
  for await (const piece of files.readBytesStream(`${root}/big`, { chunkSize: 1000 })) {
    assert.deepEqual(piece, data.subarray(0, 1000));
    break;
  }
  assert.deepEqual(
    await files.readBytes(`${root}/big`, { range: 'bytes=-10' }),
    data.subarray(-10),
  );
  // A missing file fails the first step of the iteration.
  const missing = files.readBytesStream(`${root}/none`);
  await assert.rejects(missing.next(), (e) => {
    assert.ok(e instanceof SandboxNotFoundError);
    assert.equal(e.grpcCode, status.NOT_FOUND);
    return true;
  });
  await assert.rejects(
    files.readBytesStream(`${root}/big`, { chunkSize: 0 }).next(),
    InvalidArgumentError,
  );
});

test('failed uploads reject', async () => {
  await files.writeFile(`${root}/plain`, 'a file, not a directory');
  const pieces = function* () {
    yield* [randomBytes(100_000), 'text', randomBytes(10)];
  };
  await assert.rejects(files.writeFile(`${root}/plain/child`, pieces()), SandboxError);
  // A stream that breaks ends the upload with its error.
  async function* broken() {
    yield randomBytes(1000);
    throw new Error('source gone');
  }
  await assert.rejects(files.writeFile(`${root}/broken`, broken()), /source gone/);
  // So does one that yields something other than bytes or text.
  await assert.rejects(files.writeFile(`${root}/n`, [1, 2]), InvalidArgumentError);
  // What cannot be sent is refused before anything is written.
  await assert.rejects(
    files.writeFiles([
      { path: `${root}/first`, data: 'x' },
      { path: `${root}/second`, data: 42 },
    ]),
    InvalidArgumentError,
  );
  await assert.rejects(files.writeFile(`${root}/m`, 'x', { mode: 0o10000 }), InvalidArgumentError);
  const left = await sh(`ls ${root}`);
  for (const name of ['first', 'second', 'm', 'n']) assert.ok(!left.includes(name), name);
});

test('getFileInfo', async () => {
  await files.writeFile(`${root}/f.txt`, '12345', { mode: 0o604 });
  await sh(`ln -s f.txt ${root}/link`);
  const before = Date.now() - 60_000;
  const infos = await files.getFileInfo([`${root}/f.txt`, root, `${root}/link`]);
  assert.deepEqual(Object.keys(infos).sort(), [root, `${root}/f.txt`, `${root}/link`]);
  const info = infos[`${root}/f.txt`];
  assert.deepEqual(
    [info.path, info.type, info.size, info.mode],
    [`${root}/f.txt`, 'file', 5, 0o604],
  );
  assert.ok(info.owner && info.group);
  assert.ok(info.modifiedAt > before && info.createdAt instanceof Date);
  assert.equal(infos[root].type, 'directory');
  assert.equal(infos[`${root}/link`].type, 'symlink');
  await assert.rejects(
    files.getFileInfo([`${root}/f.txt`, `${root}/missing`]),
    SandboxNotFoundError,
  );
});

test('createDirectories and listDirectory', async () => {
  await files.createDirectories([{ path: `${root}/a/b/c`, mode: 0o700 }, `${root}/z`]);
  assert.deepEqual(await sh(`stat -c %a ${root}/a/b/c ${root}/z`), ['700', '755']);
  await files.writeFile(`${root}/a/file.txt`, 'x');

  const children = await files.listDirectory({ path: root });
  assert.deepEqual(
    children.map((e) => [e.path, e.type]),
    [
      [`${root}/a`, 'directory'],
      [`${root}/z`, 'directory'],
    ],
  );
  const deep = await files.listDirectory({ path: root, depth: 3 });
  assert.deepEqual(
    deep.map((e) => e.path),
    [`${root}/a`, `${root}/a/b`, `${root}/a/b/c`, `${root}/a/file.txt`, `${root}/z`],
  );
  assert.deepEqual(
    (await files.listDirectory(`${root}/a`)).map((e) => e.path),
    [`${root}/a/b`, `${root}/a/file.txt`],
  );
  assert.deepEqual(await files.listDirectory({ path: root, depth: 0 }), []);
  await assert.rejects(files.listDirectory({ path: root, depth: -1 }), InvalidArgumentError);
  await assert.rejects(files.listDirectory(`${root}/a/file.txt`), (e) => {
    assert.ok(e instanceof InvalidArgumentError); // not a directory: osbd's answer
    assert.equal(e.grpcCode, status.INVALID_ARGUMENT);
    return true;
  });
});

test('search finds files by glob', async () => {
  await files.writeFiles([
    { path: `${root}/x.py`, data: '1' },
    { path: `${root}/y.txt`, data: '2' },
    { path: `${root}/sub/z.py`, data: '3' },
  ]);
  const found = await files.search({ path: root, pattern: '*.py' });
  assert.deepEqual(found.map((e) => e.path).sort(), [`${root}/sub/z.py`, `${root}/x.py`]);
  assert.ok(found.every((e) => e.type === 'file'));
  assert.equal((await files.search({ path: root })).length, 3); // default: every file
  await assert.rejects(
    files.search({ path: `${root}/nowhere`, pattern: '*' }),
    SandboxNotFoundError,
  );
});

test('moveFiles', async () => {
  await files.writeFiles([
    { path: `${root}/one`, data: '1' },
    { path: `${root}/two`, data: '2' },
  ]);
  await files.moveFiles([
    { src: `${root}/one`, dest: `${root}/moved/uno` },
    { src: `${root}/two`, dest: `${root}/dos` },
  ]);
  assert.equal(await files.readFile(`${root}/moved/uno`), '1');
  assert.equal(await files.readFile(`${root}/dos`), '2');
  assert.deepEqual(await sh(`ls ${root}`), ['dos', 'moved']);
  await assert.rejects(
    files.moveFiles([{ src: `${root}/one`, dest: `${root}/again` }]),
    SandboxNotFoundError,
  );
  const onto = files.moveFiles([{ src: `${root}/dos`, dest: `${root}/moved/uno` }]);
  await assert.rejects(onto, (e) => {
    assert.ok(e instanceof InvalidArgumentError); // the destination exists
    assert.equal(e.httpStatus, 400);
    return true;
  });
  assert.equal(await files.readFile(`${root}/dos`), '2');
});

test('deleteFiles and deleteDirectories', async () => {
  await files.writeFiles([
    { path: `${root}/keep`, data: 'k' },
    { path: `${root}/gone`, data: 'g' },
    { path: `${root}/tree/a/b`, data: 'b' },
  ]);
  await files.deleteFiles([`${root}/gone`, `${root}/never-was`]); // missing ones are ignored
  assert.deepEqual(await sh(`ls ${root}`), ['keep', 'tree']);
  await assert.rejects(files.deleteFiles([`${root}/tree`]), SandboxError); // a directory
  assert.deepEqual(await sh(`ls ${root}`), ['keep', 'tree']);
  await files.deleteDirectories([`${root}/tree`]);
  assert.deepEqual(await sh(`ls ${root}`), ['keep']);
});

test('setPermissions', async () => {
  await files.writeFiles([
    { path: `${root}/a`, data: 'a', mode: 0o644 },
    { path: `${root}/b`, data: 'b', mode: 0o644 },
  ]);
  await files.setPermissions([
    { path: `${root}/a`, mode: 0o751 },
    { path: `${root}/b`, owner: '65534', group: '65534' },
  ]);
  assert.deepEqual(await sh(`stat -c '%a %u:%g' ${root}/a ${root}/b`), [
    '751 0:0',
    '644 65534:65534',
  ]);
  assert.equal((await files.getFileInfo([`${root}/a`]))[`${root}/a`].mode, 0o751);
  await assert.rejects(
    files.setPermissions([{ path: `${root}/missing`, mode: 0o600 }]),
    SandboxNotFoundError,
  );
});

test('replaceContents and replaceContentsDetailed', async () => {
  await files.writeFiles([
    { path: `${root}/a.cfg`, data: 'host=old\nport=1\nold=old\n', mode: 0o640 },
    { path: `${root}/b.cfg`, data: 'nothing here' },
  ]);
  const results = await files.replaceContentsDetailed([
    { path: `${root}/a.cfg`, oldContent: 'old', newContent: 'new' },
    { path: `${root}/b.cfg`, oldContent: 'old', newContent: 'new' },
  ]);
  assert.deepEqual(results, [
    { path: `${root}/a.cfg`, replacedCount: 3 },
    { path: `${root}/b.cfg`, replacedCount: 0 },
  ]);
  assert.equal(await files.readFile(`${root}/a.cfg`), 'host=new\nport=1\nnew=new\n');
  assert.deepEqual(await sh(`stat -c %a ${root}/a.cfg`), ['640']); // mode kept
  assert.equal(
    await files.replaceContents([
      { path: `${root}/a.cfg`, oldContent: 'port=1', newContent: 'port=2' },
    ]),
    undefined,
  );
  assert.equal(await files.readFile(`${root}/a.cfg`), 'host=new\nport=2\nnew=new\n');
  await assert.rejects(
    files.replaceContents([{ path: `${root}/a.cfg`, oldContent: '', newContent: 'x' }]),
    InvalidArgumentError,
  );
});

test('files of a paused sandbox fail with a precondition', async () => {
  const paused = await Sandbox.create({ image: IMAGE, connectionConfig: config });
  try {
    await paused.files.writeFile('/tmp/p', 'p');
    await paused.pause();
    await assert.rejects(paused.files.readFile('/tmp/p'), (e) => {
      assert.ok(e instanceof FailedPreconditionError);
      assert.equal(e.code, 'SANDBOX::NOT_RUNNING');
      return true;
    });
  } finally {
    await paused.kill();
    paused.close();
  }
});
