// google.protobuf.Timestamp (as proto-loader gives it, int64 seconds as numbers) to JavaScript.

/** A Date, or undefined for an unset timestamp. */
export function toDate(timestamp) {
  return timestamp ? new Date(timestamp.seconds * 1000 + timestamp.nanos / 1e6) : undefined;
}

/** Unix milliseconds, or 0 for an unset timestamp (or a Duration's length in milliseconds). */
export function toMillis(timestamp) {
  return timestamp ? timestamp.seconds * 1000 + Math.floor(timestamp.nanos / 1e6) : 0;
}
