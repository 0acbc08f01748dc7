// LifecycleClient's requests as they reach a server: paths, queries and how answers are read.
#include <httplib.h>

#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/upstream/lifecycle_client.h"

namespace osb::daemon {
namespace {

class EndpointServer {
 public:
  EndpointServer() {
    server_.Get(R"(/v1/sandboxes/sb1/endpoints/(\d+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard<std::mutex> lock(mu_);
                  queries_.push_back(req.params);
                  const bool signed_route = req.has_param("expires");
                  res.set_content(
                      signed_route
                          ? R"({"endpoint":"gw.example:443/sb1-8080-1x2y-5ig","headers":{}})"
                          : R"({"endpoint":"127.0.0.1:9/proxy/8080"})",
                      "application/json");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~EndpointServer() {
    server_.stop();
    thread_.join();
  }
  Origin origin() const {
    Origin o;
    o.authority = "127.0.0.1:" + std::to_string(port_);
    return o;
  }
  std::vector<httplib::Params> queries() {
    std::lock_guard<std::mutex> lock(mu_);
    return queries_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<httplib::Params> queries_;
};

absl::StatusOr<ExecdEndpoint> GetEndpoint(LifecycleClient& client, const Origin& origin,
                                          std::optional<int64_t> expires) {
  std::promise<absl::StatusOr<ExecdEndpoint>> done;
  client.GetEndpoint(
      origin, "sb1", 8080,
      [&done](absl::StatusOr<ExecdEndpoint> e) { done.set_value(std::move(e)); }, expires);
  return done.get_future().get();
}

std::string Param(const httplib::Params& params, const std::string& key) {
  auto it = params.find(key);
  return it == params.end() ? "<absent>" : it->second;
}

TEST(LifecycleClient, ASignedEndpointIsAskedForWithItsExpiryInUnixSeconds) {
  EndpointServer server;
  CurlLoop loop;
  LifecycleClient client(loop);

  auto plain = GetEndpoint(client, server.origin(), std::nullopt);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->base_url, "http://127.0.0.1:9/proxy/8080");

  auto signed_route = GetEndpoint(client, server.origin(), 1798761600);
  ASSERT_TRUE(signed_route.ok()) << signed_route.status();
  EXPECT_EQ(signed_route->endpoint, "gw.example:443/sb1-8080-1x2y-5ig");

  auto queries = server.queries();
  ASSERT_EQ(queries.size(), 2u);
  EXPECT_EQ(Param(queries[0], "use_server_proxy"), "false");
  EXPECT_EQ(Param(queries[0], "expires"), "<absent>");
  EXPECT_EQ(Param(queries[1], "use_server_proxy"), "false");
  EXPECT_EQ(Param(queries[1], "expires"), "1798761600");
}

}  // namespace
}  // namespace osb::daemon
