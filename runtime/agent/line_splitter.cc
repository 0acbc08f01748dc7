#include "runtime/agent/line_splitter.h"

#include <algorithm>
#include <cstring>

namespace osb::agent {
namespace {

// The first CR or LF of `s`, or npos. Two memchr scans: string_view::find_first_of tests the
// set byte by byte, which made it the hottest spot of streaming output.
std::size_t FindLineBreak(std::string_view s) {
  const char* p = s.data();
  const auto* lf = static_cast<const char*>(std::memchr(p, '\n', s.size()));
  const std::size_t limit = lf != nullptr ? static_cast<std::size_t>(lf - p) : s.size();
  const auto* cr = static_cast<const char*>(std::memchr(p, '\r', limit));
  if (cr != nullptr) return static_cast<std::size_t>(cr - p);
  return lf != nullptr ? limit : std::string_view::npos;
}

}  // namespace

void LineSplitter::Emit(const Sink& sink) {
  if (partial_.empty()) {
    sink("\n");
  } else {
    sink(partial_);
    partial_.clear();
  }
}

void LineSplitter::Feed(std::string_view bytes, const Sink& sink) {
  while (!bytes.empty()) {
    if (after_cr_ && bytes.front() == '\n') {  // the LF of a CRLF: the line was already reported
      bytes.remove_prefix(1);
    }
    after_cr_ = false;
    std::size_t end = FindLineBreak(bytes);
    std::string_view run = bytes.substr(0, end);
    if (end != std::string_view::npos && partial_.empty() && !run.empty() &&
        run.size() < max_line_) {
      // A whole line inside this chunk goes out as it is, never copied.
      sink(run);
      just_split_ = false;
      after_cr_ = bytes[end] == '\r';
      bytes.remove_prefix(end + 1);
      continue;
    }
    // Runs of ordinary bytes are appended whole: output is scanned, not copied byte by byte.
    while (!run.empty()) {
      std::size_t take = std::min(run.size(), max_line_ - partial_.size());
      partial_.append(run.substr(0, take));
      run.remove_prefix(take);
      just_split_ = false;
      if (partial_.size() >= max_line_) {
        sink(partial_);
        partial_.clear();
        just_split_ = true;
      }
    }
    if (end == std::string_view::npos) return;
    after_cr_ = bytes[end] == '\r';
    // A line whose last piece filled max_line exactly was reported whole already.
    if (!(partial_.empty() && just_split_)) Emit(sink);
    just_split_ = false;
    bytes.remove_prefix(end + 1);
  }
}

void LineSplitter::Flush(const Sink& sink) {
  if (!partial_.empty()) {
    sink(partial_);
    partial_.clear();
  }
  after_cr_ = false;
  just_split_ = false;
}

}  // namespace osb::agent
