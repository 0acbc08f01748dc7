// Templates and warm pools kept by osbd: named sandbox presets, and pools of ready sandboxes
// made from them that hand one out in a few milliseconds.
//
//   await TemplateManager.create().define('py', { image: 'python:3.11', env: { MODE: 'test' } });
//   const pools = PoolManager.create();
//   await pools.define('py', { template: 'py', minIdle: 4 });
//   const sandbox = await pools.acquire('py');      // a ready Sandbox
//   await pools.release('py', sandbox);             // killed (or reused with {reuse: true})

import { ConnectionConfig, duration } from './config.js';
import { Daemon, Sandbox } from './sandbox.js';

/** Named presets of create parameters (osbd's Templates service). */
export class TemplateManager {
  /** @param {Daemon} daemon */
  constructor(daemon) {
    this.daemon = daemon;
  }

  /** @param {{connectionConfig?: ConnectionConfig}} [options] */
  static create({ connectionConfig } = {}) {
    return new TemplateManager(new Daemon(connectionConfig ?? new ConnectionConfig()));
  }

  /**
   * Creates or replaces a template; rejects with an invalid-argument error for a bad name or value.
   * @param {string} name
   * @param {{image?: string, description?: string, timeoutSeconds?: number,
   *   env?: Record<string, string>, metadata?: Record<string, string>,
   *   resource?: Record<string, string>, entrypoint?: string[]}} [spec]
   */
  async define(name, spec = {}) {
    const template = {
      name,
      image: spec.image ?? '',
      description: spec.description ?? '',
      env: spec.env ?? {},
      metadata: spec.metadata ?? {},
      resourceLimits: spec.resource ?? {},
      entrypoint: spec.entrypoint ?? [],
    };
    if (spec.timeoutSeconds !== undefined) template.timeout = duration(spec.timeoutSeconds);
    return this.daemon.call(this.daemon.templates, 'Define', { template });
  }

  /** @param {string} name */
  get(name) {
    return this.daemon.call(this.daemon.templates, 'Get', { name });
  }

  async list() {
    return (await this.daemon.call(this.daemon.templates, 'List', {})).templates;
  }

  /** @param {string} name */
  async delete(name) {
    await this.daemon.call(this.daemon.templates, 'Delete', { name });
  }

  close() {
    this.daemon.close();
  }
}

/** Warm pools of ready sandboxes (osbd's Pools service). */
export class PoolManager {
  /** @param {Daemon} daemon */
  constructor(daemon) {
    this.daemon = daemon;
  }

  /** @param {{connectionConfig?: ConnectionConfig}} [options] */
  static create({ connectionConfig } = {}) {
    return new PoolManager(new Daemon(connectionConfig ?? new ConnectionConfig()));
  }

  /**
   * Creates or replaces a pool and starts filling it in the background.
   * @param {string} name
   * @param {{template: string, minIdle: number, maxIdle?: number}} spec
   */
  async define(name, spec) {
    await this.daemon.call(this.daemon.pools, 'Define', {
      pool: {
        name,
        template: spec.template,
        minIdle: spec.minIdle,
        maxIdle: spec.maxIdle ?? 0,
        connection: this.daemon.config.toProto(),
      },
    });
  }

  /**
   * A ready sandbox from the pool, now the caller's. With no idle one: created on the spot, or,
   * with `failFast`, a PoolEmptyError (code OSBD::POOL_EMPTY).
   * @param {string} name
   * @param {{failFast?: boolean, sandboxTimeoutSeconds?: number}} [options]
   * @returns {Promise<Sandbox>}
   */
  async acquire(name, options = {}) {
    const request = {
      poolName: name,
      policy: options.failFast ? 'ACQUIRE_POLICY_FAIL_FAST' : 'ACQUIRE_POLICY_DIRECT_CREATE',
    };
    if (options.sandboxTimeoutSeconds !== undefined) {
      request.sandboxTimeout = duration(options.sandboxTimeoutSeconds);
    }
    const acquired = await this.daemon.call(this.daemon.pools, 'Acquire', request);
    return new Sandbox(acquired.sandbox.id, new Daemon(this.daemon.config));
  }

  /**
   * Kills the sandbox, or with `reuse` returns it to the idle set; resolves with whether it was
   * reused.
   * @param {string} name
   * @param {Sandbox} sandbox
   * @param {{reuse?: boolean}} [options]
   */
  async release(name, sandbox, options = {}) {
    const released = await this.daemon.call(this.daemon.pools, 'Release', {
      poolName: name,
      sandboxId: sandbox.id,
      reuse: options.reuse ?? false,
    });
    return released.reused;
  }

  /** @param {string} name */
  stats(name) {
    return this.daemon.call(this.daemon.pools, 'GetStats', { name });
  }

  /** Every pool osbd keeps, with its definition. */
  async list() {
    return (await this.daemon.call(this.daemon.pools, 'List', {})).pools;
  }

  /** @param {string} name @param {{keepIdle?: boolean}} [options] */
  async delete(name, options = {}) {
    await this.daemon.call(this.daemon.pools, 'Delete', {
      name,
      keepIdle: options.keepIdle ?? false,
    });
  }

  close() {
    this.daemon.close();
  }
}
