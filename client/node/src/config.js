import { geteuid } from 'node:process';

/**
 * osbd's default socket, as osbd computes it (rest/sys/default_paths.cc).
 * @returns {string}
 */
export function defaultSocketPath() {
  if (process.env.XDG_RUNTIME_DIR) return `${process.env.XDG_RUNTIME_DIR}/opensandbox/osbd.sock`;
  if (geteuid() === 0) return '/run/opensandbox/osbd.sock';
  return `/tmp/opensandbox-${geteuid()}/osbd.sock`;
}

/**
 * How to reach osbd, and the OpenSandbox service each request asks osbd to use. Like the official
 * JS SDK's ConnectionConfig, `domain` and `apiKey` fall back to OPEN_SANDBOX_DOMAIN and
 * OPEN_SANDBOX_API_KEY; an empty domain means osbd's default service (the one it was started
 * with, or its embedded osb-runtime), not localhost:8080.
 */
export class ConnectionConfig {
  /**
   * @param {object} [options]
   * @param {string} [options.socket] osbd's Unix socket; default $OSBD_SOCKET, else
   *   defaultSocketPath()
   * @param {string} [options.domain] host[:port] or http(s) URL of the lifecycle server
   * @param {string} [options.apiKey] sent by osbd as OPEN-SANDBOX-API-KEY
   * @param {string} [options.protocol] "http" or "https"; "" lets osbd decide
   * @param {Record<string, string>} [options.headers] extra headers osbd sends upstream
   * @param {boolean} [options.useServerProxy] reach execd through the server's proxy route
   * @param {number} [options.requestTimeoutSeconds] limit of each upstream request (osbd: 30 s)
   * @param {string} [options.profile] a connection profile of osbd's config file
   */
  constructor(options = {}) {
    this.socket = options.socket ?? (process.env.OSBD_SOCKET || defaultSocketPath());
    this.domain = options.domain ?? process.env.OPEN_SANDBOX_DOMAIN ?? '';
    this.apiKey = options.apiKey ?? process.env.OPEN_SANDBOX_API_KEY ?? '';
    this.protocol = options.protocol ?? '';
    this.headers = options.headers ?? {};
    this.useServerProxy = options.useServerProxy ?? false;
    this.requestTimeoutSeconds = options.requestTimeoutSeconds;
    this.profile = options.profile ?? '';
  }

  /** The gRPC target of osbd's socket. */
  get target() {
    return `unix:${this.socket}`;
  }

  /** The per-request `Connection` message osbd reads. */
  toProto() {
    const connection = {
      domain: this.domain,
      protocol: this.protocol,
      apiKey: this.apiKey,
      headers: this.headers,
      useServerProxy: this.useServerProxy,
      profile: this.profile,
    };
    if (this.requestTimeoutSeconds !== undefined) {
      connection.requestTimeout = duration(this.requestTimeoutSeconds);
    }
    return connection;
  }
}

/**
 * A google.protobuf.Duration from seconds (fractions kept to the nanosecond).
 * @param {number} seconds
 */
export function duration(seconds) {
  const whole = Math.trunc(seconds);
  return { seconds: whole, nanos: Math.round((seconds - whole) * 1e9) };
}
