#include "client/osbctl/progress.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace osb::cli {
namespace {

constexpr absl::Duration kRedrawEvery = absl::Milliseconds(100);

std::string Size(int64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
}

}  // namespace

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), shown_(::isatty(2) == 1), started_(absl::Now()) {}

void Progress::Add(int64_t bytes) {
  done_ += bytes;
  if (shown_ && absl::Now() - last_draw_ >= kRedrawEvery) Draw();
}

void Progress::Finish() {
  if (!shown_) return;
  Draw();
  std::fputc('\n', stderr);
}

void Progress::Draw() {
  last_draw_ = absl::Now();
  const double seconds = absl::ToDoubleSeconds(last_draw_ - started_);
  std::string line = absl::StrFormat("\r%s  %s", label_, Size(done_));
  if (total_ >= 0) {
    absl::StrAppendFormat(&line, " / %s  %d%%", Size(total_),
                          total_ == 0 ? 100 : static_cast<int>(done_ * 100 / total_));
  }
  if (seconds > 0) {
    absl::StrAppendFormat(&line, "  %.1f MB/s", static_cast<double>(done_) / seconds / 1e6);
  }
  // Blanks over what a longer earlier line left behind with spaces, not the erase-line escape:
  // osbctl writes no escape sequences at all, so NO_COLOR users, dumb terminals and script(1)
  // logs see plain text.
  const std::size_t width = line.size();
  if (width < drawn_width_) line.append(drawn_width_ - width, ' ');
  drawn_width_ = width;
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace osb::cli
