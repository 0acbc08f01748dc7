// Sandbox, its commands, and SandboxManager: the official JS SDK's shape over osbd (files:
// files.js).
//
//   const sandbox = await Sandbox.create({ image: 'debian' });
//   const execution = await sandbox.commands.run('echo hello; exit 3', {}, {
//     onStdout: (m) => console.log(m.text),
//   });
//   execution.exitCode;   // 3
//   await sandbox.kill();
//   sandbox.close();      // the channel to osbd; kill() is what deletes the sandbox
import * as grpc from '@grpc/grpc-js';

import { ConnectionConfig, duration } from './config.js';
import { fromGrpcError, invalidArgument } from './errors.js';
import { Filesystem } from './files.js';
import { v1 } from './proto.js';
import { toDate, toMillis } from './timestamps.js';

/**
 * @typedef {object} SandboxInfo
 * @property {string} id
 * @property {{state: string, reason: string, message: string, lastTransitionAt?: Date}} status
 *   state is "Pending", "Running", "Paused", ...
 * @property {Date} [createdAt]
 * @property {Date} [expiresAt] absent for a sandbox without TTL
 * @property {string[]} entrypoint
 * @property {string} image
 * @property {Record<string, string>} metadata
 *
 * @typedef {{text: string, timestamp: number, isError: boolean}} OutputMessage
 *   one line without its terminator; timestamp in unix ms
 * @typedef {{id: string, timestamp: number}} ExecutionInit
 * @typedef {{timestamp: number, executionTimeInMillis: number}} ExecutionComplete
 * @typedef {{name: string, value: string, timestamp: number, traceback: string[]}} ExecutionError
 *   name "CommandExecError" and value the exit code for a non-zero exit or a kill
 *
 * @typedef {object} Execution exactly one of `complete` and `error` is set
 * @property {string} [id] the command id
 * @property {{stdout: OutputMessage[], stderr: OutputMessage[]}} logs
 * @property {ExecutionError} [error]
 * @property {ExecutionComplete} [complete]
 * @property {number} [exitCode] 0 on completion, the status of a non-zero exit, -1 when killed by
 *   a signal, undefined when the command never ran
 *
 * @typedef {object} ExecutionHandlers called in event order; a returned promise is awaited
 *   before the next event, and a throw (or rejection) abandons the run
 * @property {(init: ExecutionInit) => (void|Promise<void>)} [onInit]
 * @property {(message: OutputMessage) => (void|Promise<void>)} [onStdout]
 * @property {(message: OutputMessage) => (void|Promise<void>)} [onStderr]
 * @property {(complete: ExecutionComplete) => (void|Promise<void>)} [onExecutionComplete]
 * @property {(error: ExecutionError) => (void|Promise<void>)} [onError]
 *
 * @typedef {object} RunCommandOpts
 * @property {string} [workingDirectory] must exist
 * @property {boolean} [background] detach; the run completes once the command started
 * @property {number} [timeoutSeconds] kill the command after this long (exit code -1)
 * @property {number} [uid]
 * @property {number} [gid] requires uid
 * @property {Record<string, string>} [envs]
 */

/** @returns {SandboxInfo} */
function statusOf(status) {
  return {
    state: status.state,
    reason: status.reason,
    message: status.message,
    lastTransitionAt: toDate(status.lastTransitionAt),
  };
}

/**
 * @typedef {{id: string, sandboxId: string, name: string, status: object, createdAt: Date}}
 *   SnapshotInfo status as a sandbox's: state ("Creating", "Ready", "Failed"), reason, message
 */
function snapshotInfo(message) {
  return {
    id: message.id,
    sandboxId: message.sandboxId,
    name: message.name,
    status: statusOf(message.status),
    createdAt: toDate(message.createdAt),
  };
}

function sandboxInfo(message) {
  return {
    id: message.id,
    status: statusOf(message.status),
    createdAt: toDate(message.createdAt),
    expiresAt: toDate(message.expiresAt),
    entrypoint: message.entrypoint,
    image: message.image,
    metadata: message.metadata,
  };
}

/** execd's metrics with the official JS SDK's names. */
function sandboxMetrics(message) {
  return {
    cpuCount: message.cpuCount,
    cpuUsedPercentage: message.cpuUsedPercent,
    memoryTotalMiB: message.memoryTotalMib,
    memoryUsedMiB: message.memoryUsedMib,
    timestamp: toDate(message.time),
  };
}

/**
 * Appends a stdout or stderr event's output to `execution` (a command's or a code cell's).
 * @returns {[keyof ExecutionHandlers, OutputMessage]} the handler to call and its argument
 */
export function addOutput(execution, event, timestamp) {
  const message = {
    text: event[event.kind].data.toString('utf8'),
    timestamp,
    isError: event.kind === 'stderr',
  };
  execution.logs[event.kind].push(message);
  return [event.kind === 'stdout' ? 'onStdout' : 'onStderr', message];
}

/**
 * Folds one CommandEvent into `execution`; returns the handler name and its argument, if any.
 * @param {Execution} execution
 * @returns {[keyof ExecutionHandlers, object] | undefined}
 */
function applyEvent(execution, event) {
  const timestamp = toMillis(event.time);
  switch (event.kind) {
    case 'started':
      execution.id = event.started.commandId;
      return ['onInit', { id: execution.id, timestamp }];
    case 'stdout':
    case 'stderr':
      return addOutput(execution, event, timestamp);
    case 'completed':
      execution.exitCode = 0;
      execution.complete = {
        timestamp,
        executionTimeInMillis: toMillis(event.completed.executionTime),
      };
      return ['onExecutionComplete', execution.complete];
    case 'failed': {
      const { failed } = event;
      // proto3 `optional`: the synthetic oneof names the field only when it is set.
      if (failed._exitCode === 'exitCode') execution.exitCode = failed.exitCode;
      execution.error = {
        name: failed.name,
        value: failed.value,
        timestamp,
        traceback: failed.traceback,
      };
      return ['onError', execution.error];
    }
    default:
      // `broken`: osbd ends the call with an error status right after it, which run() throws.
      return undefined;
  }
}

/** A channel to osbd and the service clients on it (package-internal). */
export class Daemon {
  /** @param {ConnectionConfig} config */
  constructor(config) {
    this.config = config;
    this.sandboxes = new v1.Sandboxes(config.target, grpc.credentials.createInsecure());
    const shared = { channelOverride: this.sandboxes.getChannel() };
    this.commands = new v1.Commands(config.target, grpc.credentials.createInsecure(), shared);
    this.files = new v1.Files(config.target, grpc.credentials.createInsecure(), shared);
    this.templates = new v1.Templates(config.target, grpc.credentials.createInsecure(), shared);
    this.pools = new v1.Pools(config.target, grpc.credentials.createInsecure(), shared);
    this.code = new v1.Code(config.target, grpc.credentials.createInsecure(), shared);
  }

  /**
   * Calls a unary method; resolves with its response or rejects with a SandboxError.
   * `readiness`: the method waits for a sandbox to become ready (Create, Resume).
   */
  call(client, method, request, { readiness = false } = {}) {
    return new Promise((resolve, reject) => {
      client[method](request, (error, response) =>
        error ? reject(fromGrpcError(error, { readiness })) : resolve(response),
      );
    });
  }

  request(sandboxId, fields = {}) {
    return { connection: this.config.toProto(), sandboxId, ...fields };
  }

  async getInfo(sandboxId) {
    return sandboxInfo(await this.call(this.sandboxes, 'Get', this.request(sandboxId)));
  }

  async kill(sandboxId) {
    await this.call(this.sandboxes, 'Kill', this.request(sandboxId));
  }

  async pause(sandboxId) {
    await this.call(this.sandboxes, 'Pause', this.request(sandboxId));
  }

  async resume(sandboxId, readyTimeoutSeconds) {
    await this.call(
      this.sandboxes,
      'Resume',
      this.request(sandboxId, { readyTimeout: duration(readyTimeoutSeconds) }),
      { readiness: true },
    );
  }

  async createSnapshot(sandboxId, name, wait) {
    return snapshotInfo(
      await this.call(
        this.sandboxes,
        'CreateSnapshot',
        this.request(sandboxId, { name: name ?? '', wait }),
      ),
    );
  }

  async renew(sandboxId, timeoutSeconds) {
    if (!(timeoutSeconds > 0)) throw invalidArgument('renew timeout must be positive');
    await this.call(
      this.sandboxes,
      'Renew',
      this.request(sandboxId, { timeout: duration(timeoutSeconds) }),
    );
  }

  close() {
    this.sandboxes.close();
  }
}

/** `sandbox.commands`: shell commands with streamed output. */
export class Commands {
  /** @param {Daemon} daemon @param {string} sandboxId */
  constructor(daemon, sandboxId) {
    this.daemon = daemon;
    this.sandboxId = sandboxId;
  }

  /**
   * Runs `command` with bash; resolves once it ended. A non-zero exit is not a rejection: it is
   * `execution.error` with `exitCode`. Rejects with a SandboxError when the command could not
   * start or its stream broke (its outcome is then unknown), or with what a handler threw.
   * @param {string} command
   * @param {RunCommandOpts} [opts]
   * @param {ExecutionHandlers} [handlers]
   * @returns {Promise<Execution>}
   */
  async run(command, opts = {}, handlers = {}) {
    const request = this.daemon.request(this.sandboxId, {
      command,
      cwd: opts.workingDirectory ?? '',
      background: opts.background ?? false,
      envs: opts.envs ?? {},
    });
    if (opts.timeoutSeconds !== undefined) request.timeout = duration(opts.timeoutSeconds);
    if (opts.uid !== undefined) request.uid = opts.uid;
    if (opts.gid !== undefined) request.gid = opts.gid;

    return streamExecution(this.daemon.commands.Run(request), handlers);
  }

  /**
   * Replays a run osbd journalled, from after event `afterSeq`, and follows it to its end, as
   * run() does: a client that lost its stream misses nothing. Rejects with a not-found
   * SandboxError when osbd no longer holds the run.
   * @param {string} commandId
   * @param {{afterSeq?: number}} [opts]
   * @param {ExecutionHandlers} [handlers]
   * @returns {Promise<Execution>}
   */
  async attach(commandId, opts = {}, handlers = {}) {
    const request = this.daemon.request(this.sandboxId, {
      commandId,
      afterSeq: opts.afterSeq ?? 0,
    });
    const execution = await streamExecution(this.daemon.commands.Attach(request), handlers);
    execution.id = execution.id ?? commandId;
    return execution;
  }

  /**
   * Starts a bash session whose `cd` and `export` carry over between runs.
   * @param {{workingDirectory?: string}} [options]
   * @returns {Promise<string>} the session id
   */
  async createSession({ workingDirectory } = {}) {
    const created = await this.daemon.call(
      this.daemon.commands,
      'CreateSession',
      this.daemon.request(this.sandboxId, { cwd: workingDirectory ?? '' }),
    );
    return created.sessionId;
  }

  /**
   * Runs `command` in the session, as run() does; stderr arrives merged into stdout.
   * @param {string} sessionId
   * @param {string} command
   * @param {{workingDirectory?: string, timeoutSeconds?: number}} [opts]
   * @param {ExecutionHandlers} [handlers]
   * @returns {Promise<Execution>}
   */
  async runInSession(sessionId, command, opts = {}, handlers = {}) {
    const request = this.daemon.request(this.sandboxId, {
      sessionId,
      command,
      cwd: opts.workingDirectory ?? '',
    });
    if (opts.timeoutSeconds !== undefined) request.timeout = duration(opts.timeoutSeconds);
    return streamExecution(this.daemon.commands.RunInSession(request), handlers);
  }

  /** Ends the session; rejects with a not-found SandboxError when there is none. */
  async deleteSession(sessionId) {
    await this.daemon.call(
      this.daemon.commands,
      'DeleteSession',
      this.daemon.request(this.sandboxId, { sessionId }),
    );
  }
}

/**
 * Reads an event stream into an Execution, calling the handlers in order: a command's
 * (CommandEvent, folded by applyEvent) or a code cell's (code.js folds CodeEvents).
 * @param {(execution: Execution, event: object) => ([string, object] | undefined)} [fold]
 */
export async function streamExecution(call, handlers, fold = applyEvent) {
  /** @type {Execution} */
  const execution = { logs: { stdout: [], stderr: [] } };
  const events = call[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next;
      try {
        next = await events.next();
      } catch (error) {
        throw fromGrpcError(error);
      }
      if (next.done) return execution;
      const step = fold(execution, next.value);
      if (step && handlers[step[0]]) await handlers[step[0]](step[1]);
    }
  } finally {
    call.on('error', () => {}); // the CANCELLED status of an abandoned run is expected
    call.cancel(); // a no-op once the call ended
  }
}

/**
 * @typedef {object} HealthCheck how osbd decides that a new sandbox is ready. osbd runs the
 *   probe, where the official SDK's healthCheck is a client-side function; with none of
 *   `command`, `httpPort` and `tcpPort` it is execd's /ping. It is repeated until it passes or
 *   the ready timeout ends the wait. `command`, `httpPort` and `tcpPort` are exclusive.
 * @property {string} [command] ready when this shell command exits 0
 * @property {number} [commandTimeoutSeconds] limit of one run of `command` (default 5)
 * @property {number} [httpPort] ready when an HTTP GET of `httpPath` on this port inside the
 *   sandbox answers one of `expectedStatus`
 * @property {string} [httpPath] default "/"
 * @property {number[]} [expectedStatus] default: any 2xx
 * @property {number} [tcpPort] ready once a socket listens on this TCP port (1 to 65535) inside
 *   the sandbox, whatever protocol it speaks (osbd reads /proc/net/tcp and tcp6 through execd:
 *   the image needs nothing beyond sh)
 * @property {number} [pollingIntervalMs] pause between probes (default: from 2 ms, doubling up
 *   to 200 ms); the official SDK's healthCheckPollingInterval
 * @property {number} [initialDelayMs] wait after Running before the first probe (default 0)
 */

/** The proto's HealthCheck; an InvalidArgumentError for what it cannot carry (osbd checks the
 * values). Exported for tests; not part of the package's API (index.js). */
export function healthCheckProto(check) {
  if (typeof check !== 'object') {
    throw invalidArgument('healthCheck is an object of probe settings, run by osbd');
  }
  const probes = [check.command, check.httpPort, check.tcpPort];
  if (probes.filter((probe) => probe !== undefined).length > 1) {
    throw invalidArgument(
      'a health check probes a command, an HTTP port or a TCP port, not more than one',
    );
  }
  const message = {};
  if (check.pollingIntervalMs !== undefined) {
    message.pollingInterval = duration(check.pollingIntervalMs / 1000);
  }
  if (check.initialDelayMs !== undefined) {
    message.initialDelay = duration(check.initialDelayMs / 1000);
  }
  if (check.command !== undefined) {
    message.command = { command: check.command };
    if (check.commandTimeoutSeconds !== undefined) {
      message.command.timeout = duration(check.commandTimeoutSeconds);
    }
  } else if (check.httpPort !== undefined) {
    message.http = {
      port: check.httpPort,
      path: check.httpPath ?? '',
      expectedStatus: check.expectedStatus ?? [],
    };
  } else if (check.tcpPort !== undefined) {
    message.tcp = { port: check.tcpPort };
  }
  return message;
}

/** A sandbox reached through osbd. Make one with Sandbox.create or Sandbox.connect. */
export class Sandbox {
  /** @param {string} id @param {Daemon} daemon */
  constructor(id, daemon) {
    this.id = id;
    this.daemon = daemon;
    this.commands = new Commands(daemon, id);
    this.files = new Filesystem(daemon, id);
  }

  /**
   * Creates a sandbox and, unless `skipHealthCheck`, waits until it is ready: Running, and its
   * probe (`healthCheck`, default execd's /ping) passes. If it does not become ready within
   * `readyTimeoutSeconds`, osbd deletes it and this rejects with a SandboxReadyTimeoutError (a
   * SandboxUnhealthyError when it failed on the way); a healthCheck with more than one of
   * `command`, `httpPort` and `tcpPort` rejects with an InvalidArgumentError before anything is
   * sent.
   * @param {object} options
   * @param {string} [options.image] e.g. "python:3.11"; exactly one of image and snapshotId
   * @param {string} [options.snapshotId] a Ready snapshot: its files, and its source's
   *   entrypoint unless one is given
   * @param {number|null} [options.timeoutSeconds] time to live, at least 60 (default 600);
   *   null: no TTL, the sandbox lives until killed
   * @param {number} [options.readyTimeoutSeconds] default 30
   * @param {Record<string, string>} [options.env]
   * @param {Record<string, string>} [options.metadata]
   * @param {Record<string, string>} [options.resource] e.g. {cpu: "1", memory: "2Gi"} (the default)
   * @param {string[]} [options.entrypoint]
   * @param {boolean} [options.skipHealthCheck]
   * @param {HealthCheck} [options.healthCheck]
   * @param {ConnectionConfig} [options.connectionConfig]
   * @returns {Promise<Sandbox>}
   */
  static async create(options) {
    const healthCheck = options.healthCheck && healthCheckProto(options.healthCheck);
    const daemon = new Daemon(options.connectionConfig ?? new ConnectionConfig());
    const timeoutSeconds = options.timeoutSeconds === undefined ? 600 : options.timeoutSeconds;
    const request = {
      connection: daemon.config.toProto(),
      image: options.image ?? '',
      snapshotId: options.snapshotId ?? '',
      env: options.env ?? {},
      metadata: options.metadata ?? {},
      resourceLimits: options.resource ?? {},
      entrypoint: options.entrypoint ?? [],
      skipHealthCheck: options.skipHealthCheck ?? false,
      readyTimeout: duration(options.readyTimeoutSeconds ?? 30),
    };
    if (timeoutSeconds === null) request.manualCleanup = true;
    else request.timeout = duration(timeoutSeconds);
    if (healthCheck) request.healthCheck = healthCheck;
    try {
      const created = await daemon.call(daemon.sandboxes, 'Create', request, { readiness: true });
      return new Sandbox(created.id, daemon);
    } catch (error) {
      daemon.close();
      throw error;
    }
  }

  /**
   * Attaches to an existing sandbox; rejects with SandboxNotFoundError if there is none.
   * @param {{sandboxId: string, connectionConfig?: ConnectionConfig}} options
   * @returns {Promise<Sandbox>}
   */
  static async connect({ sandboxId, connectionConfig }) {
    const daemon = new Daemon(connectionConfig ?? new ConnectionConfig());
    try {
      await daemon.getInfo(sandboxId);
      return new Sandbox(sandboxId, daemon);
    } catch (error) {
      daemon.close();
      throw error;
    }
  }

  /** @returns {Promise<SandboxInfo>} */
  getInfo() {
    return this.daemon.getInfo(this.id);
  }

  /** Deletes the sandbox and everything in it. */
  kill() {
    return this.daemon.kill(this.id);
  }

  /** Freezes the sandbox's processes; resolves once the service accepted the request. */
  pause() {
    return this.daemon.pause(this.id);
  }

  /** Thaws a paused sandbox and waits until it is ready again. */
  resume({ readyTimeoutSeconds = 30 } = {}) {
    return this.daemon.resume(this.id, readyTimeoutSeconds);
  }

  /** Moves the sandbox's expiry to `timeoutSeconds` from now. */
  renew(timeoutSeconds) {
    return this.daemon.renew(this.id, timeoutSeconds);
  }

  /**
   * Captures the sandbox's files; resolves once the snapshot is Ready (or Failed) unless
   * `wait` is false. Sandbox.create({snapshotId}) starts new sandboxes from it.
   * @returns {Promise<SnapshotInfo>}
   */
  createSnapshot({ name, wait = true } = {}) {
    return this.daemon.createSnapshot(this.id, name, wait);
  }

  /** CPU and memory use inside the sandbox, measured over half a second. */
  async getMetrics() {
    return sandboxMetrics(
      await this.daemon.call(this.daemon.sandboxes, 'GetMetrics', this.daemon.request(this.id)),
    );
  }

  /** Closes the channel to osbd; the sandbox keeps running. */
  close() {
    this.daemon.close();
  }
}

/** Sandboxes by id, without a Sandbox object. */
export class SandboxManager {
  /** @param {Daemon} daemon */
  constructor(daemon) {
    this.daemon = daemon;
  }

  /** @param {{connectionConfig?: ConnectionConfig}} [options] */
  static create({ connectionConfig } = {}) {
    return new SandboxManager(new Daemon(connectionConfig ?? new ConnectionConfig()));
  }

  /**
   * One page of sandboxes, newest first: any of `states`, all `metadata` pairs, 1-based pages.
   * @param {{states?: string[], metadata?: Record<string, string>, page?: number,
   *   pageSize?: number}} [filter]
   */
  async listSandboxInfos(filter = {}) {
    const response = await this.daemon.call(this.daemon.sandboxes, 'List', {
      connection: this.daemon.config.toProto(),
      states: filter.states ?? [],
      metadata: filter.metadata ?? {},
      page: filter.page ?? 0,
      pageSize: filter.pageSize ?? 0,
    });
    return { sandboxInfos: response.sandboxes.map(sandboxInfo), pagination: response.pagination };
  }

  /** @param {string} sandboxId @returns {Promise<SandboxInfo>} */
  getSandboxInfo(sandboxId) {
    return this.daemon.getInfo(sandboxId);
  }

  /** @param {string} sandboxId */
  killSandbox(sandboxId) {
    return this.daemon.kill(sandboxId);
  }

  /** @param {string} sandboxId */
  pauseSandbox(sandboxId) {
    return this.daemon.pause(sandboxId);
  }

  /** @param {string} sandboxId */
  resumeSandbox(sandboxId, { readyTimeoutSeconds = 30 } = {}) {
    return this.daemon.resume(sandboxId, readyTimeoutSeconds);
  }

  /** @param {string} sandboxId @param {number} timeoutSeconds */
  renewSandbox(sandboxId, timeoutSeconds) {
    return this.daemon.renew(sandboxId, timeoutSeconds);
  }

  /** @param {string} sandboxId @returns {Promise<SnapshotInfo>} */
  createSnapshot(sandboxId, { name, wait = true } = {}) {
    return this.daemon.createSnapshot(sandboxId, name, wait);
  }

  /** @param {string} snapshotId @returns {Promise<SnapshotInfo>} */
  async getSnapshot(snapshotId) {
    return snapshotInfo(
      await this.daemon.call(this.daemon.sandboxes, 'GetSnapshot', {
        connection: this.daemon.config.toProto(),
        snapshotId,
      }),
    );
  }

  /**
   * One page of snapshots, newest first: of `sandboxId`, in any of `states` (case-insensitive).
   * @param {{sandboxId?: string, states?: string[], page?: number, pageSize?: number}} [filter]
   */
  async listSnapshots(filter = {}) {
    const response = await this.daemon.call(this.daemon.sandboxes, 'ListSnapshots', {
      connection: this.daemon.config.toProto(),
      sandboxId: filter.sandboxId ?? '',
      states: filter.states ?? [],
      page: filter.page ?? 0,
      pageSize: filter.pageSize ?? 0,
    });
    return { snapshotInfos: response.snapshots.map(snapshotInfo), pagination: response.pagination };
  }

  /** @param {string} snapshotId */
  async deleteSnapshot(snapshotId) {
    await this.daemon.call(this.daemon.sandboxes, 'DeleteSnapshot', {
      connection: this.daemon.config.toProto(),
      snapshotId,
    });
  }

  close() {
    this.daemon.close();
  }
}
