// `sandbox.files`: the sandbox's filesystem through osbd's Files service, under the official JS
// SDK's method and model names.
//
//   const files = sandbox.files;
//   await files.writeFiles([{ path: '/app/main.py', data: "print('hi')\n", mode: 0o644 }]);
//   await files.writeFile('/app/data.bin', createReadStream('data.bin'));   // streamed
//   await files.readBytes('/app/data.bin', { range: 'bytes=0-1023' });       // the first KiB
//   for await (const piece of files.readBytesStream('/app/data.bin', { chunkSize: 1 << 20 })) {}
//   (await files.getFileInfo(['/app/main.py']))['/app/main.py'].mode;       // 0o644
//   await files.moveFiles([{ src: '/app/main.py', dest: '/app/bin/main.py' }]);
//
// Contents stream in chunks both ways, so a large file is never held whole. Modes are plain
// permission bits (0o644), as everywhere in osbd's API, where the official SDK takes the octal
// digits as a decimal number (644). Every method rejects with a SandboxError: a
// SandboxNotFoundError for a missing path, an InvalidArgumentError for a bad request (the
// client's own checks reject before anything is sent), a FailedPreconditionError when the
// sandbox is not running.
import { once } from 'node:events';

import { fromGrpcError, invalidArgument } from './errors.js';
import { toDate } from './timestamps.js';

/**
 * @typedef {object} FileInfo metadata of a filesystem entry (lstat: symlinks are not followed)
 * @property {string} path
 * @property {'file'|'directory'|'symlink'|'other'|undefined} type undefined when the service
 *   did not say
 * @property {number} size
 * @property {number} mode permission bits (0o644)
 * @property {string} owner user name, or numeric uid as text
 * @property {string} group
 * @property {Date} [modifiedAt]
 * @property {Date} [createdAt]
 *
 * @typedef {string|Uint8Array|ArrayBuffer|Blob|AsyncIterable<Uint8Array|string>|
 *   Iterable<Uint8Array|string>} FileData a file's contents: a string is encoded with the
 *   entry's `encoding`; an iterable (a Node Readable, a web ReadableStream, a generator) is sent
 *   as it is read
 *
 * @typedef {object} WriteEntry a file to write, or a directory to create (createDirectories
 *   ignores `data` and `encoding`)
 * @property {string} path
 * @property {FileData} [data] undefined: an empty file
 * @property {number} [mode] undefined: execd's default for files, 0o755 for directories
 * @property {string} [owner] undefined: unchanged
 * @property {string} [group] undefined: unchanged
 * @property {BufferEncoding} [encoding] of string data; default utf8
 *
 * @typedef {{path: string, mode?: number, owner?: string, group?: string}} SetPermissionEntry
 *   undefined fields are left unchanged
 * @typedef {{src: string, dest: string}} MoveEntry `dest` must not exist; its parents are created
 * @typedef {{path: string, pattern?: string}} SearchEntry files (never directories) under `path`
 *   whose base name matches the glob `pattern` (undefined: every file)
 * @typedef {{path: string, depth?: number}} DirectoryListEntry entries under `path` to `depth`
 *   levels (undefined: 1, its children)
 * @typedef {{path: string, oldContent: string, newContent: string}} ContentReplaceEntry
 *   `oldContent` non-empty
 * @typedef {{path: string, replacedCount: number}} ContentReplaceResult 0: the text was not found
 */

const CHUNK = 64 * 1024;
const RANGE = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/;
const FILE_TYPES = {
  FILE_TYPE_FILE: 'file',
  FILE_TYPE_DIRECTORY: 'directory',
  FILE_TYPE_SYMLINK: 'symlink',
  FILE_TYPE_OTHER: 'other',
};

/** @returns {FileInfo} */
function fileInfo(message) {
  return {
    path: message.path,
    type: FILE_TYPES[message.type],
    size: message.size,
    mode: message.mode,
    owner: message.owner,
    group: message.group,
    modifiedAt: toDate(message.modifiedAt),
    createdAt: toDate(message.createdAt),
  };
}

/**
 * Files.Read's offset and length for an HTTP byte range, as the official SDK's `range` takes it:
 * "bytes=0-1023", "bytes=100-" (to the end), "bytes=-100" (the last 100 bytes).
 * @param {string} [range] undefined: the whole file
 */
function byteRange(range) {
  if (range === undefined) return { offset: 0, length: 0 };
  const match = RANGE.exec(range);
  if (!match || !(match[1] || match[2])) {
    throw invalidArgument(
      `range must be 'bytes=FIRST-LAST', 'bytes=FIRST-' or 'bytes=-N', got '${range}'`,
    );
  }
  const [first, last] = [match[1], match[2]].map((n) => (n === '' ? undefined : Number(n)));
  if (first === undefined) {
    if (last === 0) throw invalidArgument(`range '${range}' selects no bytes`);
    return { offset: -last, length: 0 };
  }
  if (last === undefined) return { offset: first, length: 0 };
  if (last < first) throw invalidArgument(`range '${range}' ends before it starts`);
  return { offset: first, length: last - first + 1 };
}

/** Permission bits for the proto, where 0 means "not changed". */
function modeBits(mode, what) {
  if (mode === undefined) return 0;
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    throw invalidArgument(`${what} mode must be permission bits such as 0o644, got ${mode}`);
  }
  return mode;
}

/** @param {SetPermissionEntry|string} entry a string is a path */
function permission(entry, what) {
  const { path, mode, owner, group } = typeof entry === 'string' ? { path: entry } : entry;
  return { path, mode: modeBits(mode, what), owner: owner ?? '', group: group ?? '' };
}

/** A path or a list of paths as the proto's repeated string. */
function pathList(paths, what) {
  const list = typeof paths === 'string' ? [paths] : [...paths];
  if (!list.every((p) => typeof p === 'string')) throw invalidArgument(`${what} takes paths`);
  return list;
}

/** `data` as something to iterate pieces of, and its size when known before sending. */
function contents(data, encoding, path) {
  if (data === undefined) data = new Uint8Array(0);
  else if (typeof data === 'string') data = Buffer.from(data, encoding);
  else if (data instanceof ArrayBuffer) data = new Uint8Array(data);
  if (data instanceof Uint8Array) return { pieces: [data], size: data.length };
  if (data instanceof Blob) return { pieces: data.stream(), size: data.size };
  if (data?.[Symbol.asyncIterator] || data?.[Symbol.iterator]) return { pieces: data };
  throw invalidArgument(`data for ${path} must be a string, bytes, a Blob or an iterable of bytes`);
}

/** `pieces` regrouped into Buffers of exactly `chunkSize` bytes, the last one shorter. */
async function* rechunk(pieces, chunkSize) {
  let pending = [];
  let size = 0;
  for await (const piece of pieces) {
    pending.push(piece);
    size += piece.length;
    if (size < chunkSize) continue;
    let whole = Buffer.concat(pending, size);
    for (; whole.length >= chunkSize; whole = whole.subarray(chunkSize)) {
      yield whole.subarray(0, chunkSize);
    }
    pending = [whole];
    size = whole.length;
  }
  if (size > 0) yield Buffer.concat(pending, size);
}

/** `sandbox.files`: files inside the sandbox (osbd's Files service). */
export class Filesystem {
  /** @param {import('./sandbox.js').Daemon} daemon @param {string} sandboxId */
  constructor(daemon, sandboxId) {
    this.daemon = daemon;
    this.sandboxId = sandboxId;
  }

  call(method, fields) {
    return this.daemon.call(this.daemon.files, method, this.daemon.request(this.sandboxId, fields));
  }

  /**
   * The file, or the byte range `range` of it, decoded.
   * @param {string} path
   * @param {{encoding?: BufferEncoding, range?: string}} [options]
   * @returns {Promise<string>}
   */
  async readFile(path, { encoding = 'utf8', range } = {}) {
    return (await this.readBytes(path, { range })).toString(encoding);
  }

  /**
   * The file's bytes, or those of `range` ("bytes=FIRST-LAST", "bytes=FIRST-", "bytes=-N"); a
   * range past the end is shortened to it.
   * @param {string} path
   * @param {{range?: string}} [options]
   * @returns {Promise<Buffer>}
   */
  async readBytes(path, { range } = {}) {
    const pieces = [];
    for await (const piece of this.readBytesStream(path, { range })) pieces.push(piece);
    return Buffer.concat(pieces);
  }

  /**
   * The file's bytes (or those of `range`) in pieces of `chunkSize` (the last shorter), read
   * from osbd as they are consumed. The read starts when the iteration does, so a missing file
   * rejects the first step with a SandboxNotFoundError. Leaving a `for await` loop early
   * cancels the read.
   * @param {string} path
   * @param {{range?: string, chunkSize?: number}} [options]
   * @returns {AsyncGenerator<Buffer>}
   */
  async *readBytesStream(path, { range, chunkSize = CHUNK } = {}) {
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) {
      throw invalidArgument(`chunkSize must be a positive integer, got ${chunkSize}`);
    }
    const call = this.daemon.files.Read(
      this.daemon.request(this.sandboxId, { path, ...byteRange(range) }),
    );
    async function* data() {
      try {
        for await (const chunk of call) yield chunk.data;
      } catch (error) {
        throw fromGrpcError(error);
      }
    }
    try {
      yield* rechunk(data(), chunkSize);
    } finally {
      call.on('error', () => {}); // the CANCELLED status of an abandoned read is expected
      call.cancel(); // a no-op once the call ended
    }
  }

  /**
   * Creates or replaces `path` (and its missing parents) with `data`.
   * @param {string} path
   * @param {FileData} data
   * @param {{mode?: number, owner?: string, group?: string, encoding?: BufferEncoding}} [options]
   */
  async writeFile(path, data, options = {}) {
    await this.#send(this.#upload({ ...options, path, data }));
  }

  /**
   * Writes each entry as writeFile does, one after the other; stops at the first failure. Every
   * entry is checked before anything is written.
   * @param {WriteEntry[]} entries
   */
  async writeFiles(entries) {
    const uploads = [...entries].map((entry) => this.#upload(entry));
    for (const upload of uploads) await this.#send(upload);
  }

  /**
   * Metadata of each path, keyed by the path as given; a SandboxNotFoundError when any is
   * missing.
   * @param {string[]} paths
   * @returns {Promise<Record<string, FileInfo>>}
   */
  async getFileInfo(paths) {
    const { infos } = await this.call('GetInfo', { paths: pathList(paths, 'getFileInfo') });
    return Object.fromEntries(Object.entries(infos).map(([path, info]) => [path, fileInfo(info)]));
  }

  /**
   * The entries under a directory, lexically ordered per directory, children after their
   * parent; an InvalidArgumentError when the path is not a directory.
   * @param {DirectoryListEntry|string} entry a string is a path
   * @returns {Promise<FileInfo[]>}
   */
  async listDirectory(entry) {
    const { path, depth } = typeof entry === 'string' ? { path: entry } : entry;
    const request = { path };
    if (depth !== undefined) {
      if (!Number.isInteger(depth) || depth < 0) {
        throw invalidArgument(`depth must be a non-negative integer, got ${depth}`);
      }
      request.depth = depth;
    }
    return (await this.call('ListDirectory', request)).entries.map(fileInfo);
  }

  /**
   * Files under `entry.path`, recursively, whose base name matches `entry.pattern`; a
   * SandboxNotFoundError when the directory is missing.
   * @param {SearchEntry} entry
   * @returns {Promise<FileInfo[]>}
   */
  async search({ path, pattern }) {
    return (await this.call('Search', { path, pattern: pattern ?? '' })).files.map(fileInfo);
  }

  /**
   * mkdir -p of each entry's path, then its `mode` (undefined: 0o755), `owner` and `group`.
   * @param {(WriteEntry|string)[]} entries a string is a path
   */
  async createDirectories(entries) {
    const directories = [...entries].map((e) => permission(e, 'directory'));
    await this.call('MakeDirectories', { directories });
  }

  /**
   * Deletes files; missing ones are ignored, a directory is an error.
   * @param {string[]} paths
   */
  async deleteFiles(paths) {
    await this.call('Delete', { paths: pathList(paths, 'deleteFiles') });
  }

  /**
   * Deletes directories with everything in them (rm -rf).
   * @param {string[]} paths
   */
  async deleteDirectories(paths) {
    await this.call('DeleteDirectories', { paths: pathList(paths, 'deleteDirectories') });
  }

  /**
   * Renames each `src` to `dest`, in order; a SandboxNotFoundError for a missing source, an
   * InvalidArgumentError for an existing destination.
   * @param {MoveEntry[]} entries
   */
  async moveFiles(entries) {
    const moves = [...entries].map(({ src, dest }) => ({ source: src, destination: dest }));
    await this.call('Move', { moves });
  }

  /**
   * chmod / chown each entry's path.
   * @param {SetPermissionEntry[]} entries
   */
  async setPermissions(entries) {
    await this.call('SetPermissions', {
      permissions: [...entries].map((e) => permission(e, 'permission')),
    });
  }

  /**
   * Replaces every occurrence of each entry's `oldContent` in its file, keeping its mode.
   * @param {ContentReplaceEntry[]} entries
   */
  async replaceContents(entries) {
    await this.replaceContentsDetailed(entries);
  }

  /**
   * As replaceContents, resolving with how many occurrences each file had replaced.
   * @param {ContentReplaceEntry[]} entries
   * @returns {Promise<ContentReplaceResult[]>}
   */
  async replaceContentsDetailed(entries) {
    const replacements = [...entries].map(({ path, oldContent, newContent }) => ({
      path,
      oldContent,
      newContent,
    }));
    const { results } = await this.call('Replace', { replacements });
    return results.map(({ path, replacedCount }) => ({ path, replacedCount }));
  }

  /** One Files.Write stream's header and contents; throws for what cannot be sent. */
  #upload({ path, data, mode, owner, group, encoding = 'utf8' }) {
    const { pieces, size } = contents(data, encoding, path);
    const header = this.daemon.request(this.sandboxId, {
      path,
      mode: modeBits(mode, 'file'),
      owner: owner ?? '',
      group: group ?? '',
    });
    if (size !== undefined) header.size = size;
    return { header, pieces, encoding };
  }

  /** Streams an upload in chunks of at most 64 KiB, waiting whenever the channel is full. */
  async #send({ header, pieces, encoding }) {
    let call;
    let answered = false;
    const response = new Promise((resolve, reject) => {
      call = this.daemon.files.Write((error, reply) => {
        answered = true;
        if (error) reject(fromGrpcError(error));
        else resolve(reply);
      });
    });
    response.catch(() => {}); // awaited below; osbd may refuse before the upload has ended
    try {
      call.write({ header });
      for await (const piece of pieces) {
        if (answered) break; // refused: the rest would go nowhere
        const bytes = typeof piece === 'string' ? Buffer.from(piece, encoding) : piece;
        if (!(bytes instanceof Uint8Array)) {
          throw invalidArgument(`data for ${header.path} yielded a ${typeof piece}, not bytes`);
        }
        for (let start = 0; start < bytes.length; start += CHUNK) {
          if (!call.write({ data: bytes.subarray(start, start + CHUNK) })) {
            await Promise.race([once(call, 'drain'), response]);
          }
        }
      }
      call.end();
    } catch (error) {
      call.cancel();
      throw error;
    }
    await response;
  }
}
