// A sandbox's network, seen from inside: loopback only by default and with defaultAction deny;
// with egress allowed, the host's network is reachable through pasta but the host's loopback
// services (the runtime's API among them) are not, and egress outlives a runtime restart. Egress
// rules by name: a denied name does not resolve, and under defaultAction deny only the addresses
// of allowed names are reachable. The runtime asks the test's own DNS server, which knows every
// name under .test as the host's address.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "rest/sys/unique_fd.h"
#include "runtime/server/dns_message.h"
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

// A DNS server on 127.0.0.1 (any port) in a thread of the test: A queries for names under .test
// get `address`, other queries under .test an empty answer, any other name NXDOMAIN. Counts the
// queries it saw.
class TinyDns {
 public:
  explicit TinyDns(const std::string& address) {
    ::inet_pton(AF_INET, address.c_str(), &address_);
    socket_.Reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof bound;
    if (::bind(socket_.get(), reinterpret_cast<sockaddr*>(&bound), sizeof bound) == 0 &&
        ::getsockname(socket_.get(), reinterpret_cast<sockaddr*>(&bound), &size) == 0) {
      port_ = ntohs(bound.sin_port);
    }
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyDns() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return port_; }
  int queries() const { return queries_; }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{socket_.get(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char packet[1500];
      sockaddr_in from{};
      socklen_t size = sizeof from;
      const ssize_t n = ::recvfrom(socket_.get(), packet, sizeof packet, 0,
                                   reinterpret_cast<sockaddr*>(&from), &size);
      if (n <= 0) continue;
      auto query = runtime::dns::ParseQuery(std::string_view(packet, static_cast<size_t>(n)));
      if (!query.ok()) continue;
      ++queries_;
      const bool known = query->name.size() > 5 &&
                         query->name.compare(query->name.size() - 5, 5, ".test") == 0;
      std::string answer =
          !known ? runtime::dns::Reply(*query, runtime::dns::Rcode::kNxDomain)
          : query->type == runtime::dns::kTypeA
              ? runtime::dns::ReplyWithAddresses(*query, {address_}, 5)
              : runtime::dns::Reply(*query, runtime::dns::Rcode::kNoError);
      ::sendto(socket_.get(), answer.data(), answer.size(), 0,
               reinterpret_cast<sockaddr*>(&from), size);
    }
  }

  in_addr address_{};
  UniqueFd socket_;
  int port_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

class Network : public RuntimeTest {
 protected:
  void SetUp() override {
    host_ = HostAddress();
    if (host_.empty()) GTEST_SKIP() << "this host has no non-loopback IPv4 address";
    if (FindPasta().empty()) GTEST_SKIP() << "pasta (passt) is not installed";
    dns_ = std::make_unique<TinyDns>(host_);
    ASSERT_GT(dns_->port(), 0);
    RuntimeTest::SetUp();
  }

  std::vector<std::string> RuntimeArgs() override {
    return {"--egress-dns", absl::StrCat("127.0.0.1:", dns_->port())};
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

  // The body curl got from `url` inside the sandbox, or "curl failed (N)". A fetch meant to fail
  // gets `seconds` 3 (what is refused fails at once; what is dropped waits that long); one meant
  // to succeed the default, roomy for a loaded machine.
  static std::string Fetch(const SandboxHandle& sandbox, const std::string& url, int seconds = 15) {
    CommandResult r = RunCommand(
        sandbox, absl::StrCat("curl -s -m ", seconds, " ", url, " || echo curl failed $?"));
    return Stdout(r);
  }

  pid_t HelperPid(const std::string& id) {
    auto text = ReadFile(runtime_->state_dir() + "/records/" + id + ".json");
    return text.ok() ? ParseJson(*text).value("egressPid", -1) : -1;
  }

  // What `getent hosts NAME` prints inside the sandbox: "ADDRESS NAME", or "unresolved".
  static std::string Resolve(const SandboxHandle& sandbox, const std::string& name) {
    CommandResult r = RunCommand(sandbox, "getent hosts " + name + " | tr -s ' ' || true");
    const std::string out = Stdout(r);
    return out.empty() ? "unresolved" : out;
  }

  std::string Url(const std::string& host, int port) {
    return absl::StrCat("http://", host, ":", port, "/");
  }

  std::string host_;
  std::unique_ptr<TinyDns> dns_;
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
    std::string got = Fetch(*sandbox, url, 3);
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
    EXPECT_THAT(Fetch(*sandbox, absl::StrCat("http://", host_, ":", outside.port(), "/"), 3),
                HasSubstr("curl failed"))
        << body.dump();
    CommandResult links =
        RunCommand(*sandbox, "awk -F: 'NR>2 {gsub(/ /, \"\", $1); print $1}' /proc/net/dev");
    EXPECT_EQ(Stdout(links), "lo") << Describe(links);
    EXPECT_EQ(HelperPid(sandbox->id), -1);
  }
}

TEST_F(Network, UnderDefaultDenyOnlyAllowedNamesResolveAndOnlyTheirAddressesAreReachable) {
  TinyServer outside(host_, "outside");
  auto created = api_->Post(
      "/v1/sandboxes",
      WithPolicy({{"defaultAction", "deny"},
                  {"egress",
                   {{{"action", "allow"}, {"target", "Allowed.TEST"}},
                    {{"action", "deny"}, {"target", "no.wild.test"}},
                    {{"action", "allow"}, {"target", "*.wild.test"}}}}})
          .dump(),
      "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 202) << created->body;
  EXPECT_THAT(ParseJson(created->body)["status"]["message"].get<std::string>(),
              HasSubstr("egress through pasta, by name (default deny)"));
  auto sandbox = ResolveAgent(*api_, ParseJson(created->body)["id"]);
  ASSERT_TRUE(sandbox.has_value());
  EXPECT_EQ(Stdout(RunCommand(*sandbox, "cat /etc/resolv.conf")), "nameserver 127.0.0.53");

  // Before any allowed name led there, the address itself is unreachable.
  EXPECT_THAT(Fetch(*sandbox, Url(host_, outside.port()), 3), HasSubstr("curl failed"));
  const int asked_before = dns_->queries();
  for (const std::string name : {"denied.test", "wild.test", "no.wild.test", "example.com"}) {
    EXPECT_EQ(Resolve(*sandbox, name), "unresolved") << name;
  }
  EXPECT_EQ(dns_->queries(), asked_before) << "a denied name reached the upstream server";
  EXPECT_EQ(Resolve(*sandbox, "allowed.test"), host_ + " allowed.test");
  EXPECT_EQ(Resolve(*sandbox, "a.b.wild.test"), host_ + " a.b.wild.test");
  EXPECT_EQ(Fetch(*sandbox, Url("allowed.test", outside.port())), "outside");
  // The address is now routed, by name or not; the host's loopback stays out of reach.
  EXPECT_EQ(Fetch(*sandbox, Url(host_, outside.port())), "outside");
  TinyServer loopback("127.0.0.1", "loopback-secret");
  EXPECT_THAT(Fetch(*sandbox, Url("10.0.2.2", loopback.port()), 3), HasSubstr("curl failed"));
  // The sandbox cannot undo its routes (no CAP_NET_ADMIN), nor reach pasta's DNS forwarder.
  CommandResult unroute = RunCommand(*sandbox, "ip route del 0.0.0.0/1 2>&1; echo rc=$?");
  EXPECT_THAT(Stdout(unroute), HasSubstr("Operation not permitted")) << Describe(unroute);
  CommandResult forwarder = RunCommand(
      *sandbox, "python3 -c \"import socket; s = socket.socket(socket.AF_INET, "
                "socket.SOCK_DGRAM); s.sendto(bytes(12), ('10.0.2.3', 53))\" 2>&1 | tail -n 1");
  EXPECT_THAT(Stdout(forwarder), HasSubstr("Permission denied")) << Describe(forwarder);
}

TEST_F(Network, UnderDefaultAllowADeniedNameDoesNotResolve) {
  TinyServer outside(host_, "outside");
  const json deny = {{"action", "deny"}, {"target", "*.blocked.test"}};
  auto sandbox = CreateSandbox(WithPolicy({{"defaultAction", "allow"}, {"egress", {deny}}}));
  ASSERT_TRUE(sandbox.has_value());
  EXPECT_EQ(Resolve(*sandbox, "x.blocked.test"), "unresolved");
  EXPECT_EQ(Resolve(*sandbox, "open.test"), host_ + " open.test");
  EXPECT_EQ(Fetch(*sandbox, Url("open.test", outside.port())), "outside");
  EXPECT_EQ(Fetch(*sandbox, Url(host_, outside.port())), "outside");
}

// The official egress sidecar's API, which osb-runtime answers itself at port 18080 of the
// sandbox's endpoint, where the SDKs' get_egress_policy, patch_egress_rules and
// delete_egress_rules send it.
TEST_F(Network, TheEgressApiChangesRulesByNameWhileTheSandboxRuns) {
  TinyServer outside(host_, "outside");
  const json allow = {{"action", "allow"}, {"target", "allowed.test"}};
  auto sandbox = CreateSandbox(WithPolicy({{"defaultAction", "deny"}, {"egress", {allow}}}));
  ASSERT_TRUE(sandbox.has_value());
  httplib::Client egress("http://" + sandbox->proxy_host);
  egress.set_default_headers({{"X-EXECD-ACCESS-TOKEN", sandbox->token}});
  egress.set_read_timeout(30, 0);
  const std::string policy = absl::StrCat("/sandboxes/", sandbox->id, "/proxy/18080/policy");
  auto got = egress.Get(policy);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  EXPECT_EQ(ParseJson(got->body),
            json({{"status", "ok"},
                  {"mode", "deny_all"},
                  {"enforcementMode", "dns+route"},
                  {"policy", {{"defaultAction", "deny"}, {"egress", {allow}}}}}));
  EXPECT_EQ(Fetch(*sandbox, Url("allowed.test", outside.port())), "outside");
  // A change that leaves allowed.test allowed keeps the route it led to (a live connection to it
  // would go on), a change that changes nothing too.
  const json other = {{"action", "allow"}, {"target", "other.test"}};
  auto added = egress.Patch(policy, json({other}).dump(), "application/json");
  ASSERT_TRUE(added);
  ASSERT_EQ(added->status, 200) << added->body;
  auto none = egress.Delete(policy, json({"never.there"}).dump(), "application/json");
  ASSERT_TRUE(none);
  ASSERT_EQ(none->status, 200) << none->body;
  EXPECT_EQ(Fetch(*sandbox, Url(host_, outside.port())), "outside");

  // Patched rules come first: allowed.test is denied, and the address it led to is no longer
  // routed (other.test led there too, but was never resolved); new.test is allowed.
  const json patch = {{{"action", "deny"}, {"target", "allowed.test"}},
                      {{"action", "allow"}, {"target", "new.test"}}};
  auto patched = egress.Patch(policy, patch.dump(), "application/json");
  ASSERT_TRUE(patched);
  ASSERT_EQ(patched->status, 200) << patched->body;
  EXPECT_EQ(ParseJson(patched->body)["policy"]["egress"], json({patch[0], patch[1], other}));
  EXPECT_EQ(Resolve(*sandbox, "allowed.test"), "unresolved");
  EXPECT_THAT(Fetch(*sandbox, Url(host_, outside.port()), 3), HasSubstr("curl failed"));
  EXPECT_EQ(Fetch(*sandbox, Url("new.test", outside.port())), "outside");

  const json targets = {"new.test", "never.there"};
  auto deleted = egress.Delete(policy, targets.dump(), "application/json");
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 200) << deleted->body;
  EXPECT_EQ(Resolve(*sandbox, "new.test"), "unresolved");
  EXPECT_THAT(Fetch(*sandbox, Url(host_, outside.port()), 3), HasSubstr("curl failed"));

  // Bad bodies change nothing.
  for (const std::string& bad : {std::string("[]"), std::string("{"),
                                 json({{{"action", "allow"}, {"target", "10.0.0.1"}}}).dump()}) {
    auto r = egress.Patch(policy, bad, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad << " " << r->body;
  }
  auto vault = egress.Get(absl::StrCat("/sandboxes/", sandbox->id, "/proxy/18080/credentials"));
  ASSERT_TRUE(vault);
  EXPECT_EQ(vault->status, 501);

  // The rules in force are kept in the sandbox's record: a restarted runtime has them.
  ASSERT_TRUE(runtime_->Restart());
  api_ = runtime_->Client();
  auto again = ResolveAgent(*api_, sandbox->id);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(Resolve(*again, "new.test"), "unresolved");
  httplib::Client restarted("http://" + again->proxy_host);
  restarted.set_default_headers({{"X-EXECD-ACCESS-TOKEN", again->token}});
  auto kept = restarted.Get(policy);
  ASSERT_TRUE(kept);
  EXPECT_EQ(ParseJson(kept->body)["policy"],
            json({{"defaultAction", "deny"},
                  {"egress", {{{"action", "deny"}, {"target", "allowed.test"}}, other}}}));
  auto readded = restarted.Patch(policy, json({allow}).dump(), "application/json");
  ASSERT_TRUE(readded);
  ASSERT_EQ(readded->status, 200) << readded->body;
  EXPECT_EQ(Fetch(*again, Url("allowed.test", outside.port())), "outside");
  // A route made before a restart goes too, when a change after it denies its name.
  ASSERT_TRUE(runtime_->Restart());
  api_ = runtime_->Client();
  auto third = ResolveAgent(*api_, sandbox->id);
  ASSERT_TRUE(third.has_value());
  httplib::Client last("http://" + third->proxy_host);
  last.set_default_headers({{"X-EXECD-ACCESS-TOKEN", third->token}});
  auto removed = last.Delete(policy, json({"allowed.test"}).dump(), "application/json");
  ASSERT_TRUE(removed);
  ASSERT_EQ(removed->status, 200) << removed->body;
  EXPECT_THAT(Fetch(*third, Url(host_, outside.port()), 3), HasSubstr("curl failed"));
}

TEST_F(Network, TheEgressPolicyOfASandboxCreatedWithoutRulesIsFixed) {
  auto sandbox = CreateSandbox(WithPolicy(json::object()));  // allow-all
  ASSERT_TRUE(sandbox.has_value());
  httplib::Client egress("http://" + sandbox->proxy_host);
  egress.set_default_headers({{"X-EXECD-ACCESS-TOKEN", sandbox->token}});
  const std::string policy = absl::StrCat("/sandboxes/", sandbox->id, "/proxy/18080/policy");
  auto got = egress.Get(policy);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->status, 200) << got->body;
  json status = ParseJson(got->body);
  EXPECT_EQ(status["mode"], "allow_all");
  EXPECT_EQ(status["enforcementMode"], "none");
  EXPECT_THAT(status["reason"].get<std::string>(), HasSubstr("fixed"));
  const json deny = {{"action", "deny"}, {"target", "x.test"}};
  auto patched = egress.Patch(policy, json({deny}).dump(), "application/json");
  ASSERT_TRUE(patched);
  EXPECT_EQ(patched->status, 409) << patched->body;
  EXPECT_THAT(patched->body, HasSubstr("created without egress rules"));
  // The token is required, as on every port of the proxy.
  httplib::Client anonymous("http://" + sandbox->proxy_host);
  auto refused = anonymous.Get(policy);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  // A paused sandbox answers it too: it needs none of the sandbox's processes.
  auto paused = api_->Post("/v1/sandboxes/" + sandbox->id + "/pause", "", "application/json");
  ASSERT_TRUE(paused);
  ASSERT_EQ(paused->status, 202) << paused->body;
  auto while_paused = egress.Get(policy);
  ASSERT_TRUE(while_paused);
  EXPECT_EQ(while_paused->status, 200) << while_paused->body;
}

// Without a network policy that lets anything out there is no egress API: port 18080 is the
// sandbox's own, as any other.
TEST_F(Network, WithoutEgressPort18080IsTheSandboxsOwn) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  CommandResult started = RunCommand(
      *sandbox, "cd /tmp && echo own > policy && python3 -m http.server 18080 --bind 127.0.0.1",
      {{"background", true}});
  ASSERT_EQ(ExitCode(started), 0) << Describe(started);
  httplib::Client client("http://" + sandbox->proxy_host);
  client.set_default_headers({{"X-EXECD-ACCESS-TOKEN", sandbox->token}});
  const std::string path = absl::StrCat("/sandboxes/", sandbox->id, "/proxy/18080/policy");
  auto r = client.Get(path);
  for (int i = 0; i < 100 && (!r || r->status != 200); ++i) {  // until the server listens
    absl::SleepFor(absl::Milliseconds(100));
    r = client.Get(path);
  }
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "own\n");
}

TEST_F(Network, MalformedPoliciesAreRefusedWithAReason) {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"defaultAction", "maybe"}}, "defaultAction"},
      {{{"defaultAction", "deny"}, {"egress", {{{"action", "allow"}, {"target", "10.0.0.1"}}}}},
       "IP addresses"},
      {{{"egress", {{{"action", "allow"}, {"target", "*"}}}}}, "not a host name"},
      {{{"egress", {{{"action", "allow"}, {"target", "a..b"}}}}}, "not a host name"},
      {{{"egress", {{{"action", "allow"}}}}}, "needs a target"},
      {{{"egress", {{{"action", "allow"}, {"target", "x.io"}, {"port", 443}}}}}, "port"},
      {{{"defaultAction", "deny"}, {"ingress", json::array()}}, "ingress"},
  };
  for (const auto& [policy, reason] : cases) {
    auto r = api_->Post("/v1/sandboxes", WithPolicy(policy).dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << policy.dump() << " " << r->body;
    EXPECT_EQ(ErrorCode(r->body), "SANDBOX::INVALID_PARAMETER") << r->body;
    EXPECT_THAT(r->body, HasSubstr(reason)) << policy.dump();
  }
  auto list = api_->Get("/v1/sandboxes");
  ASSERT_TRUE(list);
  EXPECT_EQ(ParseJson(list->body)["pagination"]["totalItems"], 0) << "a refused create left one";
}

TEST_F(Network, RulesByNameOutliveARuntimeRestart) {
  TinyServer outside(host_, "outside");
  const json allow = {{"action", "allow"}, {"target", "allowed.test"}};
  auto sandbox = CreateSandbox(WithPolicy({{"defaultAction", "deny"}, {"egress", {allow}}}));
  ASSERT_TRUE(sandbox.has_value());
  ASSERT_TRUE(runtime_->Restart());
  api_ = runtime_->Client();
  auto again = ResolveAgent(*api_, sandbox->id);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(Fetch(*again, Url("allowed.test", outside.port())), "outside");
  EXPECT_EQ(Resolve(*again, "denied.test"), "unresolved");
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
