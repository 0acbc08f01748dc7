// CallJson's retries: idempotent requests are sent again on 429/502/503/504 after Retry-After
// (or a backoff), never past their deadline; other requests once; the final error keeps the
// server's Retry-After, which reaches clients as google.rpc.RetryInfo.
#include <httplib.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "daemon/services/grpc_status.h"
#include "daemon/upstream/lifecycle_client.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "rest/error.h"

namespace osb::daemon {
namespace {

class FlakyServer {
 public:
  FlakyServer() {
    // 503 twice, then the answer.
    server_.Get("/flaky", [this](const httplib::Request&, httplib::Response& res) {
      if (++flaky_ <= 2) {
        res.status = 503;
        res.set_header("Retry-After", "0");
        res.set_content(R"({"code":"BUSY","message":"try again"})", "application/json");
        return;
      }
      res.set_content(R"({"ok":true})", "application/json");
    });
    server_.Get("/down", [this](const httplib::Request&, httplib::Response& res) {
      ++down_;
      res.status = 502;
      res.set_content(R"({"code":"BAD_GATEWAY","message":"no backend"})", "application/json");
    });
    server_.Post("/busy", [this](const httplib::Request&, httplib::Response& res) {
      ++busy_;
      res.status = 429;
      res.set_header("Retry-After", "7");
      res.set_content(R"({"code":"RATE_LIMITED","message":"slow down"})", "application/json");
    });
    server_.Get("/busy-long", [this](const httplib::Request&, httplib::Response& res) {
      ++busy_long_;
      res.status = 429;
      res.set_header("Retry-After", "30");
      res.set_content(R"({"code":"RATE_LIMITED","message":"slow down"})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FlakyServer() {
    server_.stop();
    thread_.join();
  }
  HttpRequest Request(const std::string& method, const std::string& path) const {
    HttpRequest r;
    r.method = method;
    r.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    r.timeout = absl::Seconds(5);
    return r;
  }

  std::atomic<int> flaky_{0}, down_{0}, busy_{0}, busy_long_{0};

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

absl::StatusOr<nlohmann::json> Call(CurlLoop& loop, HttpRequest request) {
  std::promise<absl::StatusOr<nlohmann::json>> done;
  CallJson(loop, std::move(request),
           [&done](absl::StatusOr<nlohmann::json> j) { done.set_value(std::move(j)); });
  return done.get_future().get();
}

TEST(LifecycleRetryTest, AnIdempotentRequestIsRetriedUntilItSucceeds) {
  FlakyServer server;
  CurlLoop loop;
  std::vector<int> retries;  // per transfer, as the statistics hear of them
  loop.SetObserver([&retries](const CurlLoop::TransferReport& r) { retries.push_back(r.retries); });
  auto j = Call(loop, server.Request("GET", "/flaky"));
  ASSERT_TRUE(j.ok()) << j.status();
  EXPECT_EQ((*j)["ok"], true);
  EXPECT_EQ(server.flaky_, 3);
  // The observer runs on the loop thread before the callback that answered Call.
  EXPECT_EQ(retries, (std::vector<int>{0, 1, 1}));
}

TEST(LifecycleRetryTest, RetriesStopAfterFourAttempts) {
  FlakyServer server;
  CurlLoop loop;
  auto j = Call(loop, server.Request("GET", "/down"));
  EXPECT_EQ(j.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(rest::ErrorCodeOf(j.status()), "BAD_GATEWAY");
  EXPECT_EQ(server.down_, 4);
}

TEST(LifecycleRetryTest, APostIsSentOnceAndItsRetryAfterReachesTheClient) {
  FlakyServer server;
  CurlLoop loop;
  auto j = Call(loop, server.Request("POST", "/busy"));
  EXPECT_EQ(j.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(server.busy_, 1) << "not idempotent: never sent twice";
  EXPECT_EQ(rest::RetryAfterOf(j.status()), absl::Seconds(7));

  grpc::Status status = ToGrpcStatus(j.status());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  bool found = false;
  for (const auto& any : details.details()) {
    google::rpc::RetryInfo retry;
    if (any.UnpackTo(&retry)) {
      found = true;
      EXPECT_EQ(retry.retry_delay().seconds(), 7);
    }
  }
  EXPECT_TRUE(found) << details.DebugString();
}

TEST(LifecycleRetryTest, ARetryAfterBeyondTheDeadlineIsNotWaitedFor) {
  FlakyServer server;
  CurlLoop loop;
  const absl::Time start = absl::Now();
  auto j = Call(loop, server.Request("GET", "/busy-long"));
  EXPECT_EQ(j.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(server.busy_long_, 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "answered without waiting 10 s";
}

}  // namespace
}  // namespace osb::daemon
