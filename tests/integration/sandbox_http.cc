#include "tests/integration/sandbox_http.h"

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rest/sse.h"

namespace osb::test {

using json = nlohmann::json;

json ParseJson(const std::string& text) { return json::parse(text, nullptr, false); }

::testing::AssertionResult IsErrorBody(const std::string& body) {
  json j = ParseJson(body);
  if (!j.is_object()) return ::testing::AssertionFailure() << "not a JSON object: " << body;
  if (j.size() != 2 || !j.contains("code") || !j.contains("message")) {
    return ::testing::AssertionFailure() << "keys other than code and message: " << body;
  }
  if (!j["code"].is_string() || !j["message"].is_string() || j["code"].get<std::string>().empty()) {
    return ::testing::AssertionFailure() << "code/message not non-empty strings: " << body;
  }
  return ::testing::AssertionSuccess();
}

std::string ErrorCode(const std::string& body) {
  json j = ParseJson(body);
  return j.is_object() ? j.value("code", "") : "";
}

std::vector<rest::ServerStreamEvent> WithoutPings(const std::vector<rest::ServerStreamEvent>& all) {
  std::vector<rest::ServerStreamEvent> out;
  for (const auto& e : all) {
    if (e.type != rest::kEventPing) out.push_back(e);
  }
  return out;
}

std::vector<std::string> Types(const CommandResult& r) {
  std::vector<std::string> out;
  for (const auto& e : WithoutPings(r.events)) out.push_back(e.type);
  return out;
}

std::vector<std::string> Texts(const CommandResult& r, std::string_view type) {
  std::vector<std::string> out;
  for (const auto& e : r.events) {
    if (e.type == type) out.push_back(e.text);
  }
  return out;
}

std::string Stdout(const CommandResult& r) {
  return absl::StrJoin(Texts(r, rest::kEventStdout), "\n");
}

int ExitCode(const CommandResult& r) {
  if (r.events.empty()) return -1000;
  return rest::ExitCodeOf(r.events.back()).value_or(-1000);
}

std::string Describe(const CommandResult& r) {
  std::string out = absl::StrCat("HTTP ", r.http_status, r.decode_error, "\n");
  if (r.events.empty()) return out + r.body.substr(0, 2000);
  for (const auto& e : r.events) {
    absl::StrAppend(&out, rest::SerializeEvent(e).substr(0, 300), "\n");
    if (out.size() > 4000) break;
  }
  return out;
}

std::optional<SandboxHandle> CreateSandbox(httplib::Client& api, const json& body) {
  auto created = api.Post("/v1/sandboxes", body.dump(), "application/json");
  if (!created || created->status != 202) {
    ADD_FAILURE() << "create failed: " << (created ? created->body : "no answer");
    return std::nullopt;
  }
  return ResolveAgent(api, ParseJson(created->body).value("id", ""));
}

std::optional<SandboxHandle> ResolveAgent(httplib::Client& api, const std::string& id) {
  SandboxHandle h;
  h.id = id;
  auto endpoint = api.Get(absl::StrCat("/v1/sandboxes/", h.id, "/endpoints/", kAgentPort));
  if (!endpoint || endpoint->status != 200) {
    ADD_FAILURE() << "endpoint failed: " << (endpoint ? endpoint->body : "no answer");
    return std::nullopt;
  }
  json e = ParseJson(endpoint->body);
  std::string address = e.value("endpoint", "");
  std::size_t slash = address.find('/');
  if (slash == std::string::npos) {
    ADD_FAILURE() << "endpoint without a path: " << endpoint->body;
    return std::nullopt;
  }
  h.proxy_host = address.substr(0, slash);
  h.proxy_path = address.substr(slash);
  h.token = e["headers"].value("X-EXECD-ACCESS-TOKEN", "");
  return h;
}

CommandResult PostCommand(const SandboxHandle& sandbox, const std::string& body,
                          const std::optional<std::string>& token, const std::string& path) {
  httplib::Client client("http://" + sandbox.proxy_host);
  // Long enough for the slowest command a test runs (a fork bomb waits out its own timeout).
  client.set_read_timeout(120, 0);
  httplib::Request req;
  req.method = "POST";
  req.path = sandbox.proxy_path + path;
  req.body = body;
  req.set_header("Content-Type", "application/json");
  if (token.has_value()) req.set_header("X-EXECD-ACCESS-TOKEN", *token);
  CommandResult r;
  rest::SseDecoder decoder;
  auto sink = [&r](std::string_view data) {
    auto event = rest::ParseServerStreamEvent(data);
    if (!event.ok()) {
      r.decode_error = absl::StrCat(" undecodable event: ", event.status().message());
      return;
    }
    r.events.push_back(*std::move(event));
    r.arrivals.push_back(std::chrono::steady_clock::now());
  };
  // Only a 200 is a stream; any other answer is an error body to keep whole.
  bool streaming = false;
  req.response_handler = [&](const httplib::Response& res) {
    streaming = res.status == 200;
    return true;
  };
  req.content_receiver = [&](const char* data, std::size_t n, uint64_t, uint64_t) {
    std::string_view chunk(data, n);
    if (!streaming) {
      r.body.append(chunk);
      return true;
    }
    if (auto s = decoder.Feed(chunk, sink); !s.ok()) {
      r.decode_error = absl::StrCat(" ", s.message());
      return false;
    }
    return true;
  };
  auto res = client.send(req);
  if (!res) {
    r.decode_error = absl::StrCat(" request failed: ", httplib::to_string(res.error()));
    return r;
  }
  r.http_status = res->status;
  r.content_type = res->get_header_value("Content-Type");
  if (streaming) (void)decoder.Finish(sink);
  return r;
}

CommandResult RunCommand(const SandboxHandle& sandbox, const std::string& command, json extra) {
  extra["command"] = command;
  return PostCommand(sandbox, extra.dump(), sandbox.token);
}

AgentClient::AgentClient(const SandboxHandle& sandbox)
    : http("http://" + sandbox.proxy_host), prefix(sandbox.proxy_path) {
  http.set_default_headers({{"X-EXECD-ACCESS-TOKEN", sandbox.token}});
  http.set_read_timeout(60, 0);
}

httplib::Result AgentClient::Get(const std::string& path, const httplib::Headers& headers) {
  return http.Get(AgentPath(path), headers);
}

httplib::Result AgentClient::Delete(const std::string& path) {
  return http.Delete(AgentPath(path));
}

httplib::Result AgentClient::Post(const std::string& path, const std::string& body,
                                  const std::string& content_type) {
  return http.Post(AgentPath(path), body, content_type);
}

httplib::Result AgentClient::Upload(const httplib::MultipartFormDataItems& parts) {
  return http.Post(AgentPath("/files/upload"), parts);
}

}  // namespace osb::test
