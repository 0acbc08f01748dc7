// Writes the lifecycle spec as Prism needs it to match osbd's requests. Prism matches a request's
// path against the spec's paths as written, without the base path of `servers`: the official
// spec says `http://localhost:8080/v1` and `/sandboxes`, osbd calls `/v1/sandboxes`, and Prism
// would answer 404 NO_PATH_MATCHED. So the server's base path moves onto every path and the
// server keeps only its origin. Besides that, the one rule in DEVIATIONS below is relaxed, for
// the reason given there; everything else (schemas, parameters, responses, headers, security) is
// the official spec's.
//
//   node spec.js IN.yml OUT.json
import fs from 'node:fs';

import yaml from '@stoplight/yaml'; // the YAML reader Prism itself reads specs with

// Rules of the official spec that osb-runtime knowingly does not follow, each with the reason:
// osb-runtime answers as the official server does, and that answer is valid HTTP.
const DEVIATIONS = [
  {
    // POST /sandboxes/{id}/snapshots answers `Location: /v1/snapshots/{id}`, as the official server
    // does (COMPAT.md §1.2). The spec's header schema says `format: uri`, which JSON Schema reads
    // as an absolute URI; HTTP (RFC 9110 §10.2.2) allows a relative reference, and the runtime
    // cannot know the scheme and host its clients reach it by (a TLS proxy in front).
    pointer: ['components', 'headers', 'Location', 'schema', 'format'],
    official: 'uri',
    relaxed: 'uri-reference',
  },
];

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node spec.js IN.yml OUT.json');
  process.exit(2);
}
const spec = yaml.parse(fs.readFileSync(input, 'utf8'));
const servers = spec.servers ?? [];
if (servers.length !== 1) throw new Error(`${input}: expected one server, found ${servers.length}`);
const server = new URL(servers[0].url);
const base = server.pathname.replace(/\/+$/, '');
const paths = {};
for (const [path, item] of Object.entries(spec.paths)) {
  if (item.servers) throw new Error(`${input}: ${path} has servers of its own`);
  paths[base + path] = item;
}
spec.paths = paths;
for (const { pointer, official, relaxed } of DEVIATIONS) {
  const parent = pointer.slice(0, -1).reduce((node, key) => node?.[key], spec);
  const key = pointer.at(-1);
  // A spec that no longer says what the deviation relaxes: the list needs a look.
  if (parent?.[key] !== official) {
    const found = JSON.stringify(parent?.[key]);
    throw new Error(`${input}: ${pointer.join('.')} is ${found}, not ${official} (DEVIATIONS)`);
  }
  parent[key] = relaxed;
}
spec.servers = [{ ...servers[0], url: server.origin }];
fs.writeFileSync(output, JSON.stringify(spec, null, 1));
