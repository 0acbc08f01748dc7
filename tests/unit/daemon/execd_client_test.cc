// ExecdClient against a local server speaking as the official execd does, for what osb-agent
// never sends: the bare {"code","message"} line that ends a session run that timed out.
#include "daemon/upstream/execd_client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <future>
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

}  // namespace
}  // namespace osb::daemon
