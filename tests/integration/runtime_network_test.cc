// A sandbox's network, seen from inside: loopback only by default and with defaultAction deny;
// with egress allowed, the host's network is reachable through pasta but the host's loopback
// services (the runtime's API among them) are not, and egress outlives a runtime restart.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <signal.h>

#include <cerrno>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "tests/integration/runtime_fixture.h"

namespace osb::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using nlohmann::json;

// The host's first IPv4 address that is not loopback; "" when it has none.
std::string HostAddress() {
  ifaddrs* all = nullptr;
  if (::getifaddrs(&all) != 0) return "";
  std::string found;
  for (ifaddrs* a = all; a != nullptr && found.empty(); a = a->ifa_next) {
    if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                sizeof text);
    if (std::string(text).rfind("127.", 0) != 0) found = text;
  }
  ::freeifaddrs(all);
  return found;
}

// An HTTP server answering `body` on `host`, on a port of its own, in a thread of the test.
class TinyServer {
 public:
  TinyServer(const std::string& host, std::string body) {
    server_.Get("/", [body](const httplib::Request&, httplib::Response& res) {
      res.set_content(body, "text/plain");
    });
    port_ = server_.bind_to_any_port(host);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~TinyServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
};

class Network : public RuntimeTest {
 protected:
  void SetUp() override {
    host_ = HostAddress();
    if (host_.empty()) GTEST_SKIP() << "this host has no non-loopback IPv4 address";
    if (FindPasta().empty()) GTEST_SKIP() << "pasta (passt) is not installed";
    RuntimeTest::SetUp();
  }

  static std::string FindPasta() {
    for (const char* path : {"/usr/bin/pasta", "/usr/sbin/pasta", "/usr/local/bin/pasta"}) {
      if (::access(path, X_OK) == 0) return path;
    }
    return "";
  }

  json WithPolicy(const json& policy) {
    json body = CreateBody();
    body["networkPolicy"] = policy;
    return body;
  }

  // The body curl got from `url` inside the sandbox, or "curl failed (N)".
  static std::string Fetch(const SandboxHandle& sandbox, const std::string& url) {
    CommandResult r = RunCommand(sandbox, "curl -s -m 3 " + url + " || echo curl failed $?");
    return Stdout(r);
  }

  pid_t HelperPid(const std::string& id) {
    auto text = ReadFile(runtime_->state_dir() + "/records/" + id + ".json");
    return text.ok() ? ParseJson(*text).value("egressPid", -1) : -1;
  }

  std::string host_;
};

TEST_F(Network, EgressReachesTheHostNetworkButNeverItsLoopback) {
  TinyServer outside(host_, "outside");
  TinyServer loopback("127.0.0.1", "loopback-secret");
  auto created = api_->Post("/v1/sandboxes", WithPolicy({{"defaultAction", "allow"}}).dump(),
                            "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 202) << created->body;
  EXPECT_THAT(ParseJson(created->body)["status"]["message"].get<std::string>(),
              HasSubstr("egress through pasta"));
  auto sandbox = ResolveAgent(*api_, ParseJson(created->body)["id"]);
  ASSERT_TRUE(sandbox.has_value());

  EXPECT_EQ(Fetch(*sandbox, absl::StrCat("http://", host_, ":", outside.port(), "/")), "outside");
  // The host's loopback by every way in: the gateway, the host's address, the sandbox's own.
  const std::string& address = runtime_->address();
  const std::string runtime_port = address.substr(address.rfind(':') + 1);
  for (const std::string& url :
       {absl::StrCat("http://10.0.2.2:", loopback.port(), "/"),
        absl::StrCat("http://", host_, ":", loopback.port(), "/"),
        absl::StrCat("http://127.0.0.1:", loopback.port(), "/"),
        absl::StrCat("http://10.0.2.2:", runtime_port, "/health"),
        absl::StrCat("http://127.0.0.1:", runtime_port, "/health")}) {
    std::string got = Fetch(*sandbox, url);
    EXPECT_THAT(got, Not(HasSubstr("loopback-secret"))) << url;
    EXPECT_THAT(got, Not(HasSubstr("\"status\""))) << url;  // the runtime's /health answer
  }
  CommandResult resolv = RunCommand(*sandbox, "cat /etc/resolv.conf");
  EXPECT_EQ(Stdout(resolv), "nameserver 10.0.2.3") << Describe(resolv);

  const pid_t helper = HelperPid(sandbox->id);
  ASSERT_GT(helper, 0);
  EXPECT_EQ(::kill(helper, 0), 0);
  auto killed = api_->Delete("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->status, 204);
  EXPECT_TRUE(::kill(helper, 0) != 0 && errno == ESRCH) << "pasta outlived its sandbox";
}

TEST_F(Network, WithoutEgressThereIsLoopbackOnly) {
  TinyServer outside(host_, "outside");
  for (const json& body : {CreateBody(), WithPolicy({{"defaultAction", "deny"}}),
                           WithPolicy({{"defaultAction", "deny"},
                                       {"egress", {{{"action", "deny"}, {"target", "x.io"}}}}})}) {
    auto sandbox = CreateSandbox(body);
    ASSERT_TRUE(sandbox.has_value());
    EXPECT_THAT(Fetch(*sandbox, absl::StrCat("http://", host_, ":", outside.port(), "/")),
                HasSubstr("curl failed"))
        << body.dump();
    CommandResult links =
        RunCommand(*sandbox, "awk -F: 'NR>2 {gsub(/ /, \"\", $1); print $1}' /proc/net/dev");
    EXPECT_EQ(Stdout(links), "lo") << Describe(links);
    EXPECT_EQ(HelperPid(sandbox->id), -1);
  }
}

TEST_F(Network, PoliciesItCannotEnforceAreRefused) {
  const json allow_pypi = {{"action", "allow"}, {"target", "pypi.org"}};
  auto rules = api_->Post(
      "/v1/sandboxes",
      WithPolicy({{"defaultAction", "deny"}, {"egress", json::array({allow_pypi})}}).dump(),
      "application/json");
  ASSERT_TRUE(rules);
  EXPECT_EQ(rules->status, 501) << rules->body;
  EXPECT_EQ(ErrorCode(rules->body), "SANDBOX::API_NOT_SUPPORTED");
  EXPECT_THAT(rules->body, HasSubstr("pypi.org"));
  auto bad = api_->Post("/v1/sandboxes", WithPolicy({{"defaultAction", "maybe"}}).dump(),
                        "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
}

TEST_F(Network, EgressOutlivesARuntimeRestart) {
  TinyServer outside(host_, "outside");
  auto sandbox = CreateSandbox(WithPolicy(json::object()));  // {}: allow-all, as the sidecar
  ASSERT_TRUE(sandbox.has_value());
  const pid_t helper = HelperPid(sandbox->id);
  ASSERT_GT(helper, 0);
  ASSERT_TRUE(runtime_->Restart());
  api_ = runtime_->Client();
  auto again = ResolveAgent(*api_, sandbox->id);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(Fetch(*again, absl::StrCat("http://", host_, ":", outside.port(), "/")), "outside");
  EXPECT_EQ(HelperPid(sandbox->id), helper) << "the same pasta was adopted";
}

}  // namespace
}  // namespace osb::test
