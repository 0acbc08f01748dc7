#include "daemon/log_format.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "spdlog/spdlog.h"

namespace osb::daemon {
namespace {

constexpr absl::string_view kRedacted = "[redacted]";

std::string Timestamp(spdlog::log_clock::time_point when) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(when), absl::UTCTimeZone());
}

absl::string_view LevelName(spdlog::level::level_enum level) {
  const auto& name = spdlog::level::to_string_view(level);
  return {name.data(), name.size()};
}

class RedactingFormatter final : public spdlog::formatter {
 public:
  explicit RedactingFormatter(LogFormat format) : format_(format) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string text =
        LogSecrets().Redact(absl::string_view(msg.payload.data(), msg.payload.size()));
    std::string line;
    if (format_ == LogFormat::kJson) {
      nlohmann::json record = {{"time", Timestamp(msg.time)},
                               {"level", std::string(LevelName(msg.level))},
                               {"msg", text}};
      // A message that is not UTF-8 (a path, say) keeps its line: bad bytes become U+FFFD.
      line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } else {
      line = absl::StrCat(Timestamp(msg.time), " ", LevelName(msg.level), " ", text);
    }
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<RedactingFormatter>(format_);
  }

 private:
  const LogFormat format_;
};

}  // namespace

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("log format '", name, "' is neither text nor json"));
}

void SecretRedactor::Add(absl::string_view secret) {
  if (secret.size() < kMinLength) return;
  absl::MutexLock lock(&mu_);
  auto known = std::find(secrets_.begin(), secrets_.end(), secret);
  if (known != secrets_.end()) {
    if (known + 1 == secrets_.end()) return;  // the newest already: the common case
    secrets_.erase(known);
  }
  secrets_.emplace_back(secret);
  if (secrets_.size() > kMaxSecrets) secrets_.pop_front();
}

std::string SecretRedactor::Redact(absl::string_view text) const {
  std::string out(text);
  absl::MutexLock lock(&mu_);
  for (const std::string& secret : secrets_) {
    if (out.find(secret) != std::string::npos) {
      out = absl::StrReplaceAll(out, {{secret, kRedacted}});
    }
  }
  return out;
}

SecretRedactor& LogSecrets() {
  static auto* redactor = new SecretRedactor();  // never destroyed: logging may outlive main
  return *redactor;
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format) {
  return std::make_unique<RedactingFormatter>(format);
}

void UseLogFormat(LogFormat format) { spdlog::set_formatter(MakeLogFormatter(format)); }

}  // namespace osb::daemon
