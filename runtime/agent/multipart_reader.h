// A multipart/form-data body (RFC 7578, RFC 2046 §5.1) read as it arrives, in pieces of any size:
// each part's headers are announced, then its content is handed on in pieces, never held whole.
// osb-agent's uploads use it instead of cpp-httplib's parser, which searches for the boundary one
// byte at a time (half of the agent's time during an upload).
//
//   MultipartReader reader(boundary, on_part, on_data);
//   for (each piece of the body) if (!reader.Feed(piece)) break;
//   absl::Status s = reader.Finish();
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace osb::agent {

// The headers of one part that matter to a form: its Content-Disposition's name and filename,
// and its Content-Type ("" when absent).
struct MultipartPart {
  std::string name;
  std::string filename;
  std::string content_type;
};

// The boundary of a `multipart/form-data` Content-Type; InvalidArgument for another media type,
// or a boundary that is missing, empty or longer than 200 characters.
absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type);

class MultipartReader {
 public:
  // Either callback returns false to stop the reading; Feed then returns false.
  using PartCallback = std::function<bool(const MultipartPart&)>;
  using DataCallback = std::function<bool(std::string_view)>;

  // The largest header block of one part.
  static constexpr std::size_t kMaxPartHeaders = 16 * 1024;

  MultipartReader(std::string_view boundary, PartCallback on_part, DataCallback on_data);

  // The next piece of the body. False when the body is malformed (status() says how) or a
  // callback stopped it; every later call returns false too. Bytes after the closing boundary
  // (the epilogue) are ignored.
  bool Feed(std::string_view piece);

  // After the last piece: OK when the closing boundary was read, else why not.
  absl::Status Finish();

  // OK until the body proved malformed (or a callback stopped it: Cancelled).
  const absl::Status& status() const { return status_; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kContent, kDone, kFailed };

  // One step over buffer_ from `pos`: where it got to (`pos` itself, in the same state, when it
  // needs more of the body), or npos when the body failed.
  std::size_t Step(std::size_t pos);
  std::size_t Fail(absl::Status status);  // npos

  const std::string delimiter_;  // CRLF "--" boundary
  PartCallback on_part_;
  DataCallback on_data_;
  State state_ = State::kPreamble;
  // Bytes not consumed yet: at most a piece plus a delimiter's length. It starts with a CRLF, so
  // that a body opening with its first boundary line matches the delimiter like every other.
  std::string buffer_ = "\r\n";
  absl::Status status_;
};

}  // namespace osb::agent
