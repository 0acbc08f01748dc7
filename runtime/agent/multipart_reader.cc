#include "runtime/agent/multipart_reader.h"

#include <string.h>

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rest/string_views.h"

namespace osb::agent {
namespace {

using rest::AbslView;

constexpr std::size_t kMaxBoundary = 200;
// Spaces and tabs a sender may put between a boundary and its line's CRLF (RFC 2046's
// transport padding): a few are padding, more are a body that is not multipart.
constexpr std::size_t kMaxPadding = 64;

absl::Status Malformed(std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed multipart body: ", AbslView(why)));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(AbslView(a), AbslView(b));
}

using Parameters = std::vector<std::pair<std::string, std::string>>;

// `; key=value; key="quoted value"` after a media type or disposition type. Keys are lower-cased.
// A quoted value ends at the next quote, with no backslash escapes: browsers and the SDKs'
// HTTP libraries write a form's names and filenames as HTML does (a quote as %22, a backslash as
// itself: `filename="C:\dir\a.txt"`).
absl::StatusOr<Parameters> ParseParameters(std::string_view s) {
  Parameters out;
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ';' || s[i] == ' ' || s[i] == '\t') {
      ++i;
      continue;
    }
    std::size_t key_end = s.find_first_of("=;", i);
    std::string key(Trim(s.substr(i, key_end == std::string_view::npos ? key_end : key_end - i)));
    absl::AsciiStrToLower(&key);
    if (key_end == std::string_view::npos || s[key_end] == ';') {
      out.emplace_back(std::move(key), "");  // a parameter without a value
      i = key_end;
      continue;
    }
    i = key_end + 1;
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::string value;
    if (i < s.size() && s[i] == '"') {
      const std::size_t close = s.find('"', i + 1);
      if (close == std::string_view::npos) {
        return Malformed(absl::StrCat("the quoted value of ", key, " is not closed"));
      }
      value = std::string(s.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      std::size_t end = s.find(';', i);
      value = std::string(Trim(s.substr(i, end == std::string_view::npos ? end : end - i)));
      i = end;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

// The type before the first `;`, and the parameters after it.
absl::StatusOr<std::pair<std::string_view, Parameters>> SplitTypeAndParameters(
    std::string_view header) {
  const std::size_t semicolon = header.find(';');
  std::string_view type = Trim(header.substr(0, semicolon));
  if (semicolon == std::string_view::npos) return std::make_pair(type, Parameters{});
  auto parameters = ParseParameters(header.substr(semicolon + 1));
  if (!parameters.ok()) return parameters.status();
  return std::make_pair(type, *std::move(parameters));
}

const std::string* Find(const Parameters& parameters, std::string_view key) {
  for (const auto& [k, v] : parameters) {
    if (k == key) return &v;
  }
  return nullptr;
}

// A part's header block: lines that each end with CRLF (the empty line after them excluded).
absl::StatusOr<MultipartPart> ParsePartHeaders(std::string_view block) {
  std::vector<std::pair<std::string, std::string>> headers;
  while (!block.empty()) {
    const std::size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    if (line.empty()) continue;
    if (line.front() == ' ' || line.front() == '\t') {  // folded onto the previous header
      if (headers.empty()) return Malformed("a part's headers begin with a continuation line");
      absl::StrAppend(&headers.back().second, " ", AbslView(Trim(line)));
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Malformed("a part header has no colon");
    headers.emplace_back(std::string(Trim(line.substr(0, colon))),
                         std::string(Trim(line.substr(colon + 1))));
  }
  MultipartPart part;
  bool has_disposition = false;
  for (const auto& [name, value] : headers) {
    if (IEquals(name, "Content-Type")) {
      part.content_type = value;
    } else if (IEquals(name, "Content-Disposition")) {
      auto split = SplitTypeAndParameters(value);
      if (!split.ok()) return split.status();
      if (!IEquals(split->first, "form-data")) {
        return Malformed(absl::StrCat("a part is \"", AbslView(split->first), "\", not form-data"));
      }
      const std::string* field = Find(split->second, "name");
      if (field == nullptr) return Malformed("a part's Content-Disposition has no name");
      part.name = *field;
      if (const std::string* filename = Find(split->second, "filename")) {
        part.filename = *filename;
      }
      has_disposition = true;
    }
  }
  if (!has_disposition) return Malformed("a part has no Content-Disposition header");
  return part;
}

// Where `needle` first occurs in `haystack` at or after `from`, or npos.
std::size_t Search(std::string_view haystack, std::string_view needle, std::size_t from) {
  if (from >= haystack.size()) return std::string_view::npos;
  const void* at = ::memmem(haystack.data() + from, haystack.size() - from, needle.data(),
                            needle.size());
  return at == nullptr ? std::string_view::npos
                       : static_cast<std::size_t>(static_cast<const char*>(at) - haystack.data());
}

}  // namespace

absl::StatusOr<std::string> MultipartBoundary(std::string_view content_type) {
  auto split = SplitTypeAndParameters(content_type);
  if (!split.ok()) return split.status();
  if (!IEquals(split->first, "multipart/form-data")) {
    return absl::InvalidArgumentError(
        absl::StrCat("the body is \"", AbslView(split->first), "\", not multipart/form-data"));
  }
  const std::string* boundary = Find(split->second, "boundary");
  if (boundary == nullptr || boundary->empty()) {
    return absl::InvalidArgumentError("the multipart/form-data Content-Type has no boundary");
  }
  if (boundary->size() > kMaxBoundary) {
    return absl::InvalidArgumentError(
        absl::StrCat("the multipart boundary is longer than ", kMaxBoundary, " characters"));
  }
  return *boundary;
}

MultipartReader::MultipartReader(std::string_view boundary, PartCallback on_part,
                                 DataCallback on_data)
    : delimiter_(absl::StrCat("\r\n--", AbslView(boundary))),
      on_part_(std::move(on_part)),
      on_data_(std::move(on_data)) {}

bool MultipartReader::Feed(std::string_view piece) {
  if (state_ == State::kDone) return true;
  if (state_ == State::kFailed) return false;
  buffer_.append(piece.data(), piece.size());
  std::size_t pos = 0;
  for (;;) {
    const State before = state_;
    const std::size_t next = Step(pos);
    if (next == std::string_view::npos) {
      buffer_.clear();
      return false;
    }
    if (state_ == State::kDone) {
      buffer_.clear();
      return true;
    }
    if (next == pos && state_ == before) break;  // needs more of the body
    pos = next;
  }
  buffer_.erase(0, pos);
  return true;
}

std::size_t MultipartReader::Step(std::size_t pos) {
  const std::string_view buf(buffer_);
  const std::size_t left = buf.size() - pos;
  switch (state_) {
    case State::kPreamble: {
      // Skipped up to the first delimiter; only its last bytes might begin one.
      const std::size_t at = Search(buf, delimiter_, pos);
      if (at != std::string_view::npos) {
        state_ = State::kAfterDelimiter;
        return at + delimiter_.size();
      }
      return left >= delimiter_.size() ? buf.size() - delimiter_.size() + 1 : pos;
    }
    case State::kAfterDelimiter: {
      if (left < 2) return pos;
      if (buf.substr(pos, 2) == "--") {
        state_ = State::kDone;
        return buf.size();
      }
      std::size_t i = pos;
      while (i < buf.size() && (buf[i] == ' ' || buf[i] == '\t')) ++i;
      const bool line_ended = buf.size() - i >= 2;
      if (i - pos > kMaxPadding || (line_ended && buf.substr(i, 2) != "\r\n")) {
        return Fail(Malformed("a boundary line goes on after the boundary"));
      }
      if (!line_ended) return pos;
      state_ = State::kHeaders;
      return i;  // the CRLF stays: the header block is searched from it
    }
    case State::kHeaders: {
      // From the boundary line's CRLF: header lines, then an empty line.
      const std::size_t end = Search(buf, "\r\n\r\n", pos);
      // Unended, the last 3 bytes may be the start of the empty line, not headers: the limit
      // must not depend on where the body was cut.
      const std::size_t headers = end != std::string_view::npos ? end - pos
                                  : left > 3                    ? left - 3
                                                                : 0;
      if (headers > kMaxPartHeaders) {
        return Fail(Malformed(absl::StrCat("a part's headers are larger than ",
                                           kMaxPartHeaders / 1024, " KiB")));
      }
      if (end == std::string_view::npos) return pos;
      auto part = ParsePartHeaders(buf.substr(pos + 2, end - pos));
      if (!part.ok()) return Fail(part.status());
      state_ = State::kContent;
      if (!on_part_(*part)) return Fail(absl::CancelledError("the reader stopped"));
      return end + 4;
    }
    case State::kContent: {
      // Everything up to the next delimiter, less what might begin one at the end.
      const std::size_t at = Search(buf, delimiter_, pos);
      const std::size_t end = at != std::string_view::npos        ? at
                              : left >= delimiter_.size() ? buf.size() - delimiter_.size() + 1
                                                          : pos;
      if (end > pos && !on_data_(buf.substr(pos, end - pos))) {
        return Fail(absl::CancelledError("the reader stopped"));
      }
      if (at == std::string_view::npos) return end;
      state_ = State::kAfterDelimiter;
      return at + delimiter_.size();
    }
    case State::kDone:
    case State::kFailed:
      break;
  }
  return pos;
}

std::size_t MultipartReader::Fail(absl::Status status) {
  state_ = State::kFailed;
  status_ = std::move(status);
  return std::string_view::npos;
}

absl::Status MultipartReader::Finish() {
  if (state_ == State::kFailed) return status_;
  if (state_ == State::kDone) return absl::OkStatus();
  Fail(Malformed("the body ended before its closing boundary"));
  return status_;
}

}  // namespace osb::agent
