// Talking to osb-runtime and a sandbox's agent over HTTP only, as an OpenSandbox SDK does: create a
// sandbox and resolve its agent endpoint, run commands through the runtime's proxy and decode the
// event stream, and read what came back.
//
//   auto sandbox = osb::test::CreateSandbox(*api, {{"image", {{"uri", "host"}}}});
//   ASSERT_TRUE(sandbox.has_value());
//   osb::test::CommandResult r = osb::test::RunCommand(*sandbox, "echo hi");
//   EXPECT_EQ(osb::test::Stdout(r), "hi") << osb::test::Describe(r);
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nlohmann/json.hpp"
#include "rest/execd.h"

namespace osb::test {

// The port the agent listens on inside every sandbox; the endpoint API takes it in its path.
inline constexpr int kAgentPort = 44772;

// A sandbox a test created, with what its endpoint says to reach the agent.
struct SandboxHandle {
  std::string id;
  std::string proxy_host;  // host:port
  std::string proxy_path;  // /sandboxes/{id}/proxy/44772
  std::string token;
};

// What POST /command answered: the HTTP status and raw body (when the answer is not a stream), and
// for a stream its events (pings included) with the time each arrived at the client.
struct CommandResult {
  int http_status = 0;
  std::string content_type;
  std::string body;
  std::vector<rest::ServerStreamEvent> events;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  // Why the request or the stream failed, with a leading space; empty when neither did.
  std::string decode_error;
};

// `text` as JSON; a discarded value (not an object) when it does not parse.
nlohmann::json ParseJson(const std::string& text);

// The official error shape: exactly {"code","message"}, both strings, code non-empty.
::testing::AssertionResult IsErrorBody(const std::string& body);

// The "code" of an error body; "" when the body is not a JSON object or has none.
std::string ErrorCode(const std::string& body);

// Events other than keep-alive pings.
std::vector<rest::ServerStreamEvent> WithoutPings(const std::vector<rest::ServerStreamEvent>& all);

// The types of the events other than pings, in order.
std::vector<std::string> Types(const CommandResult& r);

// The text of every event of `type`, in order.
std::vector<std::string> Texts(const CommandResult& r, std::string_view type);

// The stdout events' texts joined by newlines: the output as the command wrote it, for output
// whose lines fit in one event.
std::string Stdout(const CommandResult& r);

// The exit code the SDKs derive from the terminal event, -1000 without one.
int ExitCode(const CommandResult& r);

// The status, any error and the events (or the body when there are none), cut short, for a
// failure message.
std::string Describe(const CommandResult& r);

// Creates a sandbox with POST /v1/sandboxes `body` through `api` (which carries the API key) and
// resolves its agent endpoint. nullopt, with a test failure recorded, when either step fails or
// the endpoint has no proxy path.
std::optional<SandboxHandle> CreateSandbox(httplib::Client& api, const nlohmann::json& body);

// Resolves the agent endpoint of an existing sandbox; nullopt, with a test failure recorded, when
// that fails.
std::optional<SandboxHandle> ResolveAgent(httplib::Client& api, const std::string& id);

// POST {proxy}{path} (a streaming route: /command, /session/{id}/run) with `body`, sending
// `token` when given, as a user of the endpoint does (no API key). Events are decoded as they
// arrive, each stamped with its arrival time. Never fails the test itself: what went wrong is in
// the result's decode_error.
CommandResult PostCommand(const SandboxHandle& sandbox, const std::string& body,
                          const std::optional<std::string>& token,
                          const std::string& path = "/command");

// A client for the sandbox's agent through the runtime's proxy, with the access token set on every
// request; paths are relative to the agent (AgentPath("/files/info?path=/tmp")).
struct AgentClient {
  explicit AgentClient(const SandboxHandle& sandbox);
  std::string AgentPath(const std::string& path) const { return prefix + path; }
  httplib::Result Get(const std::string& path, const httplib::Headers& headers = {});
  httplib::Result Delete(const std::string& path);
  httplib::Result Post(const std::string& path, const std::string& body,
                       const std::string& content_type = "application/json");
  // POST /files/upload with these parts, in order.
  httplib::Result Upload(const httplib::MultipartFormDataItems& parts);

  httplib::Client http;
  std::string prefix;
};

// Runs `command` in the sandbox with its token; `extra` adds request fields (cwd, timeout, ...).
CommandResult RunCommand(const SandboxHandle& sandbox, const std::string& command,
                         nlohmann::json extra = nlohmann::json::object());

}  // namespace osb::test
