#include "daemon/upstream/execd_client.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "daemon/upstream/retrying_send.h"
#include "rest/error.h"
#include "rest/ids.h"
#include "rest/sse.h"
#include "rest/string_views.h"
#include "rest/url_encode.h"

namespace osb::daemon {
namespace {

HttpRequest ExecdRequest(const ExecdEndpoint& endpoint, std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.url = endpoint.base_url + path;
  r.timeout = endpoint.request_timeout;
  r.cancel = endpoint.cancel;
  r.ca_file = endpoint.ca_file;
  r.headers = endpoint.headers;
  r.headers.emplace_back("User-Agent", "osbd/0.1.0");
  return r;
}

// Whether a failed exchange says the endpoint itself is gone, not only this request.
bool EndpointGone(const HttpResult& result) {
  if (!result.transport.ok()) return absl::IsUnavailable(result.transport);
  return result.status == 404 || result.status == 502 || result.status == 503;
}

// The status of a finished exchange: the transport failure, execd's error, or OK for a 2xx.
// An endpoint found gone is forgotten, so that the next call asks the lifecycle API again.
// `forget` is the endpoint's (ExecdEndpoint::forget).
absl::Status ExchangeStatus(const std::function<void()>& forget, const HttpResult& result,
                            std::string_view error_body) {
  if (EndpointGone(result) && forget) forget();
  if (!result.transport.ok()) return result.transport;
  if (result.status < 200 || result.status > 299) {
    return rest::StatusFromHttp(result.status, error_body, result.header("x-request-id"));
  }
  return absl::OkStatus();
}

// The handler of a request whose 2xx body is streamed: `on_headers` (optional) and `on_body` see
// a 2xx answer as it arrives; another answer's body, a small JSON error, is kept (up to 64 KiB)
// so that `on_done` gets execd's error. `on_done` gets the exchange's status.
HttpHandler StreamedAnswer(const ExecdEndpoint& endpoint,
                           std::function<void(int status, const HeaderList&)> on_headers,
                           std::function<DataAction(absl::string_view bytes)> on_body,
                           std::function<void(absl::Status)> on_done) {
  struct State {
    int status = 0;
    std::string error_body;
  };
  auto state = std::make_shared<State>();
  HttpHandler h;
  h.on_headers = [state, on_headers = std::move(on_headers)](int status,
                                                             const HeaderList& headers) {
    state->status = status;
    if (status >= 200 && status <= 299 && on_headers) on_headers(status, headers);
  };
  h.on_data = [state, on_body = std::move(on_body)](absl::string_view bytes) {
    if (state->status >= 200 && state->status <= 299) return on_body(bytes);
    if (state->error_body.size() < 64 * 1024) state->error_body.append(bytes.data(), bytes.size());
    return DataAction::kContinue;
  };
  h.on_done = [state, forget = endpoint.forget, on_done = std::move(on_done)](HttpResult result) {
    on_done(ExchangeStatus(forget, result, state->error_body));
  };
  return h;
}

// execd's bare {"code","message"} line in a stream (a session run that timed out) as the error
// event it stands for; nullopt for anything else.
std::optional<rest::ServerStreamEvent> BareErrorAsEvent(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object() || j.contains("type") || !j.contains("code")) return std::nullopt;
  rest::ErrorResponse e = rest::ParseErrorResponse(json);
  rest::ServerStreamEvent event;
  event.type = std::string(rest::kEventError);
  event.timestamp_ms = absl::ToUnixMillis(absl::Now());
  event.error = rest::EventError{.ename = e.code, .evalue = e.message, .traceback = {e.message}};
  return event;
}

}  // namespace

void ExecdClient::Ping(const ExecdEndpoint& endpoint, absl::Duration timeout,
                       std::function<void(absl::Status)> done) {
  HttpRequest r = ExecdRequest(endpoint, "GET", "/ping");
  r.timeout = timeout;
  r.connect_timeout = timeout;
  loop_.Start(std::move(r), {.on_done = [done = std::move(done)](HttpResult result) {
                if (!result.transport.ok()) return done(result.transport);
                if (result.status < 200 || result.status > 299) {
                  return done(absl::UnavailableError(
                      absl::StrCat("execd /ping answered HTTP ", result.status)));
                }
                done(absl::OkStatus());
              }});
}

CurlLoop::TransferId ExecdClient::RunCommand(const ExecdEndpoint& endpoint,
                                             const rest::RunCommandRequest& request,
                                             CommandStreamHandler handler) {
  return StreamEvents(endpoint, "/command", rest::ToJson(request).dump(), std::move(handler));
}

CurlLoop::TransferId ExecdClient::RunInSession(const ExecdEndpoint& endpoint,
                                               const std::string& session_id,
                                               const rest::SessionRunRequest& request,
                                               CommandStreamHandler handler) {
  return StreamEvents(endpoint, "/session/" + rest::UrlEncode(session_id) + "/run",
                      rest::ToJson(request).dump(), std::move(handler));
}

CurlLoop::TransferId ExecdClient::RunCode(const ExecdEndpoint& endpoint,
                                          const rest::RunCodeRequest& request,
                                          CommandStreamHandler handler) {
  return StreamEvents(endpoint, "/code", rest::ToJson(request).dump(), std::move(handler));
}

CurlLoop::TransferId ExecdClient::StreamEvents(const ExecdEndpoint& endpoint,
                                               const std::string& target, std::string json_body,
                                               CommandStreamHandler handler) {
  HttpRequest r = ExecdRequest(endpoint, "POST", target);
  r.timeout = absl::InfiniteDuration();  // bounded by the command's own timeout or the caller
  r.headers.emplace_back("Content-Type", "application/json");
  r.headers.emplace_back("Accept", "text/event-stream");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.body = std::move(json_body);

  struct State {
    CommandStreamHandler handler;
    rest::SseDecoder decoder;
    absl::Status decode_error;
    bool paused = false;
    void Deliver(std::string_view json) {
      std::optional<rest::ServerStreamEvent> event;
      if (auto parsed = rest::ParseServerStreamEvent(json); parsed.ok()) {
        event = *std::move(parsed);
      } else {
        event = BareErrorAsEvent(json);
      }
      // Other lines that are not events are skipped, as every official SDK does.
      if (event.has_value() && handler.on_event(*std::move(event)) == DataAction::kPause) {
        paused = true;
      }
    }
  };
  auto state = std::make_shared<State>();
  state->handler = std::move(handler);
  auto on_body = [state](absl::string_view bytes) {
    State& s = *state;
    s.paused = false;
    absl::Status st =
        s.decoder.Feed(rest::StdView(bytes), [&](std::string_view json) { s.Deliver(json); });
    if (!st.ok()) {
      s.decode_error = st;
      return DataAction::kAbort;
    }
    return s.paused ? DataAction::kPause : DataAction::kContinue;
  };
  auto on_done = [state](absl::Status status) {
    State& s = *state;
    if (!s.decode_error.ok()) return s.handler.on_end(s.decode_error);
    if (!status.ok()) return s.handler.on_end(status);
    (void)s.decoder.Finish([&](std::string_view json) { s.Deliver(json); });
    s.handler.on_end(absl::OkStatus());
  };
  return loop_.Start(std::move(r), StreamedAnswer(endpoint, nullptr, on_body, on_done));
}

void ExecdClient::CompleteCodeRun(
    const ExecdEndpoint& endpoint, rest::RunCodeRequest request,
    std::function<void(absl::StatusOr<rest::RunCodeRequest>)> done) {
  if (!request.context_id.has_value() || request.language.has_value()) {
    return done(std::move(request));
  }
  const std::string target = "/code/contexts/" + rest::UrlEncode(*request.context_id);
  Call(endpoint, "GET", target, "",
       [request = std::move(request),
        done = std::move(done)](absl::StatusOr<HttpResult> answer) mutable {
         if (!answer.ok()) return done(answer.status());
         auto context = rest::ParseCodeContext(nlohmann::json::parse(answer->body, nullptr, false));
         if (!context.ok()) return done(context.status());
         request.language = context->language;
         done(std::move(request));
       });
}

void ExecdClient::Call(const ExecdEndpoint& endpoint, std::string method, std::string target,
                       std::string json_body,
                       std::function<void(absl::StatusOr<HttpResult>)> done) {
  HttpRequest r = ExecdRequest(endpoint, std::move(method), std::move(target));
  if (!json_body.empty()) {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(json_body);
  }
  SendWithRetries(loop_, std::move(r),
                  [forget = endpoint.forget, done = std::move(done)](HttpResult result) {
                    absl::Status s = ExchangeStatus(forget, result, result.body);
                    if (!s.ok()) return done(s);
                    done(std::move(result));
                  });
}

void ExecdClient::GetCommandStatus(const ExecdEndpoint& endpoint, const std::string& command_id,
                                   std::function<void(absl::StatusOr<rest::CommandStatus>)> done) {
  Call(endpoint, "GET", "/command/status/" + rest::UrlEncode(command_id), "",
       [done = std::move(done)](absl::StatusOr<HttpResult> answer) {
         if (!answer.ok()) return done(answer.status());
         done(rest::ParseCommandStatus(nlohmann::json::parse(answer->body, nullptr, false)));
       });
}

CurlLoop::TransferId ExecdClient::Download(const ExecdEndpoint& endpoint, const std::string& path,
                                           const std::string& range, DownloadHandler handler) {
  HttpRequest r = ExecdRequest(endpoint, "GET", "/files/download?path=" + rest::UrlEncode(path));
  r.timeout = absl::InfiniteDuration();  // as long as the file takes; the caller may cancel
  if (!range.empty()) r.headers.emplace_back("Range", range);
  auto shared = std::make_shared<DownloadHandler>(std::move(handler));
  return loop_.Start(
      std::move(r),
      StreamedAnswer(
          endpoint, [shared](int status, const HeaderList& headers) { shared->on_start(status, headers); },
          [shared](absl::string_view bytes) { return shared->on_data(bytes); },
          [shared](absl::Status status) { shared->on_end(std::move(status)); }));
}

CurlLoop::TransferId ExecdClient::WatchMetrics(const ExecdEndpoint& endpoint,
                                               MetricsHandler handler) {
  HttpRequest r = ExecdRequest(endpoint, "GET", "/metrics/watch");
  r.timeout = absl::InfiniteDuration();  // until the caller cancels
  struct State {
    MetricsHandler handler;
    std::string pending;  // a line not yet complete
    absl::Status bad_line;
  };
  auto state = std::make_shared<State>();
  state->handler = std::move(handler);
  auto on_body = [state](absl::string_view bytes) {
    State& s = *state;
    s.pending.append(bytes.data(), bytes.size());
    DataAction action = DataAction::kContinue;
    for (std::size_t nl; (nl = s.pending.find('\n')) != std::string::npos;) {
      std::string line = s.pending.substr(0, nl);
      s.pending.erase(0, nl + 1);
      if (absl::StripAsciiWhitespace(line).empty()) continue;
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("error")) {
        s.bad_line = absl::UnavailableError(
            absl::StrCat("execd could not read the sandbox's metrics: ", j["error"].dump()));
        return DataAction::kAbort;
      }
      auto metrics = rest::ParseMetrics(j);
      if (!metrics.ok()) {
        s.bad_line = absl::DataLossError(absl::StrCat(
            "execd sent a metrics line osbd cannot read: ", metrics.status().message()));
        return DataAction::kAbort;
      }
      if (s.handler.on_metrics(*std::move(metrics)) == DataAction::kPause) {
        action = DataAction::kPause;
      }
    }
    if (s.pending.size() > 64 * 1024) {
      s.bad_line = absl::DataLossError("execd sent a metrics line over 64 KiB");
      return DataAction::kAbort;
    }
    return action;
  };
  auto on_done = [state](absl::Status status) {
    State& s = *state;
    if (!s.bad_line.ok()) return s.handler.on_end(s.bad_line);
    if (status.ok()) status = absl::UnavailableError("execd ended the metrics stream");
    s.handler.on_end(status);
  };
  return loop_.Start(std::move(r), StreamedAnswer(endpoint, nullptr, on_body, on_done));
}

CurlLoop::TransferId ExecdClient::Upload(
    const ExecdEndpoint& endpoint, const rest::FileMetadata& metadata,
    std::function<std::ptrdiff_t(char* buf, std::size_t max)> next,
    std::function<void(absl::Status)> done) {
  const std::string boundary = "osbd-" + rest::NewHexId();
  HttpRequest r = ExecdRequest(endpoint, "POST", "/files/upload");
  r.timeout = absl::InfiniteDuration();
  r.stream_body = true;
  r.headers.emplace_back("Content-Type", "multipart/form-data; boundary=" + boundary);
  // The multipart framing around the file's bytes (COMPAT.md §2.6): the metadata part, then the
  // file part, whose content `next` supplies.
  struct State {
    std::string head;
    std::string tail;
    std::size_t head_sent = 0;
    std::size_t tail_sent = 0;
    bool body_done = false;
    std::function<std::ptrdiff_t(char*, std::size_t)> next;
  };
  auto state = std::make_shared<State>();
  state->next = std::move(next);
  std::string file_name = metadata.path.substr(metadata.path.find_last_of('/') + 1);
  state->head = absl::StrCat(
      "--", boundary,
      "\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"metadata\"\r\n"
      "Content-Type: application/json\r\n\r\n",
      rest::ToJson(metadata).dump(), "\r\n--", boundary,
      "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"", rest::UrlEncode(file_name),
      "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
  state->tail = absl::StrCat("\r\n--", boundary, "--\r\n");
  HttpHandler h;
  h.on_send = [state](char* buf, std::size_t max) -> std::ptrdiff_t {
    State& s = *state;
    auto copy = [&](const std::string& from, std::size_t& sent) {
      std::size_t n = std::min(max, from.size() - sent);
      std::memcpy(buf, from.data() + sent, n);
      sent += n;
      return static_cast<std::ptrdiff_t>(n);
    };
    if (s.head_sent < s.head.size()) return copy(s.head, s.head_sent);
    if (!s.body_done) {
      std::ptrdiff_t got = s.next(buf, max);
      if (got != 0) return got;
      s.body_done = true;
    }
    return copy(s.tail, s.tail_sent);
  };
  h.on_done = [forget = endpoint.forget, done = std::move(done)](HttpResult result) {
    done(ExchangeStatus(forget, result, result.body));
  };
  return loop_.Start(std::move(r), std::move(h));
}

}  // namespace osb::daemon
