#include "bench/runtime_client.h"

#include <curl/curl.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "rest/execd.h"
#include "rest/sse.h"

namespace osb::bench {
namespace {

constexpr int kAgentPort = 44772;

CURL* Handle(void* p) { return static_cast<CURL*>(p); }

std::size_t AppendBody(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// Stream state of one POST /command.
struct StreamSink {
  rest::SseDecoder decoder;
  RunResult result;
  const std::function<void()>* on_first_stdout = nullptr;
  bool terminal = false;
  absl::Status error;
  CURL* curl = nullptr;
  long status = 0;  // read at the first chunk
  std::string error_body;

  void OnEvent(std::string_view json) {
    auto event = rest::ParseServerStreamEvent(json);
    if (!event.ok()) {
      error = event.status();
      return;
    }
    if (event->type == rest::kEventStdout) {
      if (result.stdout_lines++ == 0 && *on_first_stdout) (*on_first_stdout)();
      result.stdout_bytes += event->text.size();
    } else if (auto code = rest::ExitCodeOf(*event); code.has_value()) {
      result.exit_code = *code;
      terminal = true;
    } else if (event->type == rest::kEventError) {
      terminal = true;
    }
  }
};

std::size_t FeedStream(char* data, std::size_t size, std::size_t n, void* user) {
  auto* sink = static_cast<StreamSink*>(user);
  std::string_view chunk(data, size * n);
  if (sink->status == 0) curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &sink->status);
  if (sink->status != 200) {  // an error body, kept for the message
    sink->error_body.append(chunk.substr(0, 1000));
    return size * n;
  }
  absl::Status s =
      sink->decoder.Feed(chunk, [sink](std::string_view json) { sink->OnEvent(json); });
  if (!s.ok()) {
    sink->error = s;
    return 0;
  }
  return size * n;
}

}  // namespace

std::string DefaultCreateBody() {
  nlohmann::json body = {{"image", {{"uri", "host"}}},
                         {"entrypoint", {"tail", "-f", "/dev/null"}},
                         {"resourceLimits", {{"cpu", "1"}, {"memory", "2Gi"}}},
                         {"timeout", 600}};
  return body.dump();
}

RuntimeClient::RuntimeClient(std::string address, std::string api_key)
    : base_("http://" + std::move(address)),
      api_key_(std::move(api_key)),
      curl_(curl_easy_init()) {}

RuntimeClient::~RuntimeClient() { curl_easy_cleanup(Handle(curl_)); }

absl::StatusOr<RuntimeClient::Response> RuntimeClient::Request(
    const std::string& method, const std::string& url, const std::string& body, bool lifecycle,
    const std::string& token, absl::Duration timeout) {
  CURL* c = Handle(curl_);
  curl_easy_reset(c);
  Response r;
  curl_slist* headers = nullptr;
  if (lifecycle)
    headers = curl_slist_append(headers, ("OPEN-SANDBOX-API-KEY: " + api_key_).c_str());
  if (!token.empty())
    headers = curl_slist_append(headers, ("X-EXECD-ACCESS-TOKEN: " + token).c_str());
  if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat(method, " ", url, ": ", curl_easy_strerror(rc)));
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

absl::StatusOr<DirectSandbox> RuntimeClient::Endpoint(const std::string& id) {
  auto endpoint = Request("GET",
                          absl::StrCat(base_, "/v1/sandboxes/", id, "/endpoints/", kAgentPort,
                                       "?use_server_proxy=true"),
                          "", true, "");
  if (!endpoint.ok()) return endpoint.status();
  auto e = nlohmann::json::parse(endpoint->body, nullptr, false);
  if (endpoint->status != 200 || !e.is_object()) {
    return absl::InternalError("endpoint: " + endpoint->body);
  }
  DirectSandbox sandbox;
  sandbox.id = id;
  sandbox.execd_url = "http://" + e.value("endpoint", "");
  if (e.contains("headers") && e["headers"].is_object()) {
    sandbox.token = e["headers"].value("X-EXECD-ACCESS-TOKEN", "");
  }
  return sandbox;
}

absl::StatusOr<DirectSandbox> RuntimeClient::Create() {
  auto created = Request("POST", base_ + "/v1/sandboxes", DefaultCreateBody(), true, "");
  if (!created.ok()) return created.status();
  if (created->status != 202) {
    return absl::InternalError(absl::StrCat("create: HTTP ", created->status, " ", created->body));
  }
  DirectSandbox sandbox;
  auto j = nlohmann::json::parse(created->body, nullptr, false);
  if (j.is_object()) sandbox.id = j.value("id", "");
  if (sandbox.id.empty()) return absl::InternalError("create: no id in " + created->body);
  auto fail = [&](absl::Status s) {
    (void)Delete(sandbox.id);
    return s;
  };
  auto endpoint = Endpoint(sandbox.id);
  if (!endpoint.ok()) return fail(endpoint.status());
  sandbox = *std::move(endpoint);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (true) {
    auto ping = Request("GET", sandbox.execd_url + "/ping", "", false, sandbox.token);
    if (ping.ok() && ping->status / 100 == 2) return sandbox;
    if (absl::Now() > deadline)
      return fail(absl::DeadlineExceededError("agent never answered /ping"));
    absl::SleepFor(absl::Milliseconds(2));
  }
}

absl::Status RuntimeClient::Health(absl::Duration timeout) {
  auto r = Request("GET", base_ + "/health", "", false, "", timeout);
  if (!r.ok()) return r.status();
  if (r->status != 200) return absl::InternalError(absl::StrCat("health: HTTP ", r->status));
  return absl::OkStatus();
}

absl::Status RuntimeClient::Get(const std::string& id) {
  auto r = Request("GET", absl::StrCat(base_, "/v1/sandboxes/", id), "", true, "");
  if (!r.ok()) return r.status();
  if (r->status != 200) return absl::InternalError(absl::StrCat("get: HTTP ", r->status));
  return absl::OkStatus();
}

absl::Status RuntimeClient::Delete(const std::string& id) {
  auto r = Request("DELETE", absl::StrCat(base_, "/v1/sandboxes/", id), "", true, "");
  if (!r.ok()) return r.status();
  if (r->status != 204) return absl::InternalError(absl::StrCat("delete: HTTP ", r->status));
  return absl::OkStatus();
}

absl::StatusOr<RunResult> RuntimeClient::Run(const DirectSandbox& sandbox,
                                             const std::string& command,
                                             const std::function<void()>& on_first_stdout,
                                             absl::Duration timeout) {
  CURL* c = Handle(curl_);
  curl_easy_reset(c);
  const std::string body = nlohmann::json{{"command", command}}.dump();
  const std::string url = sandbox.execd_url + "/command";
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: text/event-stream");
  headers = curl_slist_append(headers, ("X-EXECD-ACCESS-TOKEN: " + sandbox.token).c_str());
  StreamSink sink;
  sink.on_first_stdout = &on_first_stdout;
  sink.curl = c;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, FeedStream);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(absl::ToInt64Milliseconds(timeout)));
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (!sink.error.ok()) return sink.error;
  if (rc != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("POST ", url, ": ", curl_easy_strerror(rc)));
  }
  if (status != 200) {
    return absl::InternalError(absl::StrCat("command: HTTP ", status, " ", sink.error_body));
  }
  (void)sink.decoder.Finish([&sink](std::string_view json) { sink.OnEvent(json); });
  if (!sink.terminal) return absl::DataLossError("command stream ended without a terminal event");
  return sink.result;
}

}  // namespace osb::bench
