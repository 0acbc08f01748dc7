// Loads osbd's gRPC API from the .proto files at run time (@grpc/proto-loader, no codegen).
// The files are the repository's proto/ (this package lives in client/node), or $OSB_PROTO_DIR.
import { readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const protoRoot =
  process.env.OSB_PROTO_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../proto');
const files = readdirSync(join(protoRoot, 'opensandbox/v1'))
  .filter((name) => name.endsWith('.proto'))
  .map((name) => `opensandbox/v1/${name}`);

const definition = protoLoader.loadSync(files, {
  includeDirs: [protoRoot],
  longs: Number, // int64 fields (durations, counts) as numbers
  enums: String,
  defaults: true,
  oneofs: true, // a oneof's set member is named by a virtual field, e.g. event.kind
});

/** The opensandbox.v1 package: service constructors and message types. */
export const v1 = grpc.loadPackageDefinition(definition).opensandbox.v1;
