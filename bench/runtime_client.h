// The "direct" baseline: osb-runtime's lifecycle API and a sandbox's execd through the runtime's
// proxy, over one keep-alive libcurl handle, with no daemon in between. It does what an official
// SDK does (POST /v1/sandboxes, GET the execd endpoint, GET /ping until it answers, POST /command
// and decode the event stream, DELETE), so its numbers are what a pooled client gets.
//
//   osb::bench::RuntimeClient client("127.0.0.1:8080", api_key);
//   auto sandbox = client.Create();
//   auto run = client.Run(*sandbox, "echo hi", {});
//   client.Delete(sandbox->id);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace osb::bench {

// The body of POST /v1/sandboxes that the official SDKs send for a default sandbox.
std::string DefaultCreateBody();

// A sandbox as the direct client reaches it.
struct DirectSandbox {
  std::string id;
  std::string execd_url;  // http://host:port/sandboxes/{id}/proxy/44772
  std::string token;      // X-EXECD-ACCESS-TOKEN from the endpoint's headers
};

// What a command's event stream carried.
struct RunResult {
  int exit_code = -1000;  // -1000: no terminal event
  uint64_t stdout_bytes = 0;
  uint64_t stdout_lines = 0;
};

// Not thread-safe: one per thread. Each client holds one connection, reused for every request.
class RuntimeClient {
 public:
  RuntimeClient(std::string address, std::string api_key);
  ~RuntimeClient();
  RuntimeClient(const RuntimeClient&) = delete;
  RuntimeClient& operator=(const RuntimeClient&) = delete;

  // POST /v1/sandboxes, GET its execd endpoint, then GET /ping every 2 ms until it answers 2xx
  // (at most 30 s). The sandbox is deleted again when a step after the POST fails.
  absl::StatusOr<DirectSandbox> Create();
  // GET the execd endpoint (through the runtime's proxy) of sandbox `id`, made by anyone.
  absl::StatusOr<DirectSandbox> Endpoint(const std::string& id);
  // GET /health within `timeout`; OK on 200.
  absl::Status Health(absl::Duration timeout);
  // GET /v1/sandboxes/{id}; OK on 200.
  absl::Status Get(const std::string& id);
  // DELETE /v1/sandboxes/{id}; OK on 204.
  absl::Status Delete(const std::string& id);
  // POST {execd}/command with `command`; decodes every event. `on_first_stdout` runs when the
  // first stdout event arrives. Error when the request fails, takes longer than `timeout`, or
  // the stream has no terminal event.
  absl::StatusOr<RunResult> Run(const DirectSandbox& sandbox, const std::string& command,
                                const std::function<void()>& on_first_stdout,
                                absl::Duration timeout = absl::Minutes(10));

 private:
  struct Response {
    long status = 0;
    std::string body;
  };
  absl::StatusOr<Response> Request(const std::string& method, const std::string& url,
                                   const std::string& body, bool lifecycle,
                                   const std::string& token,
                                   absl::Duration timeout = absl::Seconds(60));

  std::string base_;
  std::string api_key_;
  void* curl_;  // CURL*
};

}  // namespace osb::bench
