// Writes an official spec as Prism needs it to match osbd's requests, one of
//
//   lifecycle  The lifecycle spec. Prism matches a request's path against the spec's paths as
//              written, without the base path of `servers`: the official spec says
//              `http://localhost:8080/v1` and `/sandboxes`, osbd calls `/v1/sandboxes`, and Prism
//              would answer 404 NO_PATH_MATCHED. So the server's base path moves onto every path
//              and the server keeps only its origin.
//   execd      The execd spec. osbd reaches execd through the endpoint the lifecycle API gives,
//              `{host}/sandboxes/{id}/proxy/44772`, so every execd path is called under that
//              prefix: it goes onto every path, with its two path parameters added to every
//              operation (`port` only 44772, execd's). The servers stay as they are (no base
//              path; Prism ignores them when forwarding).
//
// Besides that, the rules in that spec's DEVIATIONS below are relaxed, each for the reason given
// there; everything else (schemas, parameters, responses, headers, security) is the official
// spec's.
//
//   node spec.js lifecycle|execd IN.yml OUT.json
import fs from 'node:fs';

import yaml from '@stoplight/yaml'; // the YAML reader Prism itself reads specs with

// Rules of the official specs that osb-runtime knowingly does not follow, each with the reason:
// osb-runtime answers as the official server does, and that answer is valid HTTP.
const DEVIATIONS = {
  lifecycle: [
    {
      // POST /sandboxes/{id}/snapshots answers `Location: /v1/snapshots/{id}`, as the official
      // server does (COMPAT.md §1.2). The spec's header schema says `format: uri`, which JSON
      // Schema reads as an absolute URI; HTTP (RFC 9110 §10.2.2) allows a relative reference, and
      // the runtime cannot know the scheme and host its clients reach it by (a TLS proxy in
      // front).
      pointer: ['components', 'headers', 'Location', 'schema', 'format'],
      official: 'uri',
      relaxed: 'uri-reference',
    },
  ],
  // The streamed answers (text/event-stream) of POST /command, /code and /session/{id}/run
  // (ServerStreamEvent) and GET /metrics/watch (Metrics): the spec gives each the schema of one
  // event, which OpenAPI 3.1 has no place for (3.2's `itemSchema`), and Prism applies it to the
  // whole body, a string: "Response body must be object" for every stream. The body's schema
  // becomes a string, and the event schema moves to the media type's `x-osb-event-schema`
  // (dereferenced), where check.js validates every event of every recorded stream against it
  // with Prism's own validator. Events are read as the official SDKs read them (COMPAT.md §2.3,
  // §2.7): the official execd, and osb-runtime like it, writes bare JSON lines, no `data:`.
  execd: [
    ['/command', 'post', 'ServerStreamEvent'],
    ['/code', 'post', 'ServerStreamEvent'],
    ['/session/{sessionId}/run', 'post', 'ServerStreamEvent'],
    ['/metrics/watch', 'get', 'Metrics'],
  ].map(([path, method, schema]) => ({
    pointer: ['paths', path, method, 'responses', '200', 'content', 'text/event-stream',
      'schema'],
    official: { $ref: `#/components/schemas/${schema}` },
    relaxed: { type: 'string' },
    keepAs: 'x-osb-event-schema',
  })),
};

// A copy of `node` with every local $ref replaced by what it names.
function dereference(root, node, seen = []) {
  if (Array.isArray(node)) return node.map((n) => dereference(root, n, seen));
  if (node === null || typeof node !== 'object') return node;
  if (typeof node.$ref === 'string' && node.$ref.startsWith('#/')) {
    if (seen.includes(node.$ref)) throw new Error(`a recursive $ref ${node.$ref}`);
    const target = node.$ref.slice(2).split('/').reduce((n, key) => n?.[key], root);
    if (target === undefined) throw new Error(`a dangling $ref ${node.$ref}`);
    return dereference(root, target, [...seen, node.$ref]);
  }
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [key, dereference(root, value, seen)]));
}

// The prefix of osb-runtime's proxy (the endpoint's path), and its parameters.
const kExecdPort = 44772;
const kProxyPrefix = '/sandboxes/{sandboxId}/proxy/{port}';
const kProxyParameters = [
  { name: 'sandboxId', in: 'path', required: true, schema: { type: 'string', minLength: 1 } },
  { name: 'port', in: 'path', required: true, schema: { type: 'integer', enum: [kExecdPort] } },
];
const kMethods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

const [kind, input, output] = process.argv.slice(2);
if (!DEVIATIONS[kind] || !input || !output) {
  console.error('usage: node spec.js lifecycle|execd IN.yml OUT.json');
  process.exit(2);
}
const spec = yaml.parse(fs.readFileSync(input, 'utf8'));
for (const { pointer, official, relaxed, keepAs } of DEVIATIONS[kind]) {
  const parent = pointer.slice(0, -1).reduce((node, key) => node?.[key], spec);
  const key = pointer.at(-1);
  // A spec that no longer says what the deviation relaxes: the list needs a look.
  if (JSON.stringify(parent?.[key]) !== JSON.stringify(official)) {
    const found = JSON.stringify(parent?.[key]);
    throw new Error(`${input}: ${pointer.join('.')} is ${found}, not ${JSON.stringify(official)}` +
      ' (DEVIATIONS)');
  }
  if (keepAs) parent[keepAs] = dereference(spec, official);
  parent[key] = relaxed;
}
const servers = spec.servers ?? [];
const paths = {};
if (kind === 'lifecycle') {
  if (servers.length !== 1) {
    throw new Error(`${input}: expected one server, found ${servers.length}`);
  }
  const server = new URL(servers[0].url);
  const base = server.pathname.replace(/\/+$/, '');
  for (const [path, item] of Object.entries(spec.paths)) {
    if (item.servers) throw new Error(`${input}: ${path} has servers of its own`);
    paths[base + path] = item;
  }
  spec.servers = [{ ...servers[0], url: server.origin }];
} else {
  for (const server of servers) {
    if (new URL(server.url).pathname.replace(/\/+$/, '') !== '') {
      throw new Error(`${input}: server ${server.url} has a base path`);
    }
  }
  for (const [path, item] of Object.entries(spec.paths)) {
    if (item.servers) throw new Error(`${input}: ${path} has servers of its own`);
    for (const method of kMethods) {
      if (!item[method]) continue;
      const taken = (item[method].parameters ?? []).concat(item.parameters ?? [])
        .filter((p) => p.in === 'path' && kProxyParameters.some((q) => q.name === p.name));
      if (taken.length) throw new Error(`${input}: ${method} ${path} has a path parameter ${taken[0].name}`);
      item[method].parameters = [...kProxyParameters, ...(item[method].parameters ?? [])];
    }
    paths[kProxyPrefix + path] = item;
  }
}
spec.paths = paths;
fs.writeFileSync(output, JSON.stringify(spec, null, 1));
