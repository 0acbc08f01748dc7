// A recording pass-through in front of a Prism proxy (or, as Prism's upstream, behind it). Prism,
// with --errors, answers a violation with its own problem+json error, and names the rule only in
// that answer's `sl-violations` header and body, which osbd folds into a gRPC status. The tap
// keeps every exchange as a line of NDJSON (method, URL, status, the request body, the answer's
// body, Prism's violations and error type) for check.js to judge and to print. It changes
// nothing on the way, except what these options ask for:
//
//   --endpoints RUNTIME=EXECD_TAP  (the lifecycle tap) in a 200 answer of
//       GET /v1/sandboxes/{id}/endpoints/{port}, an `endpoint` that names RUNTIME
//       (`RUNTIME/sandboxes/{id}/proxy/{port}`, as osb-runtime makes it) is made to name
//       EXECD_TAP instead, path kept: osbd's execd traffic then goes through the execd tap and
//       its Prism, as through a gateway in front of the service. Recorded as `endpointFrom` and
//       `endpointTo`; an endpoint not of that form is left as it is and recorded as
//       `endpointError` (check.js fails on it).
//   --end-streams PATH_SUFFIX=N  (the tap behind the execd Prism) an answer to a request whose
//       path ends with PATH_SUFFIX is ended after its first N events (collectEvents), the upstream
//       connection closed: Prism buffers a whole answer before it validates and relays it, so an
//       endless stream (GET /metrics/watch) would never pass it. Recorded as `endedAfter`.
//
//   node tap.js UPSTREAM_HOST:PORT EXCHANGES.ndjson PORT_FILE [OPTION VALUE]...
import fs from 'node:fs';
import http from 'node:http';

const [upstreamAddress, exchangesFile, portFile, ...options] = process.argv.slice(2);
const usage = 'usage: node tap.js UPSTREAM_HOST:PORT EXCHANGES.ndjson PORT_FILE ' +
  '[--endpoints RUNTIME=EXECD_TAP] [--end-streams PATH_SUFFIX=N]';
if (!upstreamAddress || !exchangesFile || !portFile || options.length % 2 !== 0) {
  console.error(usage);
  process.exit(2);
}
let rewriteEndpoints = null;
const endStreams = [];
for (let i = 0; i < options.length; i += 2) {
  const [name, value] = [options[i], options[i + 1]];
  const eq = value.lastIndexOf('=');
  if (eq <= 0) {
    console.error(usage);
    process.exit(2);
  }
  if (name === '--endpoints') {
    rewriteEndpoints = { from: value.slice(0, eq), to: value.slice(eq + 1) };
  } else if (name === '--end-streams') {
    endStreams.push({ suffix: value.slice(0, eq), events: Number(value.slice(eq + 1)) });
  } else {
    console.error(usage);
    process.exit(2);
  }
}
const upstreamHost = upstreamAddress.slice(0, upstreamAddress.lastIndexOf(':'));
const upstreamPort = upstreamAddress.slice(upstreamAddress.lastIndexOf(':') + 1);
const agent = new http.Agent({ keepAlive: true });
const out = fs.openSync(exchangesFile, 'a');
const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length',
  'proxy-connection', 'te', 'trailer', 'upgrade']);
const kMaxBody = 8192;
const kMaxStream = 1 << 20;
const kEndpointPath = /^\/v1\/sandboxes\/[^/]+\/endpoints\/[^/]+$/;

function text(buffer, max = kMaxBody) {
  const s = buffer.toString('utf8');
  return s.length > max ? `${s.slice(0, max)}...(${buffer.length} bytes)` : s;
}

function record(entry) {
  fs.writeSync(out, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
}

function collect(stream) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

// The first `events` events of a stream, then the stream is destroyed; the whole stream if it
// ends before. Events are read as the official SDKs read execd's streams (COMPAT.md §2.3, §2.7):
// a bare JSON line is an event (the official execd's form, and osb-runtime's), so is a `data:`
// block ended by a blank line; other fields and comments are not.
function collectEvents(stream, events) {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    let seen = 0;
    let offset = 0;
    let pendingData = false;
    stream.on('data', (c) => {
      buffer = Buffer.concat([buffer, c]);
      for (let lf; (lf = buffer.indexOf('\n', offset)) >= 0;) {
        const line = buffer.subarray(offset, lf).toString('utf8').replace(/\r$/, '');
        offset = lf + 1;
        if (line.trim() === '') {
          if (pendingData) seen++;
          pendingData = false;
        } else if (/^data:/.test(line)) {
          pendingData = true;
        } else if (!/^(:|event:|id:|retry:)/.test(line)) {
          seen++;
        }
        if (seen === events) {
          stream.destroy();
          resolve({ body: buffer.subarray(0, offset), ended: true });
          return;
        }
      }
    });
    stream.on('end', () => resolve({ body: buffer, ended: false }));
    stream.on('error', reject);
  });
}

// The endpoint answer with osb-runtime's address replaced by the execd tap's.
function rewriteEndpoint(answerBody, entry) {
  let endpoint;
  try {
    endpoint = JSON.parse(answerBody.toString('utf8'));
  } catch (error) {
    entry.endpointError = `not JSON: ${error}`;
    return answerBody;
  }
  const prefix = `${rewriteEndpoints.from}/sandboxes/`;
  if (typeof endpoint.endpoint !== 'string' || !endpoint.endpoint.startsWith(prefix)) {
    entry.endpointError = `endpoint does not start with ${prefix}`;
    return answerBody;
  }
  entry.endpointFrom = endpoint.endpoint;
  endpoint.endpoint = rewriteEndpoints.to + endpoint.endpoint.slice(rewriteEndpoints.from.length);
  entry.endpointTo = endpoint.endpoint;
  return Buffer.from(JSON.stringify(endpoint));
}

const server = http.createServer(async (req, res) => {
  const body = await collect(req);
  const headers = Object.fromEntries(
    Object.entries(req.headers).filter(([name]) => !hopByHop.has(name)));
  if (body.length > 0) headers['content-length'] = String(body.length);
  const base = { method: req.method, url: req.url, requestBody: text(body) };
  const path = new URL(req.url, 'http://x').pathname;
  const end = endStreams.find((e) => path.endsWith(e.suffix));
  const upstream = http.request(
    { host: upstreamHost, port: upstreamPort, method: req.method, path: req.url, headers, agent },
    (answer) => {
      answered = true;
      relay(answer).catch(fail);
    });
  async function relay(answer) {
    const entry = { ...base, status: answer.statusCode };
    let answerBody;
    if (end && answer.statusCode === 200) {
      const { body: events, ended } = await collectEvents(answer, end.events);
      answerBody = events;
      if (ended) entry.endedAfter = end.events;
    } else {
      answerBody = await collect(answer);
    }
    if (rewriteEndpoints && req.method === 'GET' && kEndpointPath.test(path) &&
      answer.statusCode === 200) {
      answerBody = rewriteEndpoint(answerBody, entry);
    }
    // A stream is kept whole (up to kMaxStream) for check.js to judge its events.
    const stream = (answer.headers['content-type'] ?? '').startsWith('text/event-stream');
    entry.responseBody = text(answerBody, stream ? kMaxStream : kMaxBody);
    if (stream && answerBody.length > kMaxStream) entry.responseTruncated = true;
    if (answer.headers['sl-violations']) {
      try {
        entry.violations = JSON.parse(answer.headers['sl-violations']);
      } catch {
        entry.violations = [{ message: answer.headers['sl-violations'] }];
      }
    }
    if ((answer.headers['content-type'] ?? '').startsWith('application/problem+json')) {
      try {
        entry.prismError = JSON.parse(answerBody.toString('utf8')).type ?? 'problem+json';
      } catch {
        entry.prismError = 'problem+json';
      }
    }
    record(entry);
    const back = Object.fromEntries(
      Object.entries(answer.headers).filter(([name]) => !hopByHop.has(name)));
    back['content-length'] = String(answerBody.length);
    res.writeHead(answer.statusCode, back);
    res.end(answerBody);
  }
  function fail(error) {
    record({ ...base, status: 502, tapError: String(error) });
    if (res.headersSent) return res.destroy();
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'TAP::UPSTREAM_ERROR', message: String(error) }));
  }
  let answered = false;
  // Once answered, the answer's own errors (and a stream ended here) are relay()'s to handle.
  upstream.on('error', (error) => answered || fail(error));
  upstream.end(body);
});

server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(`${portFile}.tmp`, String(server.address().port));
  fs.renameSync(`${portFile}.tmp`, portFile);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
