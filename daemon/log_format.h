// How osbd's log lines look (text for people, JSON lines for collectors) and the secrets no line
// ever shows: every line is written through a formatter that replaces each known secret (API
// keys of the default connection, the profiles and requests, the TCP token) with "[redacted]".
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "spdlog/formatter.h"

namespace osb::daemon {

enum class LogFormat {
  kText,  // 2026-12-06T02:33:48.123Z info osbd serving on ...
  kJson,  // {"time":"2026-12-06T02:33:48.123Z","level":"info","msg":"osbd serving on ..."}
};

// "text" or "json"; InvalidArgument otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name);

// The secrets log lines must not show. Thread-safe. Keeps the kMaxSecrets most recently added
// (requests may bring keys of their own); one shorter than kMinLength is not kept, as replacing
// it would garble lines without hiding anything a guess could not find.
class SecretRedactor {
 public:
  static constexpr std::size_t kMaxSecrets = 64;
  static constexpr std::size_t kMinLength = 8;

  void Add(absl::string_view secret);
  // `text` with every known secret replaced by "[redacted]".
  std::string Redact(absl::string_view text) const;

 private:
  mutable absl::Mutex mu_;
  std::deque<std::string> secrets_ ABSL_GUARDED_BY(mu_);  // oldest first
};

// The process's redactor, which the formatters below consult.
SecretRedactor& LogSecrets();

// A formatter writing `format` lines, redacted by LogSecrets().
std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format);

// Makes the default logger write `format` lines, redacted by LogSecrets().
void UseLogFormat(LogFormat format);

}  // namespace osb::daemon
