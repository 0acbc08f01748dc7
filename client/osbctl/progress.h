// The progress of `file upload` and `file download`: one line on stderr, redrawn in place at
// most ten times a second, and only when stderr is a terminal (never in pipes, logs or scripts).
//
//   report.txt  12.0 MiB / 48.0 MiB  25%  96.1 MB/s
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace osb::cli {

class Progress {
 public:
  // `total` in bytes, or -1 when unknown (then no percentage).
  Progress(std::string label, int64_t total);

  void SetTotal(int64_t total) { total_ = total; }
  void Add(int64_t bytes);
  // Draws the final state and ends the line (nothing when not shown).
  void Finish();

  bool shown() const { return shown_; }

 private:
  void Draw();

  std::string label_;
  int64_t total_;
  int64_t done_ = 0;
  std::size_t drawn_width_ = 0;  // of the line drawn last, its leading '\r' included
  bool shown_;
  absl::Time started_, last_draw_ = absl::InfinitePast();
};

}  // namespace osb::cli
