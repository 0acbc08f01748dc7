// Reads the google.rpc details osbd puts in a failed call's `grpc-status-details-bin` trailer
// (common.proto, "Errors"): a google.rpc.Status whose details hold an ErrorInfo (the OpenSandbox
// error code as `reason`; `metadata` "request_id", "http_status", ...), for a server that asked
// to wait a RetryInfo, and for a request osbd refused a BadRequest whose first field violation
// names the request field ("port", "jobs[1].id").
//
//   const { reason, metadata, retryAfter, field } = detailsOf(serviceError);
//
// The package depends on no copy of google/rpc: the messages are declared here, field for field
// as in google/rpc/status.proto, error_details.proto and google/protobuf's any.proto and
// duration.proto, in a private protobufjs Root, so they never clash with another copy loaded in
// the same process.
import protobuf from 'protobufjs';

export const DETAILS_KEY = 'grpc-status-details-bin';
const TYPE_PREFIX = 'type.googleapis.com/';

const root = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: {
              fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } },
            },
            Duration: {
              fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } },
            },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            ErrorInfo: {
              fields: {
                reason: { type: 'string', id: 1 },
                domain: { type: 'string', id: 2 },
                metadata: { keyType: 'string', type: 'string', id: 3 },
              },
            },
            RetryInfo: {
              fields: { retryDelay: { type: 'google.protobuf.Duration', id: 1 } },
            },
            BadRequest: {
              fields: { fieldViolations: { rule: 'repeated', type: 'FieldViolation', id: 1 } },
              nested: {
                FieldViolation: {
                  fields: {
                    field: { type: 'string', id: 1 },
                    description: { type: 'string', id: 2 },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
});

// Also used by the tests to make trailers as osbd does.
export const Status = root.lookupType('google.rpc.Status');
export const ErrorInfo = root.lookupType('google.rpc.ErrorInfo');
export const RetryInfo = root.lookupType('google.rpc.RetryInfo');
export const BadRequest = root.lookupType('google.rpc.BadRequest');

/**
 * `message` (of `type`) as a google.protobuf.Any, for Status.details.
 * @param {protobuf.Type} type
 * @param {object} message
 */
export function pack(type, message) {
  return { typeUrl: TYPE_PREFIX + type.fullName.slice(1), value: type.encode(message).finish() };
}

/**
 * @typedef {object} RpcDetails what a status trailer said; empty fields when there was none
 * @property {string} reason the ErrorInfo reason
 * @property {string} domain the ErrorInfo domain
 * @property {Record<string, string>} metadata the ErrorInfo metadata
 * @property {number|null} retryAfter the RetryInfo delay in seconds
 * @property {string} field the request field osbd refused: the BadRequest's first field
 *   violation
 */

/**
 * The ErrorInfo, RetryInfo and BadRequest of a failed call (a grpc-js ServiceError, whose
 * `metadata` holds the trailers); empty details when it has none or they do not parse (the
 * status code and message still say what failed).
 * @param {{metadata?: import('@grpc/grpc-js').Metadata}} error
 * @returns {RpcDetails}
 */
export function detailsOf(error) {
  const details = { reason: '', domain: '', metadata: {}, retryAfter: null, field: '' };
  const [trailer] = error.metadata?.get?.(DETAILS_KEY) ?? [];
  if (!(trailer instanceof Uint8Array)) return details;
  try {
    let sawErrorInfo = false;
    for (const detail of Status.decode(trailer).details) {
      const name = detail.typeUrl.slice(detail.typeUrl.lastIndexOf('/') + 1);
      if (name === 'google.rpc.ErrorInfo' && !sawErrorInfo) {
        sawErrorInfo = true;
        const info = ErrorInfo.decode(detail.value);
        Object.assign(details, {
          reason: info.reason,
          domain: info.domain,
          metadata: info.metadata,
        });
      } else if (name === 'google.rpc.RetryInfo') {
        const delay = RetryInfo.toObject(RetryInfo.decode(detail.value), { longs: Number })
          .retryDelay;
        if (delay) details.retryAfter = (delay.seconds ?? 0) + (delay.nanos ?? 0) / 1e9;
      } else if (name === 'google.rpc.BadRequest' && !details.field) {
        const [violation] = BadRequest.decode(detail.value).fieldViolations;
        if (violation) details.field = violation.field;
      }
    }
  } catch {
    // A malformed trailer: keep what was read.
  }
  return details;
}
