// The code interpreter, shaped like the official code interpreter SDK:
//
//   const interpreter = CodeInterpreter.create(sandbox);
//   const context = await interpreter.codes.createContext('python');
//   await interpreter.codes.run('x = 6 * 7', { context });
//   (await interpreter.codes.run('x', { context })).result[0].text;   // '42'
//
// A context is a live interpreter (python, bash or javascript) whose state persists between the
// cells run in it. run() without a context uses its language's default context (python when no
// language is given either). A cell that raised is not a rejection: it is `execution.error`.
import { invalidArgument } from './errors.js';
import { addOutput, streamExecution } from './sandbox.js';
import { toMillis } from './timestamps.js';

/**
 * @typedef {{id?: string, language: string, workingDirectory?: string}} CodeContext
 *   `id` undefined: the language's default context, when passed to run()
 * @typedef {{text?: string, timestamp: number, extraProperties: Record<string, string>}}
 *   ExecutionResult a value the cell showed; `text` its plain form (Python's repr)
 */

/** @returns {CodeContext} */
function codeContext(message) {
  return {
    id: message.id || undefined,
    language: message.language,
    workingDirectory: message.cwd || undefined,
  };
}

/** Folds one CodeEvent into `execution`; returns the handler name and its argument, if any. */
function applyCodeEvent(execution, event) {
  const timestamp = toMillis(event.time);
  switch (event.kind) {
    case 'started':
      execution.id = event.started.contextId;
      return ['onInit', { id: execution.id, timestamp }];
    case 'stdout':
    case 'stderr':
      return addOutput(execution, event, timestamp);
    case 'result': {
      const extraProperties = {};
      for (const [mime, value] of Object.entries(event.result.data)) {
        extraProperties[mime] = value.toString('utf8');
      }
      const text = extraProperties.text;
      delete extraProperties.text;
      const result = { text, timestamp, extraProperties };
      (execution.result ??= []).push(result);
      return ['onResult', result];
    }
    case 'executionCount':
      execution.executionCount = event.executionCount;
      return undefined;
    case 'completed':
      execution.complete = {
        timestamp,
        executionTimeInMillis: toMillis(event.completed.executionTime),
      };
      return ['onExecutionComplete', execution.complete];
    case 'error':
      execution.error = {
        name: event.error.name,
        value: event.error.value,
        timestamp,
        traceback: event.error.traceback,
      };
      return ['onError', execution.error];
    default:
      // `broken`: osbd ends the call with an error status right after it, which run() throws.
      return undefined;
  }
}

/** `interpreter.codes`: contexts and the cells run in them (osbd's Code service). */
export class Codes {
  /** @param {import('./sandbox.js').Sandbox} sandbox */
  constructor(sandbox) {
    this.daemon = sandbox.daemon;
    this.sandboxId = sandbox.id;
  }

  call(method, fields) {
    return this.daemon.call(this.daemon.code, method, this.daemon.request(this.sandboxId, fields));
  }

  /**
   * Starts a context; rejects with an invalid-argument error for an unsupported language.
   * @param {string} language python, bash or javascript
   * @param {{workingDirectory?: string}} [options]
   * @returns {Promise<CodeContext>}
   */
  async createContext(language, { workingDirectory } = {}) {
    return codeContext(await this.call('CreateContext', { language, cwd: workingDirectory ?? '' }));
  }

  /** @returns {Promise<CodeContext>} */
  async getContext(contextId) {
    return codeContext(await this.call('GetContext', { contextId }));
  }

  /** Every context, or those of `language`, oldest first. @returns {Promise<CodeContext[]>} */
  async listContexts(language = '') {
    return (await this.call('ListContexts', { language })).contexts.map(codeContext);
  }

  async deleteContext(contextId) {
    await this.call('DeleteContext', { contextId });
  }

  async deleteContexts(language) {
    await this.call('DeleteContexts', { language });
  }

  /**
   * Runs a cell; resolves once it ended, calling `handlers` as its events arrive (those of
   * commands.run, plus onResult).
   * @param {string} code
   * @param {{language?: string, context?: CodeContext}} [options]
   * @param {object} [handlers]
   */
  async run(code, { language, context } = {}, handlers = {}) {
    if (!code || !code.trim()) throw invalidArgument('code cannot be empty');
    if (context && language && context.language !== language) {
      throw invalidArgument(
        `language '${language}' must match context.language '${context.language}'`,
      );
    }
    const target = context ?? { language: language ?? 'python' };
    const call = this.daemon.code.Run(
      this.daemon.request(this.sandboxId, {
        code,
        contextId: target.id ?? '',
        language: target.id ? '' : target.language,
      }),
    );
    const execution = await streamExecution(call, handlers, applyCodeEvent);
    execution.result ??= [];
    return execution;
  }

  /** Interrupts the cell running in the context (KeyboardInterrupt in Python). */
  async interrupt(contextId) {
    await this.call('Interrupt', { contextId });
  }
}

/** A sandbox with its code interpreter: `codes`, and the sandbox's own services. */
export class CodeInterpreter {
  /** @param {import('./sandbox.js').Sandbox} sandbox */
  constructor(sandbox) {
    this.sandbox = sandbox;
    this.id = sandbox.id;
    this.codes = new Codes(sandbox);
    this.commands = sandbox.commands;
    this.files = sandbox.files;
  }

  static create(sandbox) {
    return new CodeInterpreter(sandbox);
  }
}
