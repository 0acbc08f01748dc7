// osbd's log lines: text or JSON, and never a known secret.
#include "daemon/log_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "spdlog/details/log_msg.h"

namespace osb::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Format(LogFormat format, spdlog::level::level_enum level, std::string_view text) {
  spdlog::details::log_msg msg(spdlog::source_loc{}, "osbd", level,
                               spdlog::string_view_t(text.data(), text.size()));
  spdlog::memory_buf_t out;
  MakeLogFormatter(format)->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(LogFormatTest, NamesAreTextAndJson) {
  EXPECT_EQ(*ParseLogFormat("text"), LogFormat::kText);
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  auto bad = ParseLogFormat("xml");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("'xml'"));
}

TEST(LogFormatTest, AJsonLineIsOneObjectWithTimeLevelAndMessage) {
  const std::string line =
      Format(LogFormat::kJson, spdlog::level::warn, "cannot \"reach\" a\tb \xff end");
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line";
  auto record = nlohmann::json::parse(line);
  EXPECT_EQ(record["level"], "warning");
  EXPECT_EQ(record["msg"], "cannot \"reach\" a\tb \xEF\xBF\xBD end") << "bad UTF-8 replaced";
  const std::string time = record["time"];
  EXPECT_EQ(time.size(), 24u) << time;  // 2026-12-06T02:33:48.123Z
  EXPECT_EQ(time.back(), 'Z') << time;
}

TEST(LogFormatTest, ATextLineIsTimeLevelMessage) {
  const std::string line = Format(LogFormat::kText, spdlog::level::info, "osbd serving");
  EXPECT_EQ(line.substr(24), " info osbd serving\n") << line;
}

TEST(LogFormatTest, KnownSecretsNeverReachALine) {
  const std::string key = "osb-key-0123456789abcdef";
  LogSecrets().Add(key);
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson}) {
    const std::string line = Format(format, spdlog::level::err,
                                    absl::StrCat("sent OPEN-SANDBOX-API-KEY: ", key, " twice ",
                                                 key));
    EXPECT_THAT(line, Not(HasSubstr(key)));
    EXPECT_THAT(line, HasSubstr("OPEN-SANDBOX-API-KEY: [redacted] twice [redacted]"));
  }
}

TEST(SecretRedactorTest, ShortSecretsAreIgnoredAndTheNewestAreKept) {
  SecretRedactor redactor;
  redactor.Add("");
  redactor.Add("short");  // under kMinLength: replacing it would garble lines
  EXPECT_EQ(redactor.Redact("a short line"), "a short line");
  redactor.Add("first-secret");
  for (std::size_t i = 0; i < SecretRedactor::kMaxSecrets - 1; ++i) {
    redactor.Add(absl::StrCat("secret-number-", i));
  }
  EXPECT_EQ(redactor.Redact("first-secret"), "[redacted]") << "still among the newest";
  redactor.Add("first-secret");  // used again: the newest now
  redactor.Add("one-more-secret");
  EXPECT_EQ(redactor.Redact("first-secret"), "[redacted]");
  EXPECT_EQ(redactor.Redact("secret-number-0"), "secret-number-0") << "the oldest went";
  EXPECT_EQ(redactor.Redact("secret-number-1 one-more-secret"), "[redacted] [redacted]");
}

}  // namespace
}  // namespace osb::daemon
