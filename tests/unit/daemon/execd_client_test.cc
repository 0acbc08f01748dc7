// ExecdClient against a local server speaking as the official execd does, for what osb-agent
// never sends: the bare {"code","message"} line that ends a session run that timed out; and
// when it tells osbd's endpoint cache to forget an endpoint.
#include "daemon/upstream/execd_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <functional>
#include <future>
#include <utility>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace osb::daemon {
namespace {

TEST(ExecdClient, ASessionTimeoutLineArrivesAsAnErrorEvent) {
  httplib::Server server;
  std::string path_seen;
  server.Post("/session/([^/]+)/run", [&](const httplib::Request& req, httplib::Response& res) {
    path_seen = req.matches[1].str();
    res.set_content(
        "{\"type\":\"init\",\"text\":\"s 1\",\"timestamp\":1}\n\n"
        "{\"type\":\"stdout\",\"text\":\"working\",\"timestamp\":2}\n\n"
        "not an event\n\n"
        "{\"code\":\"RUNTIME_ERROR\",\"message\":\"command timed out after 500ms\"}\n\n",
        "text/event-stream");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });

  std::vector<rest::ServerStreamEvent> events;
  std::promise<absl::Status> ended;
  auto loop = std::make_unique<CurlLoop>();
  ExecdClient execd(*loop);
  rest::SessionRunRequest request{.command = "sleep 9", .timeout_ms = 500};
  execd.RunInSession({.base_url = "http://127.0.0.1:" + std::to_string(port)}, "s 1", request,
                     {.on_event =
                          [&](rest::ServerStreamEvent e) {
                            events.push_back(std::move(e));
                            return DataAction::kContinue;
                          },
                      .on_end = [&](absl::Status s) { ended.set_value(s); }});
  absl::Status status = ended.get_future().get();
  loop.reset();  // closes its kept-alive connection, so the server stops at once
  server.stop();
  serving.join();

  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(path_seen, "s 1") << "the session id travels URL-encoded";
  ASSERT_EQ(events.size(), 3u) << "the line that is neither an event nor an error is skipped";
  EXPECT_EQ(events[1].text, "working");
  EXPECT_EQ(events[2].type, rest::kEventError);
  ASSERT_TRUE(events[2].error.has_value());
  EXPECT_EQ(events[2].error->ename, "RUNTIME_ERROR");
  EXPECT_EQ(events[2].error->evalue, "command timed out after 500ms");
  EXPECT_FALSE(rest::ExitCodeOf(events[2]).has_value()) << "no exit code is made up";
  EXPECT_GT(events[2].timestamp_ms, 0);
}

// Each answer the server gives to /files/info, and whether the endpoint was forgotten after it,
// through a unary call and through a streamed one (a download).
TEST(ExecdClient, AnEndpointFoundGoneIsForgottenAndNoOtherIs) {
  httplib::Server server;
  std::atomic<int> answer{200};
  auto reply = [&](const httplib::Request&, httplib::Response& res) {
    res.status = answer;
    res.set_content(answer == 200 ? "{}" : R"({"code":"X","message":"no"})", "application/json");
  };
  server.Get("/files/info", reply);
  server.Get("/files/download", reply);
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  auto loop = std::make_unique<CurlLoop>();
  ExecdClient execd(*loop);
  std::atomic<int> forgotten{0};
  const ExecdEndpoint endpoint{.base_url = "http://127.0.0.1:" + std::to_string(port),
                               .forget = [&] { ++forgotten; }};
  auto unary = [&] {
    std::promise<void> done;
    execd.Call(endpoint, "GET", "/files/info?path=x", "",
               [&](absl::StatusOr<HttpResult>) { done.set_value(); });
    done.get_future().get();
  };
  auto streamed = [&] {
    std::promise<void> done;
    execd.Download(endpoint, "x", "",
                   {.on_start = [](int, const HeaderList&) {},
                    .on_data = [](absl::string_view) { return DataAction::kContinue; },
                    .on_end = [&](absl::Status) { done.set_value(); }});
    done.get_future().get();
  };
  for (auto call : {std::function<void()>(unary), std::function<void()>(streamed)}) {
    for (const auto& [status, forgets] : std::vector<std::pair<int, bool>>{
             {200, false}, {400, false}, {500, false}, {404, true}, {502, true}, {503, true}}) {
      answer = status;
      forgotten = 0;
      call();
      EXPECT_EQ(forgotten.load(), forgets ? 1 : 0) << "HTTP " << status;
    }
  }
  loop.reset();
  server.stop();
  serving.join();

  // Nothing listens there any more: a connection failure forgets it too.
  auto refused_loop = std::make_unique<CurlLoop>();
  ExecdClient refused(*refused_loop);
  forgotten = 0;
  std::promise<void> done;
  refused.Call(endpoint, "GET", "/files/info?path=x", "",
               [&](absl::StatusOr<HttpResult>) { done.set_value(); });
  done.get_future().get();
  EXPECT_EQ(forgotten.load(), 1);
}

// execd's unary calls follow the lifecycle API's retry policy (retrying_send.h): a GET meeting
// 503 is sent again until it is answered; a POST is sent once.
TEST(ExecdClient, AnIdempotentCallIsRetriedAndAPostIsNot) {
  httplib::Server server;
  std::atomic<int> gets{0}, posts{0};
  server.Get("/files/info", [&](const httplib::Request&, httplib::Response& res) {
    if (++gets <= 2) {
      res.status = 503;
      res.set_header("Retry-After", "0");
      res.set_content(R"({"code":"BUSY","message":"try again"})", "application/json");
      return;
    }
    res.set_content(R"({"/a":{"path":"/a"}})", "application/json");
  });
  server.Post("/directories", [&](const httplib::Request&, httplib::Response& res) {
    ++posts;
    res.status = 503;
    res.set_content(R"({"code":"BUSY","message":"try again"})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  auto loop = std::make_unique<CurlLoop>();
  ExecdClient execd(*loop);
  const ExecdEndpoint endpoint{.base_url = "http://127.0.0.1:" + std::to_string(port)};
  auto call = [&](std::string method, std::string target) {
    std::promise<absl::StatusOr<HttpResult>> done;
    execd.Call(endpoint, std::move(method), std::move(target), "",
               [&done](absl::StatusOr<HttpResult> r) { done.set_value(std::move(r)); });
    return done.get_future().get();
  };
  auto info = call("GET", "/files/info?path=%2Fa");
  auto made = call("POST", "/directories");
  loop.reset();
  server.stop();
  serving.join();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(gets, 3);
  EXPECT_EQ(made.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(posts, 1) << "a POST may have been acted on: never sent twice";
}

}  // namespace
}  // namespace osb::daemon
