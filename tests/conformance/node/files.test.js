// Files through the official JavaScript SDK: write and read back, modes and owners,
// directories, list, search, info, move, delete, replace and Range reads (COMPAT.md §2.6, §3.2).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, test } from 'node:test';

import { SandboxApiException } from '@alibaba-group/opensandbox';

import { startRuntime, texts } from './runtime.js';

let runtime;
let sbx; // one sandbox for the file: creating one per test would only measure creation
let root; // a fresh directory per test, so tests do not see each other's files
let count = 0;

before(async () => {
  runtime = await startRuntime();
  sbx = await runtime.create({ timeoutSeconds: 1800 });
});
beforeEach(async () => {
  root = `/tmp/files-${++count}`;
  await sbx.files.createDirectories([{ path: root, mode: 755 }]);
});
after(async () => {
  await runtime?.closeAll();
  await runtime?.stop();
});

async function rejectsWithStatus(promise, status) {
  await assert.rejects(promise, (err) => {
    assert.ok(err instanceof SandboxApiException, String(err));
    if (status !== undefined) assert.equal(err.statusCode, status, err.message);
    return true;
  });
}

async function info(path) {
  return (await sbx.files.getFileInfo([path]))[path];
}

test('text round trip', async () => {
  const text = 'hello\nwörld ✓\n';
  await sbx.files.writeFiles([{ path: `${root}/a.txt`, data: text }]);
  assert.equal(await sbx.files.readFile(`${root}/a.txt`), text);
  // What the SDK wrote is what a program in the sandbox reads.
  const run = await sbx.commands.run(`cat ${root}/a.txt`);
  assert.deepEqual(texts(run.logs.stdout), ['hello', 'wörld ✓']);
});

test('binary, large and streamed round trips', async () => {
  const everyByte = new Uint8Array(1024).map((_, i) => i % 256);
  await sbx.files.writeFiles([{ path: `${root}/bytes.bin`, data: everyByte }]);
  assert.deepEqual(await sbx.files.readBytes(`${root}/bytes.bin`), everyByte);

  const big = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17));
  await sbx.files.writeFiles([{ path: `${root}/big.bin`, data: big }]);
  assert.deepEqual(await sbx.files.readBytes(`${root}/big.bin`), big);
  assert.equal((await info(`${root}/big.bin`)).size, big.length);

  // An async iterable is uploaded as a streamed multipart body.
  async function* pieces() {
    for (let i = 0; i < big.length; i += 256 * 1024) yield big.subarray(i, i + 256 * 1024);
  }
  await sbx.files.writeFiles([{ path: `${root}/streamed.bin`, data: pieces() }]);
  const chunks = [];
  for await (const chunk of sbx.files.readBytesStream(`${root}/streamed.bin`)) chunks.push(chunk);
  assert.deepEqual(new Uint8Array(Buffer.concat(chunks)), big);
});

test('several files in one call; parents are created', async () => {
  await sbx.files.writeFiles([
    { path: `${root}/x/one.txt`, data: 'one', mode: 644 },
    { path: `${root}/y/z/two.txt`, data: 'two', mode: 600 },
  ]);
  assert.equal(await sbx.files.readFile(`${root}/x/one.txt`), 'one');
  assert.equal(await sbx.files.readFile(`${root}/y/z/two.txt`), 'two');
  assert.equal((await info(`${root}/x/one.txt`)).mode, 644);
  assert.equal((await info(`${root}/y/z/two.txt`)).mode, 600);
});

test('overwrite replaces the whole file', async () => {
  await sbx.files.writeFiles([{ path: `${root}/o.txt`, data: 'a much longer first version\n' }]);
  await sbx.files.writeFiles([{ path: `${root}/o.txt`, data: 'short\n' }]);
  assert.equal(await sbx.files.readFile(`${root}/o.txt`), 'short\n');
});

test('modes and owners', async () => {
  const path = `${root}/owned.txt`;
  await sbx.files.writeFiles([
    { path, data: 'data', mode: 640, owner: 'nobody', group: 'nogroup' },
  ]);
  let i = await info(path);
  assert.equal(i.path, path);
  assert.equal(i.type, 'file');
  assert.equal(i.mode, 640);
  assert.equal(i.owner, 'nobody');
  assert.equal(i.group, 'nogroup');
  assert.equal(i.size, 4);
  assert.ok(i.modifiedAt instanceof Date);
  const run = await sbx.commands.run(`stat -c '%a %U %G' ${path}`);
  assert.deepEqual(texts(run.logs.stdout), ['640 nobody nogroup']);

  await sbx.files.setPermissions([{ path, mode: 600, owner: 'root', group: 'root' }]);
  i = await info(path);
  assert.deepEqual([i.mode, i.owner, i.group], [600, 'root', 'root']);

  // Without a mode the JS SDK sends none, and the file gets the server's default.
  await sbx.files.writeFiles([{ path: `${root}/plain.txt`, data: 'p' }]);
  assert.equal(await sbx.files.readFile(`${root}/plain.txt`), 'p');
});

test('directories, list and search', async () => {
  await sbx.files.createDirectories([{ path: `${root}/d/sub/deeper`, mode: 700 }]);
  await sbx.files.writeFiles([
    { path: `${root}/d/a.py`, data: 'print(1)\n' },
    { path: `${root}/d/sub/b.py`, data: 'print(2)\n' },
    { path: `${root}/d/sub/notes.txt`, data: 'n' },
  ]);
  const dir = await info(`${root}/d/sub/deeper`);
  assert.equal(dir.type, 'directory');
  assert.equal(dir.mode, 700);

  const one = await sbx.files.listDirectory({ path: `${root}/d`, depth: 1 });
  assert.deepEqual(
    Object.fromEntries(one.map((e) => [e.path, e.type])),
    { [`${root}/d/a.py`]: 'file', [`${root}/d/sub`]: 'directory' },
  );
  const two = await sbx.files.listDirectory({ path: `${root}/d`, depth: 2 });
  assert.deepEqual(new Set(two.map((e) => e.path)), new Set([
    `${root}/d/a.py`, `${root}/d/sub`, `${root}/d/sub/b.py`, `${root}/d/sub/notes.txt`,
    `${root}/d/sub/deeper`,
  ]));

  // Search walks the tree, matches base names, and never returns directories.
  const found = await sbx.files.search({ path: `${root}/d`, pattern: '*.py' });
  assert.deepEqual(found.map((e) => e.path).sort(), [`${root}/d/a.py`, `${root}/d/sub/b.py`]);
  const all = await sbx.files.search({ path: `${root}/d`, pattern: '*' });
  assert.deepEqual(all.map((e) => e.path).sort(), [
    `${root}/d/a.py`, `${root}/d/sub/b.py`, `${root}/d/sub/notes.txt`,
  ]);
});

test('move', async () => {
  await sbx.files.writeFiles([{ path: `${root}/src.txt`, data: 'moving' }]);
  await sbx.files.moveFiles([{ src: `${root}/src.txt`, dest: `${root}/new/dst.txt` }]);
  assert.equal(await sbx.files.readFile(`${root}/new/dst.txt`), 'moving');
  await rejectsWithStatus(sbx.files.getFileInfo([`${root}/src.txt`]), 404);
});

test('delete files and directories', async () => {
  await sbx.files.writeFiles([
    { path: `${root}/gone.txt`, data: 'x' },
    { path: `${root}/tree/a/b.txt`, data: 'y' },
  ]);
  await sbx.files.deleteFiles([`${root}/gone.txt`]);
  await rejectsWithStatus(sbx.files.readFile(`${root}/gone.txt`), 404);
  await sbx.files.deleteDirectories([`${root}/tree`]);
  assert.deepEqual(await sbx.files.listDirectory({ path: root, depth: 1 }), []);
});

test('replace contents', async () => {
  const path = `${root}/r.txt`;
  await sbx.files.writeFiles([{ path, data: 'cat dog cat\nbird\n', mode: 640 }]);
  await sbx.files.replaceContents([{ path, oldContent: 'cat', newContent: 'cow' }]);
  assert.equal(await sbx.files.readFile(path), 'cow dog cow\nbird\n');
  // The file keeps its mode.
  assert.equal((await info(path)).mode, 640);
  let results = await sbx.files.replaceContentsDetailed([
    { path, oldContent: 'cow', newContent: 'ox' },
  ]);
  assert.deepEqual(results, [{ path, replacedCount: 2 }]);
  assert.equal(await sbx.files.readFile(path), 'ox dog ox\nbird\n');
  results = await sbx.files.replaceContentsDetailed([
    { path, oldContent: 'absent', newContent: 'x' },
  ]);
  assert.deepEqual(results, [{ path, replacedCount: 0 }]);
});

test('Range reads', async () => {
  const path = `${root}/digits.txt`;
  await sbx.files.writeFiles([{ path, data: '0123456789abcdefghij' }]);
  assert.equal(await sbx.files.readFile(path, { range: 'bytes=0-9' }), '0123456789');
  assert.equal(await sbx.files.readFile(path, { range: 'bytes=15-' }), 'fghij');
  assert.equal(await sbx.files.readFile(path, { range: 'bytes=-3' }), 'hij');
  assert.deepEqual(
    await sbx.files.readBytes(path, { range: 'bytes=10-12' }),
    new TextEncoder().encode('abc'),
  );
  const chunks = [];
  for await (const c of sbx.files.readBytesStream(path, { range: 'bytes=5-9' })) chunks.push(c);
  assert.equal(Buffer.concat(chunks).toString(), '56789');
});

test('missing files are rejected', async () => {
  await rejectsWithStatus(sbx.files.readFile(`${root}/absent.txt`), 404);
  await rejectsWithStatus(sbx.files.getFileInfo([`${root}/absent.txt`]), 404);
  await rejectsWithStatus(sbx.files.search({ path: `${root}/absent`, pattern: '*' }));
  await rejectsWithStatus(
    sbx.files.moveFiles([{ src: `${root}/absent.txt`, dest: `${root}/b.txt` }]),
  );
});
