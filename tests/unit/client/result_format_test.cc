// osbctl's -o formats.
#include "client/osbctl/result_format.h"

#include <gtest/gtest.h>

namespace osb::cli {
namespace {

const nlohmann::ordered_json kList = nlohmann::ordered_json::parse(R"({
  "sandboxes": [
    {"id": "a1", "status": {"state": "Running"}, "image": "debian"},
    {"id": "b22", "image": "python:3.11", "entrypoint": ["sleep", "1"]}
  ],
  "pagination": {"page": 1, "total_pages": 1, "total_items": "2"}
})");

TEST(ResultFormatTest, ParsesTheFourNames) {
  ResultFormat f;
  EXPECT_TRUE(ParseResultFormat("yaml", &f));
  EXPECT_EQ(f, ResultFormat::kYaml);
  EXPECT_TRUE(ParseResultFormat("table", &f));
  EXPECT_EQ(f, ResultFormat::kTable);
  EXPECT_FALSE(ParseResultFormat("xml", &f));
}

TEST(ResultFormatTest, ATableShowsTheRowsOfTheFirstListWithItsScalarColumnsAndItsPage) {
  EXPECT_EQ(FormatResult(kList, ResultFormat::kTable),
            "id   image\n"
            "a1   debian\n"
            "b22  python:3.11\n"
            "page 1 of 1 (2 items)\n");
}

TEST(ResultFormatTest, ATableOfOneObjectListsItsFields) {
  auto one = nlohmann::ordered_json::parse(R"({"id": "a1", "status": {"state": "Paused"}})");
  EXPECT_EQ(FormatResult(one, ResultFormat::kTable),
            "FIELD   VALUE\n"
            "id      a1\n"
            "status  {\"state\":\"Paused\"}\n");
}

TEST(ResultFormatTest, YamlKeepsTheOrderAndQuotesStrings) {
  EXPECT_EQ(FormatResult(kList, ResultFormat::kYaml),
            "\"sandboxes\":\n"
            "  -\n"
            "    \"id\": \"a1\"\n"
            "    \"status\":\n"
            "      \"state\": \"Running\"\n"
            "    \"image\": \"debian\"\n"
            "  -\n"
            "    \"id\": \"b22\"\n"
            "    \"image\": \"python:3.11\"\n"
            "    \"entrypoint\":\n"
            "      - \"sleep\"\n"
            "      - \"1\"\n"
            "\"pagination\":\n"
            "  \"page\": 1\n"
            "  \"total_pages\": 1\n"
            "  \"total_items\": \"2\"\n");
}

TEST(ResultFormatTest, RawIsOneLineAndJsonIsIndented) {
  auto one = nlohmann::ordered_json::parse(R"({"b": 1, "a": [true]})");
  EXPECT_EQ(FormatResult(one, ResultFormat::kRaw), "{\"b\":1,\"a\":[true]}\n");
  EXPECT_EQ(FormatResult(one, ResultFormat::kJson), "{\n  \"b\": 1,\n  \"a\": [\n    true\n  ]\n}\n");
}

}  // namespace
}  // namespace osb::cli
