// Bench scenario 1 with the official JS SDK (@alibaba-group/opensandbox) against osb-runtime.
// Runs --warmup unrecorded and --iterations recorded cycles of create -> `echo hi` until its
// first stdout line -> kill, and prints {"first_output_ms": [...], "cycle_ms": [...]} as JSON.
//   node tti.mjs --module-dir DIR --domain HOST:PORT --api-key KEY [--iterations N] [--warmup N]
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";

const { values: args } = parseArgs({
  options: {
    "module-dir": { type: "string" },
    domain: { type: "string" },
    "api-key": { type: "string" },
    iterations: { type: "string", default: "10" },
    warmup: { type: "string", default: "1" },
  },
});
if (!args["module-dir"] || !args.domain || !args["api-key"]) {
  console.error("usage: tti.mjs --module-dir DIR --domain HOST:PORT --api-key KEY");
  process.exit(2);
}
// The SDK is installed outside the source tree; resolve it from there.
const require = createRequire(path.join(path.resolve(args["module-dir"]), "package.json"));
const sdk = await import(pathToFileURL(require.resolve("@alibaba-group/opensandbox")).href);
const { Sandbox, ConnectionConfig } = sdk;

// osb-runtime's endpoints are the server-proxy shape; the SDK reaches execd through it.
const connectionConfig = new ConnectionConfig({
  domain: args.domain,
  apiKey: args["api-key"],
  useServerProxy: true,
  requestTimeoutSeconds: 60,
  disableMetrics: true,
});
const warmup = Number(args.warmup);
const iterations = Number(args.iterations);
const firstOutput = [];
const cycle = [];
for (let i = 0; i < warmup + iterations; i++) {
  const start = performance.now();
  let first;
  const sandbox = await Sandbox.create({
    connectionConfig,
    image: "host",
    healthCheckPollingInterval: 10,
  });
  try {
    await sandbox.commands.run("echo hi", {}, {
      onStdout: () => {
        if (first === undefined) first = performance.now();
      },
    });
    if (first === undefined) {
      console.error("echo hi printed nothing");
      process.exit(1);
    }
  } finally {
    await sandbox.kill();
  }
  const end = performance.now();
  if (i >= warmup) {
    firstOutput.push(first - start);
    cycle.push(end - start);
  }
}
console.log(JSON.stringify({ first_output_ms: firstOutput, cycle_ms: cycle }));
process.exit(0);
