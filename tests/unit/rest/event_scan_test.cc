// The fast event reader against the full parser: whatever it reads, it reads exactly as the full
// parse of the same text does, and it steps aside for everything else.
#include "rest/event_scan.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "rest/execd.h"

namespace rest::internal {
namespace {

// The full parser's reading of `text` (a DOM first, as before the fast path existed).
absl::StatusOr<ServerStreamEvent> FullParse(const std::string& text) {
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("not JSON");
  return ParseServerStreamEvent(j);
}

void ExpectSameAsFullParse(const std::string& text) {
  std::optional<ServerStreamEvent> fast = ScanFlatEvent(text);
  ASSERT_TRUE(fast.has_value()) << text;
  auto full = FullParse(text);
  ASSERT_TRUE(full.ok()) << text << ": " << full.status();
  EXPECT_EQ(fast->type, full->type) << text;
  EXPECT_EQ(fast->text, full->text) << text;
  EXPECT_EQ(fast->timestamp_ms, full->timestamp_ms) << text;
  EXPECT_EQ(fast->execution_count, full->execution_count) << text;
  EXPECT_EQ(fast->execution_time_ms, full->execution_time_ms) << text;
  EXPECT_FALSE(fast->results.has_value());
  EXPECT_FALSE(fast->error.has_value());
}

TEST(ScanFlatEventTest, ReadsCommandEventsExactlyAsTheFullParser) {
  for (const std::string text : {
           R"({"type":"stdout","text":"hello","timestamp":1700000000000})",
           R"({"type":"init","text":"b6a4c0e2","timestamp":1})",
           R"({"type":"ping","timestamp":-3})",
           R"({"type":"execution_complete","execution_time":12,"timestamp":5})",
           R"({"type":"stderr","text":"a\"b\\c\/d\n\t\r\b\f","timestamp":0})",
           "{\"type\":\"stdout\",\"text\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}",
           R"( { "type" : "stdout" , "text" : "" , "timestamp" : 7 } )",
           R"({"type":"stdout","type":"stderr","text":"last wins"})",
           R"({"type":"stdout","future_field":"ignored","text":"x"})",
           R"({"type":"result","execution_count":3,"timestamp":999999999999999999})",
       }) {
    ExpectSameAsFullParse(text);
  }
}

TEST(ScanFlatEventTest, StepsAsideForAnythingElse) {
  for (const std::string text : {
           R"({"type":"stdout","text":"\u00e9"})",            // \u escapes: the full parser
           R"({"type":"result","results":{"text/plain":"1"}})",  // nested members
           R"({"type":"error","error":{"ename":"E","evalue":"1","traceback":[]}})",
           R"({"type":"stdout","text":null})",
           R"({"type":"stdout","timestamp":1.5})",
           R"({"type":"stdout","timestamp":1e3})",
           R"({"type":"stdout","timestamp":01})",
           R"({"type":"stdout","timestamp":1234567890123456789})",  // 19 digits
           R"({"type":"stdout","results":"not an object"})",
           R"({"type":"stdout","flag":true})",
           R"({"type":"","text":"x"})",
           R"({"text":"no type"})",
           R"({})",
           R"({"type":"stdout",})",
           R"({"type":"stdout"} trailing)",
           R"({"type":"stdout")",
           R"({"type":"stdout","text":"\x"})",
           "{\"type\":\"stdout\",\"text\":\"\xC3\"}",          // cut UTF-8
           "{\"type\":\"stdout\",\"text\":\"\xED\xA0\x80\"}",  // a surrogate
           "{\"type\":\"stdout\",\"text\":\"a\x01\"}",         // a raw control character
           R"([{"type":"stdout"}])",
           "",
       }) {
    EXPECT_FALSE(ScanFlatEvent(text).has_value()) << text;
  }
}

TEST(ScanFlatEventTest, TheParserAnswersAlikeWithOrWithoutIt) {
  // Texts it steps aside for still parse (or fail) as before, through the public entry point.
  auto unicode = ParseServerStreamEvent(R"({"type":"stdout","text":"\u00e9"})");
  ASSERT_TRUE(unicode.ok());
  EXPECT_EQ(unicode->text, "\xC3\xA9");
  EXPECT_FALSE(ParseServerStreamEvent(R"({"type":"","text":"x"})").ok());
  EXPECT_FALSE(ParseServerStreamEvent(R"({"type":"stdout","timestamp":"soon"})").ok());
  auto fast = ParseServerStreamEvent(R"({"type":"stdout","text":"x","timestamp":4})");
  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(fast->text, "x");
  EXPECT_EQ(fast->timestamp_ms, 4);
}

}  // namespace
}  // namespace rest::internal
