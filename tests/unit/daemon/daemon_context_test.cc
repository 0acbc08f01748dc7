#include "daemon/services/daemon_context.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <future>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"

namespace osb::daemon {
namespace {

TEST(ParseDomain, AcceptsTheFormsTheSdksAccept) {
  std::string protocol = "http", authority;
  ASSERT_TRUE(ParseDomain("localhost:8080", &protocol, &authority).ok());
  EXPECT_EQ(authority, "localhost:8080");
  EXPECT_EQ(protocol, "http");
  ASSERT_TRUE(ParseDomain("https://sandbox.example.com/v1/", &protocol, &authority).ok());
  EXPECT_EQ(protocol, "https");
  EXPECT_EQ(authority, "sandbox.example.com");
}

TEST(ParseDomain, RejectsPathsAndEmptiness) {
  std::string protocol, authority;
  EXPECT_FALSE(ParseDomain("", &protocol, &authority).ok());
  EXPECT_FALSE(ParseDomain("host:1/other/path", &protocol, &authority).ok());
}

TEST(Resolve, RequestFieldsOverrideTheDefault) {
  Origin defaults;
  defaults.authority = "127.0.0.1:8080";
  defaults.api_key = "default-key";
  DaemonContext context(defaults, {});
  opensandbox::v1::Connection c;
  auto same = context.Resolve(c);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->api_key, "default-key");

  c.set_domain("remote:9000");
  auto remote = context.Resolve(c);
  ASSERT_TRUE(remote.ok());
  EXPECT_EQ(remote->authority, "remote:9000");
  EXPECT_EQ(remote->api_key, "") << "the default key must never go to another domain";

  c.set_api_key("k2");
  c.set_protocol("https");
  (*c.mutable_headers())["X-A"] = "1";
  auto full = context.Resolve(c);
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->api_key, "k2");
  EXPECT_EQ(full->LifecycleBase(), "https://remote:9000/v1");
  EXPECT_EQ(full->headers.back().first, "X-A");
}

TEST(Resolve, BadProtocolAndUnknownProfilesAreErrors) {
  DaemonContext context(Origin{}, {});
  opensandbox::v1::Connection c;
  c.set_protocol("ftp");
  EXPECT_EQ(context.Resolve(c).status().code(), absl::StatusCode::kInvalidArgument);
  opensandbox::v1::Connection p;
  p.set_profile("prod");
  auto unknown = context.Resolve(p);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("'prod'"), std::string::npos) << unknown.status();
}

TEST(Resolve, AProfileIsTheBaseTheRequestOverrides) {
  Origin defaults;
  defaults.authority = "127.0.0.1:8080";
  defaults.api_key = "default-key";
  Origin prod = defaults;
  prod.authority = "prod:443";
  prod.protocol = "https";
  prod.api_key = "prod-key";
  DaemonContext context(defaults, {}, {{"prod", prod}});
  opensandbox::v1::Connection c;
  c.set_profile("prod");
  auto resolved = context.Resolve(c);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->LifecycleBase(), "https://prod:443/v1");
  EXPECT_EQ(resolved->api_key, "prod-key");
  c.set_domain("other:1");
  auto other = context.Resolve(c);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->api_key, "") << "the profile's key must never go to another domain";
}

TEST(WithConnectionHeaders, TheEndpointsWinAndTheRestKeepTheirOrder) {
  HeaderList merged = WithConnectionHeaders({{"X-Team", "conn"}, {"X-Conn", "c"}},
                                            {{"x-team", "endpoint"}, {"X-Token", "t"}});
  EXPECT_EQ(merged, (HeaderList{{"X-Conn", "c"}, {"x-team", "endpoint"}, {"X-Token", "t"}}));
  EXPECT_TRUE(WithConnectionHeaders({}, {}).empty());
}

// As the official SDKs do, requests to execd carry the connection's headers, and the headers
// the endpoint came with.
TEST(WithExecd, ExecdRequestsCarryTheConnectionsHeadersAndTheEndpoints) {
  httplib::Server server;
  httplib::Headers seen;
  int port = 0;
  server.Get("/v1/sandboxes/sb1/endpoints/44772",
             [&](const httplib::Request&, httplib::Response& res) {
               res.set_content(absl::StrCat(R"({"endpoint":"127.0.0.1:)", port,
                                            R"(/proxy","headers":{"X-Team":"endpoint",)",
                                            R"("X-Token":"t"}})"),
                               "application/json");
             });
  server.Get("/proxy/ping", [&](const httplib::Request& req, httplib::Response& res) {
    seen = req.headers;
    res.status = 200;
  });
  port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  {
    Origin defaults;
    defaults.api_key = "lifecycle-key";
    defaults.authority = "127.0.0.1:" + std::to_string(port);
    defaults.headers = {{"X-Team", "config"}, {"X-Conn", "config"}};
    DaemonContext context(defaults, {});
    opensandbox::v1::Connection c;
    (*c.mutable_headers())["X-Request-Only"] = "r";
    auto origin = context.Resolve(c);
    ASSERT_TRUE(origin.ok()) << origin.status();
    std::promise<absl::Status> pinged;
    context.WithExecd(*origin, "sb1", [&](absl::StatusOr<ExecdEndpoint> endpoint) {
      if (!endpoint.ok()) return pinged.set_value(endpoint.status());
      context.execd().Ping(*endpoint, absl::Seconds(5),
                           [&](absl::Status s) { pinged.set_value(s); });
    });
    absl::Status status = pinged.get_future().get();
    EXPECT_TRUE(status.ok()) << status;
  }
  server.stop();
  serving.join();
  EXPECT_EQ(seen.count("X-Conn"), 1u);
  EXPECT_EQ(seen.count("X-Request-Only"), 1u);
  ASSERT_EQ(seen.count("X-Team"), 1u) << "the endpoint's header replaces the connection's";
  EXPECT_EQ(seen.find("X-Team")->second, "endpoint");
  EXPECT_EQ(seen.count("X-Token"), 1u);
  EXPECT_EQ(seen.count("OPEN-SANDBOX-API-KEY"), 0u) << "the API key is the lifecycle API's only";
}

}  // namespace
}  // namespace osb::daemon
