#include "tests/integration/http_relay.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace osb::test {
namespace {

constexpr std::size_t kMaxLine = 64 * 1024;

BodyFraming FramingOf(const HttpHead& head, bool may_run_to_close) {
  if (head.HasToken("Transfer-Encoding", "chunked")) return {BodyFraming::kChunked};
  uint64_t length = 0;
  if (absl::SimpleAtoi(head.Field("Content-Length"), &length)) {
    return {length == 0 ? BodyFraming::kNone : BodyFraming::kLength, length};
  }
  return {may_run_to_close ? BodyFraming::kUntilClose : BodyFraming::kNone};
}

}  // namespace

bool SocketReader::Line(std::string* line) {
  for (;;) {
    std::size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      line->assign(buf_, pos_, nl - pos_);
      if (!line->empty() && line->back() == '\r') line->pop_back();
      pos_ = nl + 1;
      return true;
    }
    if (buf_.size() - pos_ > kMaxLine || !Fill()) return false;
  }
}

bool SocketReader::Some(std::size_t max, std::string* out) {
  if (pos_ == buf_.size() && !Fill()) return false;
  const std::size_t n = std::min(max, buf_.size() - pos_);
  out->assign(buf_, pos_, n);
  pos_ += n;
  return true;
}

bool SocketReader::Fill() {
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  char chunk[16 * 1024];
  for (;;) {
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

std::string HttpHead::Field(absl::string_view name) const {
  for (const auto& [k, v] : fields) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

bool HttpHead::HasToken(absl::string_view name, absl::string_view token) const {
  for (absl::string_view part : absl::StrSplit(Field(name), ',')) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(part), token)) return true;
  }
  return false;
}

int HttpHead::Status() const {
  std::vector<absl::string_view> parts = absl::StrSplit(start, ' ');
  int status = 0;
  if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &status)) return 0;
  return status;
}

bool ReadHead(SocketReader& in, HttpHead* head) {
  *head = HttpHead();
  std::string line;
  do {  // a stray blank line before a message is allowed (RFC 9112 §2.2)
    if (!in.Line(&line)) return false;
  } while (line.empty());
  head->start = line;
  head->raw = line + "\r\n";
  for (;;) {
    if (!in.Line(&line)) return false;
    head->raw += line + "\r\n";
    if (line.empty()) return true;
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    head->fields.emplace_back(
        std::string(absl::StripAsciiWhitespace(absl::string_view(line).substr(0, colon))),
        std::string(absl::StripAsciiWhitespace(absl::string_view(line).substr(colon + 1))));
  }
}

BodyFraming RequestFraming(const HttpHead& request) {
  return FramingOf(request, /*may_run_to_close=*/false);
}

BodyFraming ResponseFraming(const HttpHead& response, const std::string& request_method) {
  const int status = response.Status();
  if (request_method == "HEAD" || status == 204 || status == 304) return {};
  return FramingOf(response, /*may_run_to_close=*/true);
}

bool RelayBody(SocketReader& in, int out, const BodyFraming& framing, uint64_t* budget) {
  auto write = [&](std::string_view bytes) {
    if (out < 0) return true;
    const bool within = bytes.size() <= *budget;
    if (!within) bytes = bytes.substr(0, *budget);
    *budget -= bytes.size();
    return SendAll(out, bytes) && within;
  };
  auto copy = [&](uint64_t n) {
    std::string piece;
    while (n > 0) {
      if (!in.Some(std::min<uint64_t>(n, 64 * 1024), &piece) || !write(piece)) return false;
      n -= piece.size();
    }
    return true;
  };
  switch (framing.kind) {
    case BodyFraming::kNone:
      return true;
    case BodyFraming::kLength:
      return copy(framing.length);
    case BodyFraming::kUntilClose: {
      std::string piece;
      while (in.Some(64 * 1024, &piece)) {
        if (!write(piece)) return false;
      }
      return true;
    }
    case BodyFraming::kChunked:
      break;
  }
  std::string line;
  for (;;) {
    if (!in.Line(&line) || !write(line + "\r\n")) return false;
    uint64_t size = 0;
    const std::string hex = line.substr(0, line.find(';'));
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(hex), &size)) return false;
    if (size == 0) break;
    if (!copy(size) || !in.Line(&line) || !write("\r\n")) return false;
  }
  do {  // trailer fields, then the blank line that ends the message
    if (!in.Line(&line) || !write(line + "\r\n")) return false;
  } while (!line.empty());
  return true;
}

}  // namespace osb::test
