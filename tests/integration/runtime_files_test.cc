// execd's files and directories API of osb-agent, reached through osb-runtime's proxy as an
// OpenSandbox SDK reaches it: uploads (both metadata forms, streaming, bad bodies that must leave
// nothing behind), downloads with ranges, info, list, search, mkdir, delete, move, permissions and
// replace, and paths that try to leave the sandbox.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "tests/integration/runtime_fixture.h"
#include "tests/integration/sandbox_http.h"

namespace osb::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using json = nlohmann::json;

class Files : public RuntimeSandboxTest {
 protected:
  // A metadata part as the Python SDK sends it (with a filename) and its file part.
  static httplib::MultipartFormDataItems Pair(const json& metadata, const std::string& content) {
    return {{"metadata", metadata.dump(), "metadata", "application/json"},
            {"file", content, metadata.value("path", "f"), "application/octet-stream"}};
  }

  void Write(const std::string& path, const std::string& content, int mode = 644) {
    auto r = agent_->Upload(Pair({{"path", path}, {"mode", mode}}, content));
    ASSERT_TRUE(r) << "upload failed";
    ASSERT_EQ(r->status, 200) << r->body;
  }

  std::string Read(const std::string& path) {
    auto r = agent_->Get("/files/download?path=" + path);
    if (!r || r->status != 200) return "<unreadable>";
    return r->body;
  }

  json Info(const std::string& path) {
    auto r = agent_->Get("/files/info?path=" + path);
    if (!r || r->status != 200) return json();
    return ParseJson(r->body)[path];
  }

  std::vector<std::string> Paths(const std::string& body) {
    std::vector<std::string> out;
    for (const auto& f : ParseJson(body)) out.push_back(f.value("path", ""));
    return out;
  }
};

TEST_F(Files, UploadThenDownloadRoundTripsWithModeAndOwner) {
  auto r = agent_->Upload(Pair(
      {{"path", "/work/deep/dir/a.txt"}, {"mode", 640}, {"owner", "nobody"}, {"group", "nogroup"}},
      "hello\nworld\n"));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Read("/work/deep/dir/a.txt"), "hello\nworld\n");
  json info = Info("/work/deep/dir/a.txt");
  EXPECT_EQ(info["mode"], 640);
  EXPECT_EQ(info["owner"], "nobody");
  EXPECT_EQ(info["group"], "nogroup");
  EXPECT_EQ(info["size"], 12);
  EXPECT_EQ(info["type"], "file");
  // The file was written inside the sandbox, where a command sees it.
  EXPECT_EQ(Stdout(Run(sandbox_, "cat /work/deep/dir/a.txt")), "hello\nworld");
}

TEST_F(Files, UploadAcceptsMetadataWithoutFilenameAndSeveralPairs) {
  httplib::MultipartFormDataItems parts = {
      {"metadata", R"({"path":"/tmp/one"})", "", "application/json"},
      {"metadata", R"({"path":"/tmp/two","mode":600})", "", ""},
      {"file", "1", "one", "text/plain"},
      {"file", "22", "two", "text/plain"}};
  auto r = agent_->Upload(parts);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Read("/tmp/one"), "1");
  EXPECT_EQ(Read("/tmp/two"), "22");
  EXPECT_EQ(Info("/tmp/two")["mode"], 600);
}

TEST_F(Files, LargeUploadIsStreamedNotHeldInMemory) {
  const std::size_t size = 96u << 20;
  std::string big(size, 'x');
  for (std::size_t i = 0; i < size; i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  auto r = agent_->Upload(Pair({{"path", "/tmp/big"}}, big));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Info("/tmp/big")["size"], size);
  auto d = agent_->Get("/files/download?path=/tmp/big");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->body == big) << "downloaded " << d->body.size() << " bytes, not the upload";
  // The agent is the sandbox's PID 1: its peak memory stayed far below the file's size.
  auto peak = Run(sandbox_, "awk '/VmHWM/ {print $2}' /proc/1/status");
  long peak_kib = std::stol(Stdout(peak));
  if (kMemoryBoundsHold) {
    EXPECT_LT(peak_kib, 48 * 1024) << "osb-agent peaked at " << peak_kib << " KiB";
  }
}

// curl sends `Expect: 100-continue` before a large body and waits for the 100. The runtime's
// server gives it; were the header passed on, the agent's own 100 would reach curl as the answer.
TEST_F(Files, UploadByCurlExpectingContinueGetsTheAgentsAnswer) {
  TempDir dir;
  const std::string local = dir.path() + "/two-mib";
  ASSERT_TRUE(WriteFileAtomic(local, std::string(2 << 20, 'z'), 0644).ok());
  ProcessResult curl = RunProcess(
      {"/usr/bin/curl", "-sS", "-H", "Expect: 100-continue", "-H",
       "X-EXECD-ACCESS-TOKEN: " + sandbox_.token, "-F",
       R"(metadata={"path":"/tmp/by-curl"};type=application/json)", "-F", "file=@" + local,
       "-o", "/dev/null", "-w", "%{http_code}",
       absl::StrCat("http://", sandbox_.proxy_host, sandbox_.proxy_path, "/files/upload")});
  EXPECT_EQ(curl.exit_code, 0) << curl.err;
  EXPECT_EQ(curl.out, "200");
  EXPECT_EQ(Info("/tmp/by-curl")["size"], 2 << 20);
}

TEST_F(Files, BadUploadsAreRefusedAndLeaveNothingBehind) {
  struct Case {
    std::string name;
    httplib::MultipartFormDataItems parts;
    std::string code;
  };
  std::vector<Case> cases = {
      {"file before metadata",
       {{"file", "x", "f", ""}, {"metadata", R"({"path":"/tmp/u1"})", "", ""}},
       "INVALID_FILE_METADATA"},
      {"metadata not JSON",
       {{"metadata", "{nope", "", ""}, {"file", "x", "f", ""}},
       "INVALID_FILE_METADATA"},
      {"metadata without path",
       {{"metadata", R"({"mode":644})", "", ""}, {"file", "x", "f", ""}},
       "INVALID_FILE_METADATA"},
      {"metadata without file", {{"metadata", R"({"path":"/tmp/u2"})", "", ""}}, "INVALID_FILE"},
      {"unknown part", {{"other", "x", "", ""}}, "INVALID_FILE"},
      {"bad mode",
       {{"metadata", R"({"path":"/tmp/u3","mode":799})", "", ""}, {"file", "x", "f", ""}},
       "INVALID_FILE_METADATA"},
      {"unknown owner",
       {{"metadata", R"({"path":"/tmp/u4","owner":"no-such-user"})", "", ""},
        {"file", "x", "f", ""}},
       "INVALID_REQUEST_BODY"},
  };
  for (const auto& c : cases) {
    auto r = agent_->Upload(c.parts);
    ASSERT_TRUE(r) << c.name;
    EXPECT_EQ(r->status, 400) << c.name << ": " << r->body;
    EXPECT_TRUE(IsErrorBody(r->body)) << c.name;
    EXPECT_EQ(ErrorCode(r->body), c.code) << c.name << ": " << r->body;
  }
  auto not_multipart = agent_->Post("/files/upload", "{}");
  ASSERT_TRUE(not_multipart);
  EXPECT_EQ(ErrorCode(not_multipart->body), "INVALID_FILE");
  // A body cut off in the middle of a file part.
  std::string truncated =
      "--B\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"path\":\"/tmp/u5\"}\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"u5\"\r\n\r\npartial";
  auto cut = agent_->Post("/files/upload", truncated, "multipart/form-data; boundary=B");
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->status, 400) << cut->body;
  // Nothing was written, not even a temporary file, and the agent still serves.
  auto left = Run(sandbox_, "ls -A /tmp");
  EXPECT_THAT(Texts(left, "stdout"), IsEmpty()) << Describe(left);
  Write("/tmp/after", "ok");
  EXPECT_EQ(Read("/tmp/after"), "ok");
}

TEST_F(Files, DownloadHonoursRangesAndNamesTheFile) {
  Write("/tmp/digits.txt", "0123456789abcdef");
  auto first = agent_->Get("/files/download?path=/tmp/digits.txt", {{"Range", "bytes=0-9"}});
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 206);
  EXPECT_EQ(first->body, "0123456789");
  EXPECT_EQ(first->get_header_value("Content-Range"), "bytes 0-9/16");
  auto suffix = agent_->Get("/files/download?path=/tmp/digits.txt", {{"Range", "bytes=-3"}});
  ASSERT_TRUE(suffix);
  EXPECT_EQ(suffix->status, 206);
  EXPECT_EQ(suffix->body, "def");
  auto past_end = agent_->Get("/files/download?path=/tmp/digits.txt", {{"Range", "bytes=99-"}});
  ASSERT_TRUE(past_end);
  EXPECT_EQ(past_end->status, 200);
  EXPECT_EQ(past_end->body, "0123456789abcdef");
  auto bad = agent_->Get("/files/download?path=/tmp/digits.txt", {{"Range", "lines=1-2"}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 416);
  EXPECT_EQ(ErrorCode(bad->body), "UNKNOWN") << bad->body;
  auto whole = agent_->Get("/files/download?path=/tmp/digits.txt");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->get_header_value("Content-Disposition"), "attachment; filename=\"digits.txt\"");
  EXPECT_EQ(whole->get_header_value("Content-Length"), "16");
  // Newer SDKs' line reads: offset is the first line (1-based), limit how many.
  Write("/tmp/poem.txt", "one\ntwo\nthree\nfour");
  auto line_read = [&](const std::string& query) {
    auto r = agent_->Get("/files/download?path=/tmp/poem.txt&" + query);
    EXPECT_TRUE(r) << query;
    return r ? std::pair(r->status, r->body) : std::pair(0, std::string());
  };
  EXPECT_EQ(line_read("offset=2&limit=2"), std::pair(200, std::string("two\nthree\n")));
  EXPECT_EQ(line_read("offset=3"), std::pair(200, std::string("three\nfour")));
  EXPECT_EQ(line_read("limit=1"), std::pair(200, std::string("one\n")));
  EXPECT_EQ(line_read("offset=9&limit=1"), std::pair(200, std::string()));
  EXPECT_EQ(line_read("offset=0").first, 400);
  EXPECT_EQ(line_read("limit=x").first, 400);
  auto both = agent_->Get("/files/download?path=/tmp/poem.txt&offset=1", {{"Range", "bytes=0-1"}});
  ASSERT_TRUE(both);
  EXPECT_EQ(both->status, 400) << both->body;
  auto missing = agent_->Get("/files/download?path=/tmp/none");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(ErrorCode(missing->body), "FILE_NOT_FOUND");
  auto directory = agent_->Get("/files/download?path=/tmp");
  ASSERT_TRUE(directory);
  EXPECT_EQ(directory->status, 400) << directory->body;
}

TEST_F(Files, InfoIsKeyedByThePathAsGivenAndFailsWholeForAMissingPath) {
  Write("/tmp/i.txt", "abc");
  auto r = agent_->Get("/files/info?path=tmp/i.txt&path=/tmp");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json body = ParseJson(r->body);
  EXPECT_EQ(body["tmp/i.txt"]["path"], "/tmp/i.txt");
  EXPECT_EQ(body["/tmp"]["type"], "directory");
  auto missing = agent_->Get("/files/info?path=/tmp/i.txt&path=/tmp/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(ErrorCode(missing->body), "FILE_NOT_FOUND");
  auto none = agent_->Get("/files/info");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->body, "{}");
}

TEST_F(Files, ListGoesDepthFirstInLexicalOrderWithoutFollowingSymlinks) {
  Run(sandbox_, "mkdir -p /d/b/inner /d/a && touch /d/a/x /d/b/inner/y /d/c && ln -s /etc /d/link");
  auto one = agent_->Get("/directories/list?path=/d");
  ASSERT_TRUE(one);
  ASSERT_EQ(one->status, 200) << one->body;
  EXPECT_THAT(Paths(one->body), ElementsAre("/d/a", "/d/b", "/d/c", "/d/link"));
  auto all = agent_->Get("/directories/list?path=/d&depth=3");
  ASSERT_TRUE(all);
  EXPECT_THAT(Paths(all->body), ElementsAre("/d/a", "/d/a/x", "/d/b", "/d/b/inner", "/d/b/inner/y",
                                            "/d/c", "/d/link"));
  EXPECT_EQ(ParseJson(all->body)[6]["type"], "symlink");
  auto zero = agent_->Get("/directories/list?path=/d&depth=0");
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->body, "[]");
  for (std::string bad : {"/directories/list?path=/d&depth=-1", "/directories/list?path=/d/c",
                          "/directories/list?path=/d/link", "/directories/list?path=/d&depth=x"}) {
    auto r = agent_->Get(bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad << ": " << r->body;
  }
  auto no_path = agent_->Get("/directories/list");
  ASSERT_TRUE(no_path);
  EXPECT_EQ(ErrorCode(no_path->body), "MISSING_QUERY");
}

TEST_F(Files, SearchMatchesBaseNamesAndNeverReturnsDirectories) {
  Run(sandbox_, "mkdir -p /s/pkg/sub.py && touch /s/a.py /s/pkg/b.py /s/pkg/c.txt");
  auto py = agent_->Get("/files/search?path=/s&pattern=*.py");
  ASSERT_TRUE(py);
  ASSERT_EQ(py->status, 200) << py->body;
  EXPECT_THAT(Paths(py->body), ElementsAre("/s/a.py", "/s/pkg/b.py"));
  auto all = agent_->Get("/files/search?path=/s");
  ASSERT_TRUE(all);
  EXPECT_THAT(Paths(all->body), ElementsAre("/s/a.py", "/s/pkg/b.py", "/s/pkg/c.txt"));
  auto missing = agent_->Get("/files/search?path=/nowhere");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(Files, MkdirChmodChownAndDelete) {
  auto mk = agent_->Post("/directories", R"({"/m/a/b": {"mode": 700, "owner": "nobody"}})");
  ASSERT_TRUE(mk);
  ASSERT_EQ(mk->status, 200) << mk->body;
  EXPECT_EQ(Info("/m/a/b")["mode"], 700);
  EXPECT_EQ(Info("/m/a/b")["owner"], "nobody");
  Write("/m/f", "x");
  auto chmod = agent_->Post("/files/permissions", R"({"/m/f": {"mode": 600, "group": "nogroup"}})");
  ASSERT_TRUE(chmod);
  ASSERT_EQ(chmod->status, 200) << chmod->body;
  EXPECT_EQ(Info("/m/f")["mode"], 600);
  EXPECT_EQ(Info("/m/f")["group"], "nogroup");
  auto unknown = agent_->Post("/files/permissions", R"({"/m/f": {"owner": "ghost"}})");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400) << unknown->body;
  auto bad_json = agent_->Post("/files/permissions", R"({"/m/f": )");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(ErrorCode(bad_json->body), "INVALID_REQUEST_BODY");

  auto rm = agent_->Delete("/files?path=/m/f&path=/m/never-existed");
  ASSERT_TRUE(rm);
  EXPECT_EQ(rm->status, 200) << rm->body;
  EXPECT_TRUE(Info("/m/f").is_null());
  auto rm_dir_as_file = agent_->Delete("/files?path=/m/a");
  ASSERT_TRUE(rm_dir_as_file);
  EXPECT_EQ(rm_dir_as_file->status, 500) << rm_dir_as_file->body;
  auto rmdir = agent_->Delete("/directories?path=/m");
  ASSERT_TRUE(rmdir);
  EXPECT_EQ(rmdir->status, 200) << rmdir->body;
  EXPECT_TRUE(Info("/m").is_null());
  auto root = agent_->Delete("/directories?path=/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 400) << root->body;
}

TEST_F(Files, MoveCreatesParentsRefusesToOverwriteAndCrossesFilesystems) {
  Write("/tmp/src.txt", "moved", 600);
  // /tmp is the sandbox's own tmpfs; /home is on its overlay root: a copy, owner and mode kept.
  Run(sandbox_, "chown nobody /tmp/src.txt");
  auto mv = agent_->Post("/files/mv", R"([{"src": "/tmp/src.txt", "dest": "/home/new/dst.txt"}])");
  ASSERT_TRUE(mv);
  ASSERT_EQ(mv->status, 200) << mv->body;
  EXPECT_EQ(Read("/home/new/dst.txt"), "moved");
  EXPECT_EQ(Info("/home/new/dst.txt")["mode"], 600);
  EXPECT_EQ(Info("/home/new/dst.txt")["owner"], "nobody");
  EXPECT_TRUE(Info("/tmp/src.txt").is_null());
  Write("/tmp/other", "x");
  auto exists =
      agent_->Post("/files/mv", R"([{"src": "/tmp/other", "dest": "/home/new/dst.txt"}])");
  ASSERT_TRUE(exists);
  EXPECT_EQ(exists->status, 400) << exists->body;
  EXPECT_EQ(Read("/home/new/dst.txt"), "moved");
  auto missing = agent_->Post("/files/mv", R"([{"src": "/tmp/none", "dest": "/tmp/x"}])");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(Files, ReplaceCountsAndKeepsTheMode) {
  Write("/tmp/r.txt", "a-b-a-c-a", 751);
  auto r =
      agent_->Post("/files/replace?verbose=true", R"({"/tmp/r.txt": {"old": "a", "new": "XY"}})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(ParseJson(r->body)["/tmp/r.txt"]["replacedCount"], 3);
  EXPECT_EQ(Read("/tmp/r.txt"), "XY-b-XY-c-XY");
  EXPECT_EQ(Info("/tmp/r.txt")["mode"], 751);
  auto quiet = agent_->Post("/files/replace", R"({"/tmp/r.txt": {"old": "b", "new": ""}})");
  ASSERT_TRUE(quiet);
  EXPECT_EQ(quiet->status, 200);
  EXPECT_EQ(quiet->body, "");
  auto empty_old = agent_->Post("/files/replace", R"({"/tmp/r.txt": {"old": "", "new": "z"}})");
  ASSERT_TRUE(empty_old);
  EXPECT_EQ(empty_old->status, 400);
}

TEST_F(Files, PathsStayInsideTheSandbox) {
  auto nul = agent_->Get("/files/info?path=/tmp/a%00b");
  ASSERT_TRUE(nul);
  EXPECT_EQ(nul->status, 400) << nul->body;
  // `..` cannot climb above the sandbox's root: this lands in the sandbox's own /escape.
  Write("/../../../../escape-test-file", "inside");
  EXPECT_EQ(Stdout(Run(sandbox_, "cat /escape-test-file")), "inside");
  struct stat st {};
  EXPECT_NE(::stat("/escape-test-file", &st), 0) << "an upload reached the host's root";
  // The sandbox's /etc/hostname, not the host's.
  EXPECT_EQ(Read("/tmp/../etc/hostname"), Read("/etc/hostname"));
  auto host_secret = agent_->Get("/files/download?path=/root/.bash_history");
  ASSERT_TRUE(host_secret);
  EXPECT_EQ(host_secret->status, 404);
}

}  // namespace
}  // namespace osb::test
