#include "rest/event_scan.h"

#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "rest/utf8.h"

namespace rest::internal {
namespace {

// What the escape `\c` stands for; 0 for `\u` (left to the full parser) and for no escape.
char Unescaped(char c) {
  static constexpr std::string_view kEscaped = "\"\\/bfnrt", kValue = "\"\\/\b\f\n\r\t";
  const std::size_t at = kEscaped.find(c);
  return at == std::string_view::npos ? 0 : kValue[at];
}

// Reads JSON tokens from the front of a text; every method returns false for what it does not
// handle, and the caller then gives up.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  bool AtEnd() {
    SkipSpace();
    return i_ == s_.size();
  }
  bool Peek(char c) {
    SkipSpace();
    return i_ < s_.size() && s_[i_] == c;
  }
  bool Consume(char c) {
    if (!Peek(c)) return false;
    ++i_;
    return true;
  }

  // A string with its simple escapes undone; raw UTF-8 must be well-formed (as JSON requires).
  bool String(std::string* out) {
    if (!Consume('"')) return false;
    out->clear();
    std::size_t run = i_;
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        out->append(s_.data() + run, i_ - run);
        ++i_;
        return true;
      }
      if (c == '\\') {
        out->append(s_.data() + run, i_ - run);
        if (i_ + 1 >= s_.size()) return false;
        const char value = Unescaped(s_[i_ + 1]);
        if (value == 0) return false;  // \u, or not an escape at all
        out->push_back(value);
        i_ += 2;
        run = i_;
      } else if (c < 0x20) {
        return false;
      } else if (c >= 0x80) {
        const std::size_t n = Utf8SequenceLength(s_, i_);
        if (n == 0) return false;
        i_ += n;
      } else {
        ++i_;
      }
    }
    return false;
  }

  // An integer of at most 18 digits (always within int64), in JSON's form (no leading zeros).
  bool Integer(int64_t* out) {
    SkipSpace();
    const std::size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    const std::size_t digits = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    const std::size_t n = i_ - digits;
    if (n == 0 || n > 18 || (n > 1 && s_[digits] == '0')) return false;
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return false;
    return absl::SimpleAtoi(absl::string_view(s_.data() + start, i_ - start), out);
  }

 private:
  void SkipSpace() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

std::optional<ServerStreamEvent> ScanFlatEvent(std::string_view json_text) {
  Scanner scan(json_text);
  if (!scan.Consume('{')) return std::nullopt;
  ServerStreamEvent e;
  std::string key, ignored;
  do {
    if (!scan.String(&key) || !scan.Consume(':')) return std::nullopt;
    if (key == "type" || key == "text") {
      if (!scan.String(key == "type" ? &e.type : &e.text)) return std::nullopt;
    } else if (key == "execution_count" || key == "execution_time" || key == "timestamp") {
      int64_t* value = key == "execution_count"  ? &e.execution_count
                       : key == "execution_time" ? &e.execution_time_ms
                                                 : &e.timestamp_ms;
      if (!scan.Integer(value)) return std::nullopt;
    } else if (key == "results" || key == "error" || !scan.Peek('"') || !scan.String(&ignored)) {
      return std::nullopt;  // what the full parser reads, or an unknown member it skips
    }
  } while (scan.Consume(','));
  if (!scan.Consume('}') || !scan.AtEnd() || e.type.empty()) return std::nullopt;
  return e;
}

}  // namespace rest::internal
