// Judges one chain of a run (lifecycle or execd): the exchanges tap.js recorded between osbd and
// that chain's Prism, and Prism's own log. Fails (exit 1) on
//   - any exchange Prism flagged: an `sl-violations` header (a request or response violating the
//     spec, warnings included) or an answer Prism made itself (application/problem+json: its
//     VIOLATIONS, UNAUTHORIZED, UNPROCESSABLE_ENTITY, NO_PATH_MATCHED_ERROR, ... errors);
//   - an exchange the tap could not forward, or an endpoint answer the lifecycle tap could not
//     point at the execd tap (tap.js --endpoints);
//   - a Prism log line that reports a violation or an error, or says it replaced an upstream 501
//     with a mocked answer (which would hide it);
//   - an operation of the spec that the workload never got a 2xx from.
// Prints each operation with the statuses seen, then every failure with its request and answer
// (and, given UPSTREAM.ndjson, what the tap behind Prism recorded of the upstream's own answer:
// with --errors Prism replaces an answer that breaks the spec with its 500).
//
//   node check.js NAME SPEC.json EXCHANGES.ndjson PRISM.log [UPSTREAM.ndjson]
import fs from 'node:fs';

// Prism's own schema conversion (OpenAPI to JSON Schema) and validator, for the events of streams.
import { convertToJsonSchema as convertSchema } from '@stoplight/http-spec/oas';
import { validateAgainstSchema } from '@stoplight/prism-http/dist/validator/validators/utils.js';
import { ValidationContext } from '@stoplight/prism-http/dist/validator/validators/types.js';

const [name, specFile, exchangesFile, prismLog, upstreamFile] = process.argv.slice(2);
if (!name || !specFile || !exchangesFile || !prismLog) {
  console.error('usage: node check.js NAME SPEC.json EXCHANGES.ndjson PRISM.log [UPSTREAM.ndjson]');
  process.exit(2);
}
const readNdjson = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)
  .map((line) => JSON.parse(line));
const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const exchanges = readNdjson(exchangesFile);
const upstream = upstreamFile ? readNdjson(upstreamFile) : [];

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const operations = [];
for (const [path, item] of Object.entries(spec.paths)) {
  const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
  for (const method of methods) {
    if (item[method]) {
      // spec.js DEVIATIONS: a stream's event schema, checked here event by event.
      const stream = item[method].responses?.['200']?.content?.['text/event-stream'];
      const eventSchema = stream?.['x-osb-event-schema'] &&
        convertSchema(spec, stream['x-osb-event-schema']);
      operations.push({ name: `${method.toUpperCase()} ${path}`, method, pattern, statuses: {},
        eventSchema, events: 0 });
    }
  }
}
// Fewer templated segments first: a concrete path wins over a templated one that also matches.
operations.sort((a, b) => (a.name.match(/\{/g) ?? []).length - (b.name.match(/\{/g) ?? []).length);

const failures = [];
function violation(v) {
  const where = (v.location ?? []).join('.');
  const rule = v.code ? ` (${v.code})` : '';
  return `    violation [${v.severity ?? '?'}] ${where}: ${v.message}${rule}`;
}

// The events of a stream as the official SDKs read them (COMPAT.md §2.3, §2.7): each line but
// blank ones, comments and `event:`/`id:`/`retry:` fields is one, an optional `data: ` stripped.
// Returns the violations of each event of the body against the operation's event schema.
function checkEvents(operation, body) {
  const found = [];
  for (const line of body.split(/\r?\n/)) {
    if (line.trim() === '' || /^(:|event:|id:|retry:)/.test(line)) continue;
    const data = line.replace(/^data: ?/, '');
    operation.events++;
    let event;
    try {
      event = JSON.parse(data);
    } catch {
      found.push({ location: ['response', 'event'], severity: 'Error', code: 'json',
        message: `Event is not JSON: ${data}` });
      continue;
    }
    const errors = validateAgainstSchema(event, operation.eventSchema, false,
      ValidationContext.Output, 'event');
    if (errors._tag === 'Some') {
      for (const e of errors.value) {
        found.push({ location: ['response', ...e.path], severity: 'Error', code: e.code,
          message: `${e.message} in ${data}` });
      }
    }
  }
  return found;
}

function describe(exchange) {
  const lines = [`  ${exchange.method} ${exchange.url} -> ${exchange.status}`];
  if (exchange.requestBody) lines.push(`    request body: ${exchange.requestBody}`);
  for (const v of exchange.violations ?? []) lines.push(violation(v));
  for (const v of exchange.eventViolations ?? []) lines.push(violation(v));
  if (exchange.prismError) {
    lines.push(`    answered by Prism: ${exchange.prismError}`);
    // A request violation is answered without the header: its rules are in the problem's body.
    let problem = {};
    try {
      problem = JSON.parse(exchange.responseBody);
    } catch {}
    if (!exchange.violations?.length) {
      for (const v of problem.validation ?? []) lines.push(violation(v));
    }
  }
  if (exchange.tapError) lines.push(`    not forwarded: ${exchange.tapError}`);
  if (exchange.endpointError) {
    lines.push(`    endpoint not pointed at the execd tap: ${exchange.endpointError}`);
  }
  if (exchange.responseBody) lines.push(`    response body: ${exchange.responseBody}`);
  // The upstream's own answer to the same request (the last one recorded before this answer),
  // unless Prism refused the request itself.
  const path = new URL(exchange.url, 'http://x').pathname;
  const refused = /UNPROCESSABLE_ENTITY|UNAUTHORIZED|NO_PATH_MATCHED|NO_METHOD_MATCHED/
    .test(exchange.prismError ?? '');
  const original = !refused && upstream.filter((u) => u.method === exchange.method &&
    new URL(u.url, 'http://x').pathname === path && u.requestBody === exchange.requestBody &&
    u.time <= exchange.time).at(-1);
  if (original) {
    lines.push(`    upstream answered ${original.status}: ${original.responseBody ?? ''}`);
  }
  return lines.join('\n');
}

for (const exchange of exchanges) {
  const path = new URL(exchange.url, 'http://x').pathname;
  const operation = operations.find((o) => o.method === exchange.method.toLowerCase() &&
    o.pattern.test(path));
  if (operation) {
    operation.statuses[exchange.status] = (operation.statuses[exchange.status] ?? 0) + 1;
  }
  if (operation?.eventSchema && exchange.status === 200 && !exchange.prismError) {
    if (exchange.responseTruncated) {
      exchange.eventViolations = [{ location: ['response'], severity: 'Error', code: 'size',
        message: 'the stream was too long for the tap to keep: its events are unchecked' }];
    } else {
      exchange.eventViolations = checkEvents(operation, exchange.responseBody ?? '');
    }
  }
  if (exchange.violations?.length || exchange.eventViolations?.length || exchange.prismError ||
    exchange.tapError ||
    exchange.endpointError || !operation) {
    failures.push(describe(exchange) + (operation ? '' : '\n    (no operation of the spec)'));
  }
}

// After the start banner (which lists made-up example requests): Prism's error (✖) and warning
// (⚠) lines, its validator's violations, and an upstream 501 it replaced with a mocked answer.
const logLines = fs.readFileSync(prismLog, 'utf8').split('\n');
const banner = logLines.findIndex((line) => line.includes('Prism is listening on'));
const logFailures = logLines.slice(banner + 1)
  .filter((line) => /Violation|✖|⚠|Remocking|has returned 501|\bfatal\b/i.test(line));

console.log(`check: ${name}: ${exchanges.length} exchanges through Prism`);
const width = Math.max(...operations.map((o) => o.name.length)) + 1;
for (const o of operations) {
  const seen = Object.entries(o.statuses).map(([s, n]) => `${s}×${n}`).join(' ');
  const events = o.eventSchema ? ` (${o.events} events checked)` : '';
  console.log(`  ${o.name.padEnd(width)} ${seen || '-'}${events}`);
}
const rewritten = exchanges.filter((e) => e.endpointTo).length;
if (rewritten) console.log(`  (${rewritten} endpoints pointed at the execd tap)`);
for (const u of upstream.filter((e) => e.endedAfter)) {
  console.log(`  (${u.method} ${new URL(u.url, 'http://x').pathname}: stream ended after ` +
    `${u.endedAfter} events by the tap behind Prism)`);
}
const unexercised = operations.filter(
  (o) => !Object.keys(o.statuses).some((s) => s.startsWith('2')));

let failed = false;
if (failures.length) {
  failed = true;
  console.log(`\ncheck: ${name}: FAILED: ${failures.length} exchanges flagged:`);
  for (const f of failures) console.log(f);
}
if (logFailures.length) {
  failed = true;
  console.log(`\ncheck: ${name}: FAILED: ${logFailures.length} problem lines in Prism's log:`);
  for (const line of logFailures) console.log(`  ${line}`);
}
if (unexercised.length) {
  failed = true;
  console.log(`\ncheck: ${name}: FAILED: no 2xx answer for ` +
    unexercised.map((o) => o.name).join(', '));
}
if (!failed) console.log(`check: ${name}: no violations`);
process.exit(failed ? 1 : 0);
