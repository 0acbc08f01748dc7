// Batches: many shell commands or code cells in one call, run by osbd with bounded parallelism in
// one sandbox, spread over several (or run in each), or in fresh sandboxes from a template or
// pool; each job's result arrives as it completes.
//
//   const batches = BatchRunner.create();
//   const jobs = tests.map((t) => ({ id: t, command: `pytest ${t}` }));
//   const target = { fresh: { template: 'python' } };
//   for await (const r of batches.stream(target, jobs, { maxParallel: 8 })) {
//     console.log(r.jobId, r.success ? 'ok' : r.error);
//   }
//   const results = await batches.run(sandbox, ['make', 'make test']);  // in completion order
//
// A job that fails is a result (`success` false, with its exit code, output and error), never a
// rejection; the call rejects only when the batch cannot run at all.
import { ConnectionConfig, duration } from './config.js';
import { fromGrpcError, invalidArgument } from './errors.js';
import { Daemon } from './sandbox.js';
import { toDate, toMillis } from './timestamps.js';

/**
 * @typedef {object} BatchJob a shell `command` or a code cell (`code`), exactly one; a string is
 *   a command job
 * @property {string} [id] echoed in its result; empty: the job's index, in decimal. Unique.
 * @property {string} [command] run by bash, as commands.run runs it
 * @property {string} [workingDirectory]
 * @property {Record<string, string>} [envs]
 * @property {number} [uid]
 * @property {number} [gid] requires uid
 * @property {string} [code] a cell, run in `language`'s default context ("python" when unset) or
 *   in `contextId` (the target must then be one sandbox); cells for one context run in turn
 * @property {string} [language]
 * @property {string} [contextId]
 * @property {number} [timeoutSeconds] this job's limit (unset: the batch's jobTimeoutSeconds): a
 *   command is killed (exit code -1), a cell interrupted (error "timeout")
 *
 * @typedef {object} BatchTarget where the jobs run: a Sandbox or sandbox id, or exactly one of
 * @property {string} [sandboxId] every job in this sandbox
 * @property {(string|{id: string})[]} [sandboxIds] the jobs spread over these sandboxes, each
 *   job once in whichever has a free slot; with `each`, every job in every one of them
 * @property {boolean} [each]
 * @property {{template?: string, pool?: string, count?: number, keep?: boolean}} [fresh] new
 *   sandboxes from a template or a warm pool (exactly one), killed when the batch ends unless
 *   `keep`; `count` of them share the jobs (0: a sandbox of its own for every job)
 *
 * @typedef {object} BatchOptions
 * @property {number} [maxParallel] most jobs running at once over the whole batch; 0: osbd's
 *   default (4); osbd caps it (at 64), never raises it
 * @property {boolean} [stopOnFailure] after the first job that did not succeed start no more;
 *   the rest are reported with `skipped`
 * @property {number} [jobTimeoutSeconds] the limit of each job without one of its own
 * @property {number} [outputLimitBytes] stdout and stderr bytes kept per job (0: 1 MiB; at most
 *   3 MiB); the rest is dropped and flagged `stdoutTruncated`/`stderrTruncated`
 *
 * @typedef {object} BatchJobResult one job's outcome (one per job and sandbox with `each`)
 * @property {string} jobId the job's id, or its index
 * @property {string} [sandboxId] where it ran; undefined when it never got a sandbox
 * @property {boolean} success a command exited 0; a cell raised nothing
 * @property {number} [exitCode] a command's (-1 when killed); undefined for cells and jobs that
 *   never ran
 * @property {string} stdout a command's lines, each followed by "\n"; a cell's output as written
 * @property {string} stderr
 * @property {boolean} stdoutTruncated
 * @property {boolean} stderrTruncated
 * @property {string} [error] why it did not succeed ("CommandExecError: 3", a cell's
 *   "ValueError: bad", "timeout", no sandbox); undefined on success
 * @property {number} [durationInMillis] from start to end; undefined when it never started
 * @property {Date} [startedAt]
 * @property {string} [commandId] the run's command id (a cell's context id)
 * @property {boolean} skipped not started: an earlier job failed and stopOnFailure was set
 * @property {string} [resultText] a cell's last result as text
 */

const UINT32_MAX = 2 ** 32 - 1;

/** A count the proto holds unsigned; an invalid-argument error unless an integer in [0, limit]. */
function count(name, value, limit = UINT32_MAX) {
  if (value === undefined) return 0;
  if (!Number.isSafeInteger(value) || value < 0 || value > limit) {
    throw invalidArgument(`${name} must be an integer from 0 to ${limit}, got ${value}`);
  }
  return value;
}

function sandboxIdOf(sandbox) {
  const id = typeof sandbox === 'string' ? sandbox : sandbox?.id;
  if (typeof id !== 'string') {
    throw invalidArgument('a batch target names sandboxes by Sandbox object or id');
  }
  return id;
}

/** The proto's BatchTarget: one sandbox is `sandboxId` (which cells with a context need). */
function batchTarget(target) {
  if (typeof target === 'string' || typeof target?.id === 'string') {
    return { sandboxId: sandboxIdOf(target) };
  }
  if (typeof target !== 'object' || target === null) {
    throw invalidArgument('a batch target is a Sandbox, a sandbox id or a target object');
  }
  const kinds = ['sandboxId', 'sandboxIds', 'fresh'].filter((k) => target[k] !== undefined);
  if (kinds.length !== 1) {
    throw invalidArgument('a batch target needs exactly one of sandboxId, sandboxIds and fresh');
  }
  if (target.sandboxId !== undefined) return { sandboxId: sandboxIdOf(target.sandboxId) };
  if (target.sandboxIds !== undefined) {
    const sandboxIds = [...target.sandboxIds].map(sandboxIdOf);
    if (sandboxIds.length === 1) return { sandboxId: sandboxIds[0] };
    return {
      sandboxes: {
        sandboxIds,
        distribution: target.each ? 'BATCH_DISTRIBUTION_EACH' : 'BATCH_DISTRIBUTION_SPREAD',
      },
    };
  }
  const { template, pool, keep = false } = target.fresh;
  if (Boolean(template) === Boolean(pool)) {
    throw invalidArgument('a fresh batch target needs exactly one of template and pool');
  }
  const fresh = { count: count('fresh.count', target.fresh.count), keep };
  if (template) fresh.template = template;
  else fresh.pool = pool;
  return { fresh };
}

/** The proto's BatchJob; one with neither command nor code is sent as is, for osbd to refuse. */
function batchJob(job, index) {
  if (typeof job === 'string') job = { command: job };
  if (!(job instanceof Object)) {
    throw invalidArgument(`jobs[${index}] must be a job object or a command string`);
  }
  if (job.command !== undefined && job.code !== undefined) {
    throw invalidArgument(`jobs[${index}]: a command or code, not both`);
  }
  const message = { id: job.id ?? '' };
  if (job.code !== undefined) {
    message.code = { code: job.code, language: job.language ?? '', contextId: job.contextId ?? '' };
  } else if (job.command !== undefined) {
    message.command = {
      command: job.command,
      cwd: job.workingDirectory ?? '',
      envs: job.envs ?? {},
    };
    if (job.uid !== undefined) message.command.uid = job.uid;
    if (job.gid !== undefined) message.command.gid = job.gid;
  }
  if (job.timeoutSeconds !== undefined) message.timeout = duration(job.timeoutSeconds);
  return message;
}

/** @returns {BatchJobResult} */
function batchJobResult(message) {
  return {
    jobId: message.jobId,
    sandboxId: message.sandboxId || undefined,
    success: message.success,
    // proto3 `optional`: the synthetic oneof names the field only when it is set.
    exitCode: message._exitCode === 'exitCode' ? message.exitCode : undefined,
    stdout: message.stdout.toString('utf8'),
    stderr: message.stderr.toString('utf8'),
    stdoutTruncated: message.stdoutTruncated,
    stderrTruncated: message.stderrTruncated,
    error: message.error || undefined,
    durationInMillis: message.duration ? toMillis(message.duration) : undefined,
    startedAt: toDate(message.startedAt),
    commandId: message.commandId || undefined,
    skipped: message.skipped,
    resultText: message.resultText || undefined,
  };
}

/** Runs batches through osbd's Commands.RunBatch. */
export class BatchRunner {
  /** @param {Daemon} daemon */
  constructor(daemon) {
    this.daemon = daemon;
  }

  /** @param {{connectionConfig?: ConnectionConfig}} [options] */
  static create({ connectionConfig } = {}) {
    return new BatchRunner(new Daemon(connectionConfig ?? new ConnectionConfig()));
  }

  /**
   * Starts the batch when first iterated and yields each job's result as it completes. Throws an
   * InvalidArgumentError at once for what cannot be sent (a bad target, a job with both command
   * and code, a negative count); iterating rejects with a SandboxError when osbd refuses the
   * batch (InvalidArgumentError for no jobs or a repeated job id) or the stream breaks. Leaving
   * a `for await` loop early cancels the call: osbd stops starting jobs, and those running
   * finish.
   * @param {BatchTarget|import('./sandbox.js').Sandbox|string} target
   * @param {(BatchJob|string)[]} jobs
   * @param {BatchOptions} [options]
   * @returns {AsyncGenerator<BatchJobResult>}
   */
  stream(target, jobs, options = {}) {
    if (!Array.isArray(jobs)) throw invalidArgument('jobs must be an array of jobs');
    const request = {
      connection: this.daemon.config.toProto(),
      target: batchTarget(target),
      jobs: jobs.map(batchJob),
      maxParallel: count('maxParallel', options.maxParallel),
      stopOnFailure: options.stopOnFailure ?? false,
      outputLimitBytes: count(
        'outputLimitBytes',
        options.outputLimitBytes,
        Number.MAX_SAFE_INTEGER,
      ),
    };
    if (options.jobTimeoutSeconds !== undefined) {
      request.jobTimeout = duration(options.jobTimeoutSeconds);
    }
    return this.#results(request);
  }

  /**
   * Runs the batch to its end; resolves with every result in completion order, calling
   * `onResult` with each as it arrives (a returned promise is awaited first). Rejects as
   * stream() does, or with what onResult threw (the batch is then cancelled).
   * @param {BatchTarget|import('./sandbox.js').Sandbox|string} target
   * @param {(BatchJob|string)[]} jobs
   * @param {BatchOptions} [options]
   * @param {(result: BatchJobResult) => (void|Promise<void>)} [onResult]
   * @returns {Promise<BatchJobResult[]>}
   */
  async run(target, jobs, options = {}, onResult = undefined) {
    const results = [];
    for await (const result of this.stream(target, jobs, options)) {
      results.push(result);
      if (onResult) await onResult(result);
    }
    return results;
  }

  async *#results(request) {
    const call = this.daemon.commands.RunBatch(request);
    const messages = call[Symbol.asyncIterator]();
    try {
      for (;;) {
        let next;
        try {
          next = await messages.next();
        } catch (error) {
          throw fromGrpcError(error);
        }
        if (next.done) return;
        yield batchJobResult(next.value);
      }
    } finally {
      call.on('error', () => {}); // the CANCELLED status of an abandoned batch is expected
      call.cancel(); // a no-op once the call ended
    }
  }

  close() {
    this.daemon.close();
  }
}
