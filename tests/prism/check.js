// Judges a run: the exchanges tap.js recorded between osbd and Prism, and Prism's own log.
// Fails (exit 1) on
//   - any exchange Prism flagged: an `sl-violations` header (a request or response violating the
//     spec, warnings included) or an answer Prism made itself (application/problem+json: its
//     VIOLATIONS, UNAUTHORIZED, UNPROCESSABLE_ENTITY, NO_PATH_MATCHED_ERROR, ... errors);
//   - an exchange the tap could not forward;
//   - a Prism log line that reports a violation or an error, or says it replaced an upstream 501
//     with a mocked answer (which would hide it);
//   - an operation of the spec that the workload never got a 2xx from.
// Prints each operation with the statuses seen, then every failure with its request and answer.
//
//   node check.js SPEC.json EXCHANGES.ndjson PRISM.log
import fs from 'node:fs';

const [specFile, exchangesFile, prismLog] = process.argv.slice(2);
if (!specFile || !exchangesFile || !prismLog) {
  console.error('usage: node check.js SPEC.json EXCHANGES.ndjson PRISM.log');
  process.exit(2);
}
const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const exchanges = fs.readFileSync(exchangesFile, 'utf8').split('\n').filter(Boolean)
  .map((line) => JSON.parse(line));

const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const operations = [];
for (const [path, item] of Object.entries(spec.paths)) {
  const pattern = new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
  for (const method of methods) {
    if (item[method]) {
      operations.push({ name: `${method.toUpperCase()} ${path}`, method, pattern, statuses: {} });
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

function describe(exchange) {
  const lines = [`  ${exchange.method} ${exchange.url} -> ${exchange.status}`];
  if (exchange.requestBody) lines.push(`    request body: ${exchange.requestBody}`);
  for (const v of exchange.violations ?? []) lines.push(violation(v));
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
  if (exchange.responseBody) lines.push(`    response body: ${exchange.responseBody}`);
  return lines.join('\n');
}

for (const exchange of exchanges) {
  const path = new URL(exchange.url, 'http://x').pathname;
  const operation = operations.find((o) => o.method === exchange.method.toLowerCase() &&
    o.pattern.test(path));
  if (operation) {
    operation.statuses[exchange.status] = (operation.statuses[exchange.status] ?? 0) + 1;
  }
  if (exchange.violations?.length || exchange.prismError || exchange.tapError || !operation) {
    failures.push(describe(exchange) + (operation ? '' : '\n    (no operation of the spec)'));
  }
}

// After the start banner (which lists made-up example requests): Prism's error (✖) and warning
// (⚠) lines, its validator's violations, and an upstream 501 it replaced with a mocked answer.
const logLines = fs.readFileSync(prismLog, 'utf8').split('\n');
const banner = logLines.findIndex((line) => line.includes('Prism is listening on'));
const logFailures = logLines.slice(banner + 1)
  .filter((line) => /Violation|✖|⚠|Remocking|has returned 501|\bfatal\b/i.test(line));

console.log(`check: ${exchanges.length} exchanges through Prism`);
for (const o of operations) {
  const seen = Object.entries(o.statuses).map(([s, n]) => `${s}×${n}`).join(' ');
  console.log(`  ${o.name.padEnd(52)} ${seen || '-'}`);
}
const unexercised = operations.filter(
  (o) => !Object.keys(o.statuses).some((s) => s.startsWith('2')));

let failed = false;
if (failures.length) {
  failed = true;
  console.log(`\ncheck: FAILED: ${failures.length} exchanges flagged by Prism:`);
  for (const f of failures) console.log(f);
}
if (logFailures.length) {
  failed = true;
  console.log(`\ncheck: FAILED: ${logFailures.length} problem lines in Prism's log:`);
  for (const line of logFailures) console.log(`  ${line}`);
}
if (unexercised.length) {
  failed = true;
  console.log(`\ncheck: FAILED: no 2xx answer for ${unexercised.map((o) => o.name).join(', ')}`);
}
if (!failed) console.log('check: no violations');
process.exit(failed ? 1 : 0);
