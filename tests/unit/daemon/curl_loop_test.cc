#include "daemon/upstream/curl_loop.h"

#include <httplib.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace osb::daemon {
namespace {

// A local HTTP server on an ephemeral port, serving a few routes for the loop to fetch.
class LocalServer {
 public:
  LocalServer() {
    server_.Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Echo", req.get_header_value("X-Test"));
      res.set_content("hello", "text/plain");
    });
    server_.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "application/octet-stream");
    });
    server_.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::seconds(3));
      res.set_content("late", "text/plain");
    });
    server_.Get("/stream", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](std::size_t, httplib::DataSink& sink) {
        for (int i = 0; i < 100; ++i) {
          std::string piece = std::to_string(i) + "\n";
          if (!sink.write(piece.data(), piece.size())) return false;
        }
        sink.done();
        return true;
      });
    });
    server_.Get("/forever", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](std::size_t, httplib::DataSink& sink) {
        while (sink.is_writable() && sink.write("x", 1)) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
      });
    });
    server_.set_keep_alive_max_count(1000);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~LocalServer() {
    server_.stop();
    thread_.join();
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

HttpResult Fetch(CurlLoop& loop, HttpRequest request) {
  std::promise<HttpResult> done;
  loop.Start(std::move(request), {.on_done = [&](HttpResult r) { done.set_value(std::move(r)); }});
  return done.get_future().get();
}

TEST(CurlLoop, BuffersABodyWithStatusAndHeaders) {
  LocalServer server;
  CurlLoop loop;
  HttpResult r = Fetch(loop, {.url = server.Url("/hello"), .headers = {{"X-Test", "42"}}});
  ASSERT_TRUE(r.transport.ok()) << r.transport;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.header("X-Echo"), "42");
}

TEST(CurlLoop, PostsABody) {
  LocalServer server;
  CurlLoop loop;
  HttpResult r = Fetch(loop, {.method = "POST", .url = server.Url("/echo"), .body = "payload"});
  EXPECT_EQ(r.body, "payload");
}

TEST(CurlLoop, NotFoundIsAResponseNotATransportError) {
  LocalServer server;
  CurlLoop loop;
  HttpResult r = Fetch(loop, {.url = server.Url("/missing")});
  EXPECT_TRUE(r.transport.ok());
  EXPECT_EQ(r.status, 404);
}

TEST(CurlLoop, ReusesOneConnectionForSequentialRequests) {
  LocalServer server;
  CurlLoop loop;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Fetch(loop, {.url = server.Url("/hello")}).status, 200);
  EXPECT_EQ(loop.stats().connections_opened, 1u);
  EXPECT_EQ(loop.stats().transfers_started, 10u);
}

TEST(CurlLoop, CountsPerOrigin) {
  LocalServer server;
  CurlLoop loop;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Fetch(loop, {.url = server.Url("/hello")}).status, 200);
  ASSERT_EQ(Fetch(loop, {.url = server.Url("/missing")}).status, 404);
  ASSERT_EQ(Fetch(loop, {.method = "POST", .url = server.Url("/echo"), .body = "12345"}).status,
            200);
  const std::string origin = CurlLoop::OriginOf(server.Url("/"));
  auto stats = loop.stats();
  ASSERT_EQ(stats.origins.count(origin), 1u) << origin;
  const CurlLoop::OriginStats& o = stats.origins.at(origin);
  EXPECT_EQ(o.requests, 5u);
  EXPECT_EQ(o.errors, 1u) << "the 404";
  EXPECT_EQ(o.connections_opened, 1u);
  EXPECT_EQ(o.open_connections, 1u) << "kept alive in the pool";
  EXPECT_EQ(o.in_flight, 0u);
  EXPECT_EQ(o.bytes_sent, 5u);
  EXPECT_GE(o.bytes_received, 3 * 5u + 5u) << "three hellos, the echo, and the 404's page";
  loop.Stop();
}

TEST(CurlLoop, OriginOfNamesSchemeHostAndPort) {
  EXPECT_EQ(CurlLoop::OriginOf("http://127.0.0.1:8080/v1/sandboxes?x=1"), "http://127.0.0.1:8080");
  EXPECT_EQ(CurlLoop::OriginOf("https://example.com/v1"), "https://example.com:443");
  EXPECT_EQ(CurlLoop::OriginOf("http://example.com"), "http://example.com:80");
  EXPECT_EQ(CurlLoop::OriginOf("http://user:pw@host:1/a"), "http://host:1");
  EXPECT_EQ(CurlLoop::OriginOf("http://[::1]/a"), "http://[::1]:80");
  EXPECT_EQ(CurlLoop::OriginOf("http://[::1]:9/a"), "http://[::1]:9");
}

TEST(CurlLoop, RouteOfNamesTheRouteNotTheIds) {
  EXPECT_EQ(CurlLoop::RouteOf("GET", "http://h:1/v1/sandboxes?page=1&pageSize=20"),
            "GET /v1/sandboxes");
  EXPECT_EQ(CurlLoop::RouteOf("POST", "http://h:1/v1/sandboxes/3f0c2b9e-8f6a-4c1d-9a51-2b7f0e6d4a11"
                                      "/renew-expiration"),
            "POST /v1/sandboxes/{id}/renew-expiration");
  EXPECT_EQ(CurlLoop::RouteOf("GET", "http://h:1/sandboxes/0123456789abcdef0123456789abcdef/proxy/"
                                     "44772/command/status/00ff00ff00ff00ff00ff00ff00ff00ff"),
            "GET /sandboxes/{id}/proxy/{n}/command/status/{id}");
  EXPECT_EQ(CurlLoop::RouteOf("GET", "http://h:1"), "GET /");
  EXPECT_EQ(CurlLoop::RouteOf("GET", "http://h:1/files/info?path=/a/b"), "GET /files/info");
}

TEST(CurlLoop, TheObserverSeesEveryFinishedTransfer) {
  LocalServer server;
  CurlLoop loop;
  std::vector<CurlLoop::TransferReport> reports;
  absl::Mutex mu;
  loop.SetObserver([&](const CurlLoop::TransferReport& r) {
    absl::MutexLock lock(&mu);
    reports.push_back(r);
  });
  ASSERT_EQ(Fetch(loop, {.url = server.Url("/hello")}).status, 200);
  ASSERT_EQ(Fetch(loop, {.url = server.Url("/missing?x=1")}).status, 404);
  loop.Stop();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].route, "GET /hello");
  EXPECT_EQ(reports[0].origin, CurlLoop::OriginOf(server.Url("/")));
  EXPECT_EQ(reports[0].status, 200);
  EXPECT_TRUE(reports[0].answered);
  EXPECT_GT(reports[0].latency, absl::ZeroDuration());
  EXPECT_EQ(reports[1].route, "GET /missing");
  EXPECT_EQ(reports[1].status, 404);
}

TEST(CurlLoop, StreamsTheBodyToOnData) {
  LocalServer server;
  CurlLoop loop;
  std::string streamed;
  std::promise<HttpResult> done;
  int status_seen = 0;
  loop.Start({.url = server.Url("/stream")},
             {.on_headers = [&](int status, const HeaderList&) { status_seen = status; },
              .on_data =
                  [&](absl::string_view bytes) {
                    streamed.append(bytes.data(), bytes.size());
                    return DataAction::kContinue;
                  },
              .on_done = [&](HttpResult r) { done.set_value(std::move(r)); }});
  HttpResult r = done.get_future().get();
  EXPECT_TRUE(r.transport.ok());
  EXPECT_EQ(status_seen, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(streamed.substr(0, 6), "0\n1\n2\n");
  EXPECT_EQ(std::count(streamed.begin(), streamed.end(), '\n'), 100);
}

TEST(CurlLoop, PauseHoldsTheStreamUntilResume) {
  LocalServer server;
  CurlLoop loop;
  std::atomic<int> chunks{0};
  std::promise<void> paused;
  std::promise<HttpResult> done;
  CurlLoop::TransferId id = loop.Start(
      {.url = server.Url("/stream")},
      {.on_data =
           [&](absl::string_view) {
             if (++chunks == 1) {
               paused.set_value();
               return DataAction::kPause;
             }
             return DataAction::kContinue;
           },
       .on_done = [&](HttpResult r) { done.set_value(std::move(r)); }});
  paused.get_future().get();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(chunks.load(), 1) << "data arrived while paused";
  loop.Resume(id);
  EXPECT_TRUE(done.get_future().get().transport.ok());
}

TEST(CurlLoop, CancelEndsATransferWithCancelled) {
  LocalServer server;
  CurlLoop loop;
  std::promise<HttpResult> done;
  std::promise<void> started;
  std::atomic<bool> once{false};
  CurlLoop::TransferId id =
      loop.Start({.url = server.Url("/forever"), .timeout = absl::InfiniteDuration()},
                 {.on_data =
                      [&](absl::string_view) {
                        if (!once.exchange(true)) started.set_value();
                        return DataAction::kContinue;
                      },
                  .on_done = [&](HttpResult r) { done.set_value(std::move(r)); }});
  started.get_future().get();
  loop.Cancel(id);
  EXPECT_EQ(done.get_future().get().transport.code(), absl::StatusCode::kCancelled);
}

TEST(CurlLoop, ACancelTokenEndsItsTransfersAndRefusesNewOnes) {
  LocalServer server;
  CurlLoop loop;
  auto token = std::make_shared<CancelToken>();
  std::promise<HttpResult> slow_done;
  const absl::Time start = absl::Now();
  loop.Start({.url = server.Url("/slow"), .cancel = token},
             {.on_done = [&](HttpResult r) { slow_done.set_value(std::move(r)); }});
  HttpResult other = Fetch(loop, {.url = server.Url("/hello")});  // the slow one is under way
  EXPECT_EQ(other.status, 200);
  token->Cancel();
  EXPECT_EQ(slow_done.get_future().get().transport.code(), absl::StatusCode::kCancelled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2)) << "/slow answers after 3 s";
  EXPECT_TRUE(token->cancelled());

  HttpResult late = Fetch(loop, {.url = server.Url("/hello"), .cancel = token});
  EXPECT_EQ(late.transport.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(late.status, 0) << "a request of a cancelled call never goes out";
  EXPECT_EQ(Fetch(loop, {.url = server.Url("/hello")}).status, 200) << "others are unaffected";
}

TEST(CurlLoop, TimeoutIsDeadlineExceeded) {
  LocalServer server;
  CurlLoop loop;
  HttpResult r = Fetch(loop, {.url = server.Url("/slow"), .timeout = absl::Milliseconds(200)});
  EXPECT_EQ(r.transport.code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(CurlLoop, RefusedConnectionIsUnavailable) {
  CurlLoop loop;
  HttpResult r = Fetch(loop, {.url = "http://127.0.0.1:1/"});
  EXPECT_EQ(r.transport.code(), absl::StatusCode::kUnavailable);
}

TEST(CurlLoop, BufferedBodyOverTheLimitIsResourceExhausted) {
  LocalServer server;
  CurlLoop loop(/*max_buffered_body=*/10);
  HttpResult r = Fetch(loop, {.url = server.Url("/stream")});
  EXPECT_EQ(r.transport.code(), absl::StatusCode::kResourceExhausted);
}

TEST(CurlLoop, PostRunsOnTheLoopAfterTheDelay) {
  CurlLoop loop;
  std::promise<absl::Time> ran;
  absl::Time start = absl::Now();
  loop.Post([&] { ran.set_value(absl::Now()); }, absl::Milliseconds(100));
  EXPECT_GE(ran.get_future().get() - start, absl::Milliseconds(90));
}

TEST(CurlLoop, DestructionCancelsWhatIsStillRunning) {
  LocalServer server;
  std::promise<HttpResult> done;
  {
    CurlLoop loop;
    loop.Start({.url = server.Url("/forever"), .timeout = absl::InfiniteDuration()},
               {.on_data = [](absl::string_view) { return DataAction::kContinue; },
                .on_done = [&](HttpResult r) { done.set_value(std::move(r)); }});
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(done.get_future().get().transport.code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace osb::daemon
