#include "runtime/server/multipart_relay.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "rest/string_views.h"

namespace osb::runtime {
namespace {

// A parameter value of Content-Disposition: quotes and line breaks cannot appear inside it.
std::string Quoted(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') {
      out += "%22";
    } else if (c == '\r' || c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type) {
  absl::string_view ct = rest::AbslView(content_type);
  for (absl::string_view param : absl::StrSplit(ct, ';')) {
    param = absl::StripAsciiWhitespace(param);
    if (!absl::StartsWithIgnoreCase(param, "boundary=")) continue;
    absl::string_view value = param.substr(9);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (!value.empty() && value.size() <= 70) return std::string(value);
  }
  return absl::InvalidArgumentError("the multipart Content-Type has no valid boundary");
}

bool MultipartRelay::OnPartHeader(const httplib::MultipartFormData& part) {
  std::string head = first_ ? "" : "\r\n";
  first_ = false;
  absl::StrAppend(&head, "--", boundary_,
                  "\r\nContent-Disposition: form-data; name=", Quoted(part.name));
  if (!part.filename.empty()) absl::StrAppend(&head, "; filename=", Quoted(part.filename));
  if (!part.content_type.empty()) {
    std::string type = part.content_type;
    absl::StrReplaceAll({{"\r", " "}, {"\n", " "}}, &type);
    absl::StrAppend(&head, "\r\nContent-Type: ", type);
  }
  absl::StrAppend(&head, "\r\n\r\n");
  return Gather(head);
}

bool MultipartRelay::OnData(const char* data, std::size_t size) {
  return Gather(std::string_view(data, size));
}

bool MultipartRelay::Gather(std::string_view piece) {
  pending_.append(piece);
  if (pending_.size() < kBatch) return true;
  const bool sent = send_(pending_);
  pending_.clear();
  return sent;
}

bool MultipartRelay::Finish() {
  absl::StrAppend(&pending_, first_ ? "" : "\r\n", "--", boundary_, "--\r\n");
  const bool sent = send_(pending_);
  pending_.clear();
  return sent;
}

}  // namespace osb::runtime
