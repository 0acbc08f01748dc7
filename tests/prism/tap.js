// A recording pass-through between osbd and Prism. Prism, with --errors, answers a violation with
// its own problem+json error, and names the rule only in that answer's `sl-violations` header and
// body, which osbd folds into a gRPC status. The tap keeps every exchange as a line of NDJSON
// (method, URL, status, the request body, the answer's body, Prism's violations and error type)
// for check.js to judge and to print. It changes nothing on the way.
//
//   node tap.js PRISM_HOST:PORT EXCHANGES.ndjson PORT_FILE
import fs from 'node:fs';
import http from 'node:http';

const [prism, exchangesFile, portFile] = process.argv.slice(2);
if (!prism || !exchangesFile || !portFile) {
  console.error('usage: node tap.js PRISM_HOST:PORT EXCHANGES.ndjson PORT_FILE');
  process.exit(2);
}
const prismHost = prism.slice(0, prism.lastIndexOf(':'));
const prismPort = prism.slice(prism.lastIndexOf(':') + 1);
const agent = new http.Agent({ keepAlive: true });
const out = fs.openSync(exchangesFile, 'a');
const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length',
  'proxy-connection', 'te', 'trailer', 'upgrade']);
const kMaxBody = 8192;

function text(buffer) {
  const s = buffer.toString('utf8');
  return s.length > kMaxBody ? `${s.slice(0, kMaxBody)}...(${buffer.length} bytes)` : s;
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

const server = http.createServer(async (req, res) => {
  const body = await collect(req);
  const headers = Object.fromEntries(
    Object.entries(req.headers).filter(([name]) => !hopByHop.has(name)));
  if (body.length > 0) headers['content-length'] = String(body.length);
  const base = { method: req.method, url: req.url, requestBody: text(body) };
  const upstream = http.request(
    { host: prismHost, port: prismPort, method: req.method, path: req.url, headers, agent },
    async (answer) => {
      const answerBody = await collect(answer);
      const entry = { ...base, status: answer.statusCode, responseBody: text(answerBody) };
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
    });
  upstream.on('error', (error) => {
    record({ ...base, status: 502, tapError: String(error) });
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'TAP::UPSTREAM_ERROR', message: String(error) }));
  });
  upstream.end(body);
});

server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(`${portFile}.tmp`, String(server.address().port));
  fs.renameSync(`${portFile}.tmp`, portFile);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
