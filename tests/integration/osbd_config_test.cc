// osbd's config file and access control: connection profiles and their precedence, templates
// from the file, bad files refused at start, the peer-credential check on the Unix socket, the
// token-guarded TCP listener and the Prometheus endpoint.
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "opensandbox/v1/daemon.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "opensandbox/v1/templates.grpc.pb.h"
#include "rest/sys/file_util.h"
#include "tests/integration/harness.h"
#include "tests/integration/osbd_process.h"
#include "tests/integration/shutdown_call.h"
#include "tests/integration/status_details.h"

namespace osb::test {
namespace {

namespace v1 = opensandbox::v1;

grpc::Status ListWithProfile(const std::shared_ptr<grpc::Channel>& channel,
                             const std::string& profile) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::ListSandboxesRequest request;
  request.mutable_connection()->set_profile(profile);
  v1::ListSandboxesResponse response;
  return v1::Sandboxes::NewStub(channel)->List(&ctx, request, &response);
}

// A config file in `dir` holding `text`; its path.
std::string WriteConfig(const TempDir& dir, const std::string& text) {
  const std::string path = dir.path() + "/osbd.toml";
  EXPECT_EQ(WriteFileAtomic(path, text, 0600), absl::OkStatus());
  return path;
}

TEST(OsbdConfigTest, ProfilesNameConnectionsAndFlagsBeatTheFile) {
  auto runtime = RuntimeProcess::Start();
  ASSERT_NE(runtime, nullptr);
  TempDir dir;
  const std::string config = WriteConfig(
      dir, absl::StrCat("domain = \"", runtime->address(), "\"\napi_key = \"wrong-key\"\n",
                        "[profiles.good]\napi_key = \"", runtime->api_key(), "\"\n",
                        "[profiles.elsewhere]\ndomain = \"127.0.0.1:1\"\nrequest_timeout = 2\n"));
  auto osbd = OsbdProcess::Start("", "", {"--config", config});
  ASSERT_NE(osbd, nullptr);
  // The file's default connection carries the wrong key; the profile the right one.
  EXPECT_EQ(ListWithProfile(osbd->channel(), "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(ListWithProfile(osbd->channel(), "good").ok());
  // A profile naming another domain does not take the default's key along, and is used.
  EXPECT_EQ(ListWithProfile(osbd->channel(), "elsewhere").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  grpc::Status unknown = ListWithProfile(osbd->channel(), "nope");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(unknown.error_message(), "nope")) << unknown.error_message();
  osbd.reset();

  // A flag beats the file.
  auto flagged = OsbdProcess::Start("", runtime->api_key(), {"--config", config});
  ASSERT_NE(flagged, nullptr);
  EXPECT_TRUE(ListWithProfile(flagged->channel(), "").ok());
}

TEST(OsbdConfigTest, TheFilesKeyIsNotSentToADomainGivenByFlag) {
  auto home = RuntimeProcess::Start();
  auto other = RuntimeProcess::Start();
  ASSERT_NE(home, nullptr);
  ASSERT_NE(other, nullptr);
  TempDir dir;
  // The file's key would open `other`, but it belongs to the file's domain, `home`.
  const std::string config = WriteConfig(
      dir, absl::StrCat("domain = \"", home->address(), "\"\napi_key = \"", other->api_key(),
                        "\"\n"));
  auto osbd = OsbdProcess::Start(other->address(), "", {"--config", config});
  ASSERT_NE(osbd, nullptr);
  EXPECT_EQ(ListWithProfile(osbd->channel(), "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  osbd.reset();
  // Named by flag too, the file's domain keeps the file's key.
  const std::string home_config = WriteConfig(
      dir, absl::StrCat("domain = \"", home->address(), "\"\napi_key = \"", home->api_key(),
                        "\"\n"));
  auto same = OsbdProcess::Start(home->address(), "", {"--config", home_config});
  ASSERT_NE(same, nullptr);
  EXPECT_TRUE(ListWithProfile(same->channel(), "").ok());
}

TEST(OsbdConfigTest, TemplatesFromTheFileAreUsableButNotReplaceable) {
  auto runtime = RuntimeProcess::Start();
  ASSERT_NE(runtime, nullptr);
  TempDir dir;
  const std::string config = WriteConfig(dir, R"(
[templates.small]
description = "from the file"
image = "config-image"
timeout = "120s"
env = { GREETING = "hello" }
)");
  auto osbd = OsbdProcess::Start(runtime->address(), runtime->api_key(), {"--config", config});
  ASSERT_NE(osbd, nullptr);
  auto templates = v1::Templates::NewStub(osbd->channel());
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListTemplatesResponse list;
    ASSERT_TRUE(templates->List(&ctx, v1::ListTemplatesRequest(), &list).ok());
    ASSERT_EQ(list.templates_size(), 1);
    EXPECT_EQ(list.templates(0).name(), "small");
    EXPECT_EQ(list.templates(0).image(), "config-image");
    EXPECT_TRUE(list.templates(0).from_config());
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DefineTemplateRequest define;
    define.mutable_template_()->set_name("small");
    define.mutable_template_()->set_image("other");
    v1::Template out;
    grpc::Status s = templates->Define(&ctx, define, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
    EXPECT_EQ(ErrorReason(s), "OSBD::TEMPLATE_FROM_CONFIG") << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::DeleteTemplateRequest del;
    del.set_name("small");
    v1::DeleteTemplateResponse out;
    EXPECT_EQ(templates->Delete(&ctx, del, &out).error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  v1::CreateSandboxRequest create;
  create.set_template_("small");
  v1::Sandbox sandbox;
  grpc::Status created = v1::Sandboxes::NewStub(osbd->channel())->Create(&ctx, create, &sandbox);
  ASSERT_TRUE(created.ok()) << created.error_message();
  EXPECT_EQ(sandbox.image(), "config-image");
}

TEST(OsbdConfigTest, BadFilesStopOsbdWithTheFileAndTheReason) {
  TempDir dir;
  const std::string token = dir.path() + "/token";
  ASSERT_EQ(WriteFileAtomic(token, "0123456789abcdef0123\n", 0644), absl::OkStatus());
  struct Bad {
    std::string text, says;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"colour = \"red\"\n", "unknown key 'colour'"},
           {"domain = \n", ": 1:"},
           {"protocol = \"ftp\"\n", "'protocol' must be http or https"},
           {"[profiles.x]\nsocket = \"/s\"\n", "[profiles.x]: unknown key 'socket'"},
           {"[tcp]\nlisten = \"127.0.0.1:0\"\n", "'token_file' is required"},
           {"[tcp]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"" + token + "\"\n",
            "must not be readable by others"},
           {"[access]\ngroup = \"no-such-group-here\"\n", "no group named"},
           {"[templates.t]\nimage = 3\n", "[templates.t]"},
           {"[templates.t]\ntimeout = \"soon\"\n", "[templates.t]"}}) {
    const std::string config = WriteConfig(dir, bad.text);
    ProcessResult r = RunProcess({BinDir() + "/osbd", "--socket", dir.path() + "/s/osbd.sock",
                                  "--state-dir", dir.path() + "/state", "--domain",
                                  "127.0.0.1:1", "--config", config});
    // osbd logs to stdout.
    EXPECT_EQ(r.exit_code, 2) << bad.text << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, config)) << bad.text << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, bad.says)) << bad.text << r.out;
  }
  ProcessResult missing =
      RunProcess({BinDir() + "/osbd", "--socket", dir.path() + "/s/osbd.sock", "--domain",
                  "127.0.0.1:1", "--config", dir.path() + "/none.toml"});
  EXPECT_EQ(missing.exit_code, 2) << missing.out;
  EXPECT_TRUE(absl::StrContains(missing.out, "no such file")) << missing.out;
}

TEST(OsbdConfigTest, ShutdownCannotStopTheRuntimeOfAServiceItDoesNotEmbed) {
  auto runtime = RuntimeProcess::Start();
  ASSERT_NE(runtime, nullptr);
  auto osbd = OsbdProcess::Start(runtime->address(), runtime->api_key());
  ASSERT_NE(osbd, nullptr);
  v1::ShutdownRequest request;
  request.set_stop_embedded_runtime(true);
  grpc::Status status = Shutdown(osbd->channel(), request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ErrorReason(status), "OSBD::RUNTIME_NOT_EMBEDDED") << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), runtime->address()))
      << status.error_message();
  // Nothing was stopped.
  EXPECT_TRUE(ListWithProfile(osbd->channel(), "").ok());
  EXPECT_EQ(::kill(runtime->pid(), 0), 0);
}

TEST(OsbdConfigTest, JsonLogLinesNeverShowAnApiKey) {
  auto runtime = RuntimeProcess::Start();
  ASSERT_NE(runtime, nullptr);
  auto osbd =
      OsbdProcess::Start(runtime->address(), runtime->api_key(), {"--log-format", "json"});
  ASSERT_NE(osbd, nullptr);
  EXPECT_TRUE(ListWithProfile(osbd->channel(), "").ok());
  const std::string request_key = "request-key-0123456789";
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    v1::ListSandboxesRequest request;
    request.mutable_connection()->set_api_key(request_key);
    v1::ListSandboxesResponse response;
    EXPECT_EQ(v1::Sandboxes::NewStub(osbd->channel())->List(&ctx, request, &response)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  const std::string log = ReadFile(osbd->log_path()).value_or("");
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    ++lines;
    auto record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(record.is_object()) << line;
    EXPECT_TRUE(record["time"].is_string() && record["level"].is_string() &&
                record["msg"].is_string())
        << line;
  }
  EXPECT_GE(lines, 1) << "osbd says where it serves";
  EXPECT_TRUE(absl::StrContains(log, "osbd serving on")) << log;
  EXPECT_FALSE(absl::StrContains(log, runtime->api_key())) << log;
  EXPECT_FALSE(absl::StrContains(log, request_key)) << log;
}

TEST(OsbdConfigTest, ASocketDirectoryOthersCouldWriteIsRefused) {
  TempDir dir;
  const std::string open = dir.path() + "/open";
  ASSERT_EQ(::mkdir(open.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(open.c_str(), 0777), 0);
  ProcessResult r = RunProcess({BinDir() + "/osbd", "--socket", open + "/osbd.sock",
                                "--state-dir", dir.path() + "/state", "--domain", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, open + " is writable by others (mode 0777)")) << r.out;
  struct stat st {};
  EXPECT_NE(::stat((open + "/osbd.sock").c_str(), &st), 0) << "no socket was made";
}

// What happened to a connection made as another user.
enum class Peer { kServed, kRefused, kCannotConnect };

// Connects to `socket` from a child process with these ids and sends the HTTP/2 preface: a
// served connection gets osbd's SETTINGS frame back, a refused one is closed unread.
Peer ConnectAs(const std::string& socket, uid_t uid, gid_t gid, std::vector<gid_t> groups) {
  pid_t pid = ::fork();
  if (pid == 0) {
    // Only system calls from here: the parent has threads.
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 ||
        ::setuid(uid) != 0) {
      ::_exit(10);
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket.c_str(), socket.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) ::_exit(2);
    static const char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
    // osbd may close a refused connection before the preface is written: that is EPIPE here,
    // not a SIGPIPE that would kill the child and look like a failed connect.
    if (::send(fd, kPreface, sizeof kPreface - 1, MSG_NOSIGNAL) < 0) ::_exit(1);
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 10000) != 1) ::_exit(11);
    char buf[64];
    ::_exit(::read(fd, buf, sizeof buf) > 0 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return Peer::kCannotConnect;
  switch (WEXITSTATUS(status)) {
    case 0:
      return Peer::kServed;
    case 1:
      return Peer::kRefused;
    case 2:
      return Peer::kCannotConnect;
    default:
      ADD_FAILURE() << "the connecting child failed: exit " << WEXITSTATUS(status);
      return Peer::kCannotConnect;
  }
}

TEST(OsbdConfigTest, OnlyOsbdsUserAndTheAccessGroupAreServed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as other users";
  auto runtime = RuntimeProcess::Start();
  ASSERT_NE(runtime, nullptr);
  constexpr gid_t kGroup = 4242;
  TempDir dir;
  const std::string config =
      WriteConfig(dir, absl::StrCat("[access]\ngroup = \"", kGroup, "\"\n"));
  auto osbd = OsbdProcess::Start(runtime->address(), runtime->api_key(), {"--config", config});
  ASSERT_NE(osbd, nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(osbd->socket_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  EXPECT_EQ(st.st_gid, kGroup);

  EXPECT_EQ(ConnectAs(osbd->socket_path(), 0, 0, {}), Peer::kServed);
  EXPECT_EQ(ConnectAs(osbd->socket_path(), 5001, kGroup, {}), Peer::kServed);
  EXPECT_EQ(ConnectAs(osbd->socket_path(), 5002, 5002, {kGroup}), Peer::kServed);
  // Outside the group, the socket's mode keeps the user out...
  EXPECT_EQ(ConnectAs(osbd->socket_path(), 5003, 5003, {}), Peer::kCannotConnect);
  // ...and when the mode is loosened by hand, the peer-credential check still does.
  ASSERT_EQ(::chmod(osbd->socket_path().c_str(), 0666), 0);
  ASSERT_EQ(::chmod((osbd->dir() + "/run").c_str(), 0755), 0);
  EXPECT_EQ(ConnectAs(osbd->socket_path(), 5003, 5003, {}), Peer::kRefused);
  EXPECT_TRUE(absl::StrContains(ReadFile(osbd->log_path()).value_or(""),
                                "refused a connection from uid 5003"));
  // The daemon still serves its own user.
  EXPECT_TRUE(ListWithProfile(osbd->channel(), "").ok());
}

TEST(OsbdConfigTest, TcpListenerNeedsTheTokenAndMetricsAreServed) {
  auto runtime = RuntimeProcess::Start();
  ASSERT_NE(runtime, nullptr);
  TempDir dir;
  const std::string token = "s3cret-token-0123456789";
  ASSERT_EQ(WriteFileAtomic(dir.path() + "/token", token + "\n", 0600), absl::OkStatus());
  // Free ports: bound and released here, then handed to osbd.
  auto free_port = [] {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  };
  const std::string tcp = absl::StrCat("127.0.0.1:", free_port());
  const std::string metrics = absl::StrCat("127.0.0.1:", free_port());
  const std::string config = WriteConfig(
      dir, absl::StrCat("[tcp]\nlisten = \"", tcp, "\"\ntoken_file = \"", dir.path(),
                        "/token\"\n[metrics]\nlisten = \"", metrics, "\"\n"));
  auto osbd = OsbdProcess::Start(runtime->address(), runtime->api_key(), {"--config", config});
  ASSERT_NE(osbd, nullptr);

  auto channel = grpc::CreateChannel(tcp, grpc::InsecureChannelCredentials());
  auto daemon = v1::Daemon::NewStub(channel);
  auto version = [&](const std::string& authorization) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(20));
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    v1::GetVersionResponse response;
    return daemon->GetVersion(&ctx, v1::GetVersionRequest(), &response);
  };
  EXPECT_EQ(version("").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(version("Bearer wrong-token-0123456789").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status ok = version("Bearer " + token);
  EXPECT_TRUE(ok.ok()) << ok.error_message();

  httplib::Client scrape(metrics);
  auto res = scrape.Get("/metrics");
  ASSERT_TRUE(res) << "no answer from " << metrics;
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(absl::StrContains(res->body, "# TYPE osbd_calls_total counter")) << res->body;
  // The successful call above is counted; the refused ones never reached a service.
  EXPECT_TRUE(absl::StrContains(
      res->body, "osbd_calls_total{method=\"/opensandbox.v1.Daemon/GetVersion\",code=\"OK\"} 1"))
      << res->body;
  EXPECT_TRUE(absl::StrContains(res->body, "osbd_call_duration_seconds_bucket{method=\""))
      << res->body;
  // The upstream origin's figures: osbd has called the runtime (its lease sweep at start, at
  // least) over a pooled connection.
  EXPECT_TRUE(absl::StrContains(
      res->body, absl::StrCat("osbd_upstream_open_connections{origin=\"http://",
                              runtime->address(), "\"} 1\n")))
      << res->body;
  EXPECT_TRUE(absl::StrContains(
      res->body, absl::StrCat("osbd_upstream_requests_total{origin=\"http://", runtime->address(),
                              "\"} ")))
      << res->body;
  EXPECT_TRUE(absl::StrContains(
      res->body, absl::StrCat("osbd_upstream_calls_total{operation=\"GET /v1/sandboxes\",origin="
                              "\"http://", runtime->address(), "\",status=\"200\"} ")))
      << res->body;
  EXPECT_EQ(scrape.Get("/other")->status, 404);
}

}  // namespace
}  // namespace osb::test
