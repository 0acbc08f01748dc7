#include "runtime/agent/multipart_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace osb::agent {
namespace {

using ::testing::HasSubstr;

// What a reader saw: one line per part ("name|filename|type") followed by its content.
struct Seen {
  std::vector<std::string> parts;
  std::vector<std::string> contents;
  absl::Status status;
};

// Feeds `body` in pieces of `piece` bytes (0: whole).
Seen Read(const std::string& body, std::size_t piece = 0, const std::string& boundary = "XyZ") {
  Seen seen;
  MultipartReader reader(
      boundary,
      [&](const MultipartPart& p) {
        seen.parts.push_back(p.name + "|" + p.filename + "|" + p.content_type);
        seen.contents.emplace_back();
        return true;
      },
      [&](std::string_view data) {
        seen.contents.back().append(data);
        return true;
      });
  bool ok = true;
  if (piece == 0) piece = body.size() + 1;
  for (std::size_t i = 0; ok && i < body.size(); i += piece) {
    ok = reader.Feed(std::string_view(body).substr(i, piece));
  }
  seen.status = ok ? reader.Finish() : reader.status();
  return seen;
}

const std::string kUpload =
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"metadata\"; filename=\"metadata\"\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    "{\"path\":\"/tmp/a\"}\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=file; filename=\"C:\\dir\\a.bin\"\r\n"
    "\r\n"
    "line one\r\nx--XyZ, not after a CRLF\r\n-\r\n--Xy\r\n"
    "--XyZ--\r\n"
    "epilogue, ignored\r\n";

TEST(MultipartReader, ReadsPartsWholeAndInPiecesOfAnySize) {
  for (std::size_t piece : {0, 1, 2, 3, 5, 7, 13, 64}) {
    Seen seen = Read(kUpload, piece);
    ASSERT_TRUE(seen.status.ok()) << "pieces of " << piece << ": " << seen.status;
    EXPECT_EQ(seen.parts, (std::vector<std::string>{"metadata|metadata|application/json",
                                                    "file|C:\\dir\\a.bin|"}))
        << "pieces of " << piece;
    EXPECT_EQ(seen.contents,
              (std::vector<std::string>{
                  "{\"path\":\"/tmp/a\"}",
                  "line one\r\nx--XyZ, not after a CRLF\r\n-\r\n--Xy"}))
        << "pieces of " << piece;
  }
}

TEST(MultipartReader, SkipsThePreambleAndPaddingAndTakesEmptyParts) {
  Seen seen = Read(
      "preamble\r\n--XyZ \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--XyZ--");
  ASSERT_TRUE(seen.status.ok()) << seen.status;
  EXPECT_EQ(seen.parts, (std::vector<std::string>{"a||"}));
  EXPECT_EQ(seen.contents, (std::vector<std::string>{""}));
}

TEST(MultipartReader, ABodyWithoutItsClosingBoundaryIsTruncated) {
  for (const std::string& body :
       {std::string(""), std::string("--XyZ\r\n"), kUpload.substr(0, kUpload.find("--XyZ--")),
        kUpload.substr(0, kUpload.find("--XyZ--") + 6)}) {
    Seen seen = Read(body, 3);
    EXPECT_THAT(seen.status.message(), HasSubstr("ended before its closing boundary")) << body;
  }
}

TEST(MultipartReader, MalformedPartsAreRefusedWithTheReason) {
  struct Case {
    std::string body, why;
  };
  for (const Case& c : std::vector<Case>{
           {"--XyZ\r\n\r\nno headers\r\n--XyZ--", "no Content-Disposition"},
           {"--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\n\r\n--XyZ--",
            "not form-data"},
           {"--XyZ\r\nContent-Disposition: form-data; filename=a\r\n\r\n\r\n--XyZ--", "no name"},
           {"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\n\r\n--XyZ--", "not closed"},
           {"--XyZ\r\nno colon here\r\n\r\n\r\n--XyZ--", "no colon"},
           {"--XyZ\r\n continued\r\n\r\n\r\n--XyZ--", "continuation"},
           {"--XyZjunk\r\n", "goes on after the boundary"},
           {"--XyZ" + std::string(100, ' ') + "\r\n", "goes on after the boundary"},
           {"--XyZ\r\nX: " + std::string(MultipartReader::kMaxPartHeaders, 'h'),
            "headers are larger than"},
       }) {
    for (std::size_t piece : {0, 4}) {
      Seen seen = Read(c.body, piece);
      EXPECT_TRUE(absl::IsInvalidArgument(seen.status)) << c.body << ": " << seen.status;
      EXPECT_THAT(seen.status.message(), HasSubstr(c.why)) << c.body;
    }
  }
}

// Feeds `body` in two pieces, cut at `cut`.
absl::Status ReadCut(const std::string& body, std::size_t cut) {
  MultipartReader reader(
      "XyZ", [](const MultipartPart&) { return true; }, [](std::string_view) { return true; });
  if (!reader.Feed(std::string_view(body).substr(0, cut)) ||
      !reader.Feed(std::string_view(body).substr(cut))) {
    return reader.status();
  }
  return reader.Finish();
}

TEST(MultipartReader, TheHeaderLimitHoldsWhereverTheBodyIsCut) {
  const std::string disposition = "Content-Disposition: form-data; name=a\r\nX: ";
  for (int extra : {-2, -1, 0, 1, 2}) {
    // Counted: the boundary line's CRLF and the header lines up to the empty line.
    const std::size_t filler = MultipartReader::kMaxPartHeaders - 2 - disposition.size() + extra;
    const std::string body =
        "--XyZ\r\n" + disposition + std::string(filler, 'h') + "\r\n\r\nx\r\n--XyZ--";
    const bool fits = extra <= 0;
    EXPECT_EQ(ReadCut(body, body.size()).ok(), fits) << extra;
    const std::size_t blank = body.find("\r\n\r\n");
    for (std::size_t cut = blank - 4; cut <= blank + 4; ++cut) {
      EXPECT_EQ(ReadCut(body, cut).ok(), fits) << "extra " << extra << ", cut at " << cut;
    }
  }
}

TEST(MultipartReader, ACallbackThatReturnsFalseStopsTheReading) {
  int calls = 0;
  MultipartReader reader(
      "XyZ", [&](const MultipartPart&) { return ++calls < 2; },
      [](std::string_view) { return true; });
  EXPECT_FALSE(reader.Feed(kUpload));
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(absl::IsCancelled(reader.status()));
  EXPECT_FALSE(reader.Feed("more"));
  EXPECT_TRUE(absl::IsCancelled(reader.Finish()));
}

TEST(MultipartBoundary, TakesTheBoundaryOfFormDataOnly) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b;c\""), "a b;c");
  EXPECT_FALSE(MultipartBoundary("application/json").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/mixed; boundary=abc").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=").ok());
  EXPECT_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(201, 'b')).ok());
}

}  // namespace
}  // namespace osb::agent
