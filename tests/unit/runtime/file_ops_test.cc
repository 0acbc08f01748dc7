// The agent's file operations on a temporary directory of the host (they are plain path
// operations; the integration tests run them inside a sandbox).
#include "runtime/agent/file_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "rest/error.h"
#include "rest/sys/file_util.h"

namespace osb::agent {
namespace {

using ::testing::ElementsAre;

class FileOps : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/osb-file-ops-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)RemoveTree(dir_); }
  void Touch(const std::string& rel, const std::string& content = "") {
    std::ofstream(dir_ + "/" + rel) << content;
  }
  std::string dir_;
};

TEST(ByteRange, ParsesTheForms) {
  auto r = ParseByteRange("bytes=0-9", 100);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_EQ((*r)->first, 0);
  EXPECT_EQ((*r)->last, 9);
  r = ParseByteRange("bytes=90-", 100);
  EXPECT_EQ((*r)->last, 99);
  r = ParseByteRange("bytes=-10", 100);
  EXPECT_EQ((*r)->first, 90);
  r = ParseByteRange("bytes=50-500", 100);
  EXPECT_EQ((*r)->last, 99);
  r = ParseByteRange("bytes=0-1, 5-6", 100);  // only the first range
  EXPECT_EQ((*r)->last, 1);
  EXPECT_FALSE(ParseByteRange("", 100)->has_value());
  EXPECT_FALSE(ParseByteRange("bytes=100-", 100)->has_value());  // past the end: whole file
  for (const char* bad : {"bytes=x-1", "lines=0-1", "bytes=5-2", "bytes=-0", "bytes=7"}) {
    EXPECT_FALSE(ParseByteRange(bad, 100).ok()) << bad;
  }
}

// The text of lines first..first+count-1 of `content`, as FindLines spans them ("" for none).
std::string Lines(const std::string& content, int64_t first, int64_t count) {
  char path[] = "/tmp/osb-lines-XXXXXX";
  int fd = ::mkstemp(path);
  EXPECT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  auto span = FindLines(fd, static_cast<int64_t>(content.size()), first, count);
  ::close(fd);
  ::unlink(path);
  EXPECT_TRUE(span.ok()) << span.status();
  if (!span.ok() || !span->has_value()) return "";
  return content.substr((*span)->first, (*span)->last - (*span)->first + 1);
}

TEST(FindLines, SpansWholeLinesWithTheirBreaks) {
  const std::string text = "one\ntwo\n\nfour\nfive";
  EXPECT_EQ(Lines(text, 1, 1), "one\n");
  EXPECT_EQ(Lines(text, 2, 2), "two\n\n");
  EXPECT_EQ(Lines(text, 3, 1), "\n");
  EXPECT_EQ(Lines(text, 4, -1), "four\nfive");
  EXPECT_EQ(Lines(text, 5, 10), "five");  // the last line has no break
  EXPECT_EQ(Lines(text, 1, -1), text);
  EXPECT_EQ(Lines(text, 6, 1), "");  // past the last line
  EXPECT_EQ(Lines("a\n", 2, 1), "");
  EXPECT_EQ(Lines("", 1, 1), "");
  // Lines across the read blocks (256 KiB).
  std::string big;
  for (int i = 1; i <= 100000; ++i) absl::StrAppend(&big, "line ", i, "\n");
  EXPECT_EQ(Lines(big, 50000, 2), "line 50000\nline 50001\n");
  EXPECT_EQ(Lines(big, 100000, 5), "line 100000\n");
}

TEST(RequestPath, ChecksAndAnchors) {
  EXPECT_EQ(*RequestPath("tmp/a"), "/tmp/a");
  EXPECT_EQ(*RequestPath("/tmp/a"), "/tmp/a");
  EXPECT_FALSE(RequestPath("").ok());
  EXPECT_FALSE(RequestPath(std::string("/a\0b", 4)).ok());
}

TEST_F(FileOps, ListAndSearch) {
  ASSERT_TRUE(MakeDirs(dir_ + "/b/c", 0755).ok());
  Touch("a.txt");
  Touch("b/c/d.txt");
  Touch("b/e.py");
  auto list = ListDirectory(dir_, 2);
  ASSERT_TRUE(list.ok()) << list.status();
  std::vector<std::string> paths;
  for (const auto& f : *list) paths.push_back(f.path.substr(dir_.size()));
  EXPECT_THAT(paths, ElementsAre("/a.txt", "/b", "/b/c", "/b/e.py"));
  auto found = SearchFiles(dir_, "*.txt");
  ASSERT_TRUE(found.ok());
  paths.clear();
  for (const auto& f : *found) paths.push_back(f.path.substr(dir_.size()));
  EXPECT_THAT(paths, ElementsAre("/a.txt", "/b/c/d.txt"));
  EXPECT_EQ(ListDirectory(dir_ + "/none", 1).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(rest::ErrorCodeOf(ListDirectory(dir_ + "/none", 1).status()), "FILE_NOT_FOUND");
}

TEST_F(FileOps, WriterLeavesNothingWithoutCommit) {
  {
    auto w = FileWriter::Create({.path = dir_ + "/new/file"});
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE(w->Append("partial").ok());
  }
  auto left = ListDirectory(dir_ + "/new", 1);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());
  auto w = FileWriter::Create({.path = dir_ + "/new/file", .mode = 0600});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w->Append("whole").ok());
  ASSERT_TRUE(w->Commit().ok());
  auto info = StatPath(dir_ + "/new/file");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 5);
  EXPECT_EQ(info->mode, 0600u);
}

TEST_F(FileOps, ReplaceAndMove) {
  Touch("r", "aXbXc");
  ::chmod((dir_ + "/r").c_str(), 0751);
  auto n = ReplaceInFile(dir_ + "/r", {"X", "--"});
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(*ReadFile(dir_ + "/r"), "a--b--c");
  EXPECT_EQ(StatPath(dir_ + "/r")->mode, 0751u);
  EXPECT_EQ(*ReplaceInFile(dir_ + "/r", {"zzz", "y"}), 0);
  ASSERT_TRUE(MovePath(dir_ + "/r", dir_ + "/m/n/r").ok());
  Touch("other");
  EXPECT_EQ(MovePath(dir_ + "/other", dir_ + "/m/n/r").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MovePath(dir_ + "/gone", dir_ + "/x").code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace osb::agent
