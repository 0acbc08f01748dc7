#include "runtime/server/lifecycle_api.h"

#include <memory>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "rest/error.h"
#include "rest/ids.h"
#include "rest/lifecycle.h"
#include "rest/string_views.h"
#include "rest/time_util.h"
#include "runtime/common/http_response.h"
#include "runtime/common/raw_multipart.h"
#include "runtime/server/agent_exchange.h"
#include "runtime/server/elastic_task_queue.h"
#include "runtime/server/sandbox_port.h"
#include "runtime/server/upgrade_tunnel.h"

namespace osb::runtime {
namespace {

// A thread per open connection (see ElasticTaskQueue): a few kept for the next requests, idle
// ones ended after a while, and a ceiling well above what one host's clients hold open.
constexpr std::size_t kIdleThreadsKept = 8;
constexpr std::size_t kMaxThreads = 2048;
constexpr absl::Duration kThreadIdleExit = absl::Seconds(30);
constexpr std::size_t kKeepAliveRequests = 100000;
constexpr time_t kKeepAliveSeconds = 60;
constexpr int kAgentPort = 44772;
// The official egress sidecar's port: its /policy API is the runtime's own (EgressApi).
constexpr int kEgressPort = 18080;
constexpr std::size_t kMaxEgressBody = 1 << 20;
constexpr std::size_t kMaxJsonBody = 1 << 20;
constexpr std::size_t kMaxProxiedErrorBody = 1 << 20;
const std::regex kProxyPath(R"(^(/v1)?/sandboxes/[^/]+/proxy/\d+(/.*|$))");

// Request headers the proxy never forwards: hop-by-hop, credentials meant for the runtime, the
// sandbox token it consumes, the pseudo-headers cpp-httplib adds, and `Expect` (the runtime's
// server has answered the 100-continue itself; the sandbox's 100 would reach the client as the
// final answer).
bool IsDroppedRequestHeader(absl::string_view name) {
  for (absl::string_view drop :
       {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length", "authorization", "cookie",
        "open-sandbox-api-key", "x-execd-access-token", "remote_addr", "remote_port", "local_addr",
        "local_port", "expect"}) {
    if (absl::EqualsIgnoreCase(name, drop)) return true;
  }
  return false;
}

bool IsDroppedResponseHeader(absl::string_view name) {
  for (absl::string_view drop : {"connection", "keep-alive", "transfer-encoding", "content-length",
                                 "content-type", "trailer", "upgrade"}) {
    if (absl::EqualsIgnoreCase(name, drop)) return true;
  }
  return false;
}

// The client's X-Request-ID, else a new one: a UUID with dashes, the spec's `format: uuid` (the
// official server's 32 hex digits are not one).
std::string RequestIdFor(const httplib::Request& req) {
  std::string id(absl::StripAsciiWhitespace(req.get_header_value("X-Request-ID")));
  return id.empty() ? rest::NewUuid4() : id;
}

void ReplyBadParameter(httplib::Response& res, absl::string_view message) {
  ReplyError(res, 400, rest::kInvalidParameter, message);
}

// ReplyError for a request whose streamed body (`body_reader`, when set) was not read: the
// connection ends with the answer, or what is left of the body would be taken for the next
// request on it.
template <typename... Reply>
void ReplyBeforeBody(httplib::Response& res, const httplib::ContentReader* body_reader,
                     Reply&&... reply) {
  if (body_reader != nullptr) CloseConnectionAfter(res);
  ReplyError(res, std::forward<Reply>(reply)...);
}

}  // namespace

LifecycleApi::LifecycleApi(SandboxManager& sandboxes, SnapshotManager& snapshots,
                           std::string api_key)
    : sandboxes_(sandboxes), snapshots_(snapshots), api_key_(std::move(api_key)) {
  server_.new_task_queue = [] {
    return new ElasticTaskQueue(kIdleThreadsKept, kMaxThreads, kThreadIdleExit);
  };
  // Pooled clients (osbd, the SDKs) keep one connection busy for many requests; cpp-httplib's
  // default closes it after 5.
  server_.set_keep_alive_max_count(kKeepAliveRequests);
  server_.set_keep_alive_timeout(kKeepAliveSeconds);
  // Responses leave in several writes (head, body, chunks); with Nagle on, each small answer
  // waited for the client's delayed ACK: 40 ms per request.
  server_.set_tcp_nodelay(true);
  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    IgnoreRangesInResponse(req);
    res.set_header("X-Request-ID", RequestIdFor(req));
    // A request with a body is checked by its route's handler (Guard) instead: answered here,
    // its unread body would be taken for the next request on the connection.
    const bool proxied = std::regex_match(req.path, kProxyPath);
    if (proxied) {
      KeepMultipartBodyRaw(req);
    } else if (LimitJsonBody(req, res, kMaxJsonBody, rest::kInvalidParameter) ==
               httplib::Server::HandlerResponse::Handled) {
      return httplib::Server::HandlerResponse::Handled;  // the API's bodies are small JSON
    }
    bool exempt = req.path == "/health" || proxied;
    if (!exempt && !DeclaresBody(req) && !Authorized(req, res)) {
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    AnswerUnhandledError(req, res, rest::kInvalidParameter);
    // The pre-routing handler did not run for a request httplib or HttpServer refused unparsed.
    if (!res.has_header("X-Request-ID")) res.set_header("X-Request-ID", RequestIdFor(req));
  });
  server_.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        ReplyError(res, 500, rest::kUnknownError, "An unexpected error occurred.");
      });

  server_.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, 200, {{"status", "healthy"}});
  });
  server_.Post(R"((?:/v1)?/sandboxes)",
               Guard([this](const httplib::Request& req, httplib::Response& res) {
                 CreateSandbox(req, res);
               }));
  server_.Get(R"((?:/v1)?/sandboxes)",
              Guard([this](const httplib::Request& req, httplib::Response& res) {
                ListSandboxes(req, res);
              }));
  server_.Get(R"((?:/v1)?/sandboxes/([^/]+))",
              Guard([this](const httplib::Request& req, httplib::Response& res) {
                auto sandbox = sandboxes_.Get(req.matches[1]);
                if (!sandbox.ok()) return ReplyError(res, sandbox.status());
                ReplyJson(res, 200, rest::ToJson(*sandbox));
              }));
  server_.Delete(R"((?:/v1)?/sandboxes/([^/]+))",
                 Guard([this](const httplib::Request& req, httplib::Response& res) {
                   if (auto s = sandboxes_.Kill(req.matches[1]); !s.ok()) return ReplyError(res, s);
                   res.status = 204;
                 }));
  server_.Post(R"((?:/v1)?/sandboxes/([^/]+)/pause)",
               Guard([this](const httplib::Request& req, httplib::Response& res) {
                 if (auto s = sandboxes_.Pause(req.matches[1]); !s.ok()) return ReplyError(res, s);
                 res.status = 202;
               }));
  server_.Post(R"((?:/v1)?/sandboxes/([^/]+)/resume)",
               Guard([this](const httplib::Request& req, httplib::Response& res) {
                 if (auto s = sandboxes_.Resume(req.matches[1]); !s.ok()) return ReplyError(res, s);
                 res.status = 202;
               }));
  server_.Get(R"((?:/v1)?/sandboxes/([^/]+)/endpoints/([^/]+))",
              Guard([this](const httplib::Request& req, httplib::Response& res) {
                GetEndpoint(req, res);
              }));

  auto proxy = [this](const httplib::Request& req, httplib::Response& res) {
    Proxy(req, res, nullptr);
  };
  // Requests with a body: it is streamed to the agent as it arrives.
  auto proxy_body = [this](const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader& reader) { Proxy(req, res, &reader); };
  const char* proxy_route = R"((?:/v1)?/sandboxes/([^/]+)/proxy/(\d+)(/.*)?)";
  server_.Get(proxy_route, proxy);
  server_.Post(proxy_route, proxy_body);
  server_.Put(proxy_route, proxy_body);
  server_.Patch(proxy_route, proxy_body);
  server_.Post(proxy_route, proxy);
  server_.Put(proxy_route, proxy);
  server_.Patch(proxy_route, proxy);
  server_.Delete(proxy_route, proxy_body);  // a DELETE with a body (the egress API's) streams too
  server_.Delete(proxy_route, proxy);
  server_.Options(proxy_route, proxy);

  server_.Patch(R"((?:/v1)?/sandboxes/([^/]+)/metadata)",
                Guard([this](const httplib::Request& req, httplib::Response& res) {
                  auto body = ParseJsonBody(req);
                  if (!body.ok()) return ReplyBadParameter(res, body.status().message());
                  auto sandbox = sandboxes_.PatchMetadata(req.matches[1], *body);
                  if (!sandbox.ok()) return ReplyError(res, sandbox.status());
                  ReplyJson(res, 200, rest::ToJson(*sandbox));
                }));
  server_.Post(R"((?:/v1)?/sandboxes/([^/]+)/renew-expiration)",
               Guard([this](const httplib::Request& req, httplib::Response& res) {
    auto body = ParseJsonBody(req);
    if (!body.ok()) return ReplyBadParameter(res, body.status().message());
    auto at = body->is_object() && body->contains("expiresAt") && (*body)["expiresAt"].is_string()
                  ? rest::ParseRfc3339((*body)["expiresAt"].get<std::string>())
                  : absl::StatusOr<absl::Time>(
                        absl::InvalidArgumentError("'expiresAt' (an RFC 3339 time) is required"));
    if (!at.ok()) return ReplyBadParameter(res, at.status().message());
    auto renewed = sandboxes_.Renew(req.matches[1], *at);
    if (!renewed.ok()) return ReplyError(res, renewed.status());
    ReplyJson(res, 200, {{"expiresAt", rest::FormatRfc3339(*renewed)}});
  }));
  server_.Post(R"((?:/v1)?/sandboxes/([^/]+)/snapshots)",
               Guard([this](const httplib::Request& req, httplib::Response& res) {
                 CreateSnapshot(req, res);
               }));
  server_.Get(R"((?:/v1)?/snapshots)",
              Guard([this](const httplib::Request& req, httplib::Response& res) {
                ListSnapshots(req, res);
              }));
  server_.Get(R"((?:/v1)?/snapshots/([^/]+))",
              Guard([this](const httplib::Request& req, httplib::Response& res) {
                auto snapshot = snapshots_.Get(req.matches[1]);
                if (!snapshot.ok()) return ReplyError(res, snapshot.status());
                ReplyJson(res, 200, ToJson(*snapshot));
              }));
  server_.Delete(R"((?:/v1)?/snapshots/([^/]+))",
                 Guard([this](const httplib::Request& req, httplib::Response& res) {
                   if (auto s = snapshots_.Delete(req.matches[1]); !s.ok()) {
                     return ReplyError(res, s);
                   }
                   res.status = 204;
                 }));
}

void LifecycleApi::CreateSnapshot(const httplib::Request& req, httplib::Response& res) {
  std::optional<std::string> name;
  if (!req.body.empty()) {
    auto body = ParseJsonBody(req);
    if (!body.ok()) return ReplyBadParameter(res, body.status().message());
    if (!body->is_object() && !body->is_null()) {
      return ReplyBadParameter(res, "the body must be a JSON object");
    }
    if (body->is_object()) {
      for (const auto& [key, value] : body->items()) {
        if (key != "name") return ReplyBadParameter(res, "unknown field '" + key + "'");
        if (!value.is_string()) return ReplyBadParameter(res, "'name' must be a string");
        name = value.get<std::string>();
      }
    }
  }
  auto snapshot = snapshots_.Create(req.matches[1], name);
  if (!snapshot.ok()) return ReplyError(res, snapshot.status());
  res.set_header("Location", "/v1/snapshots/" + snapshot->id);
  ReplyJson(res, 202, ToJson(*snapshot));
}

void LifecycleApi::ListSnapshots(const httplib::Request& req, httplib::Response& res) {
  SnapshotQuery query;
  query.sandbox_id = req.get_param_value("sandboxId");
  for (std::size_t i = 0; i < req.get_param_value_count("state"); ++i) {
    query.states.push_back(req.get_param_value("state", i));
  }
  for (auto [name, field] :
       {std::pair{"page", &query.page}, std::pair{"pageSize", &query.page_size}}) {
    if (req.has_param(name) && !absl::SimpleAtoi(req.get_param_value(name), field)) {
      return ReplyBadParameter(res, absl::StrCat(name, " must be an integer"));
    }
  }
  auto list = snapshots_.List(query);
  if (!list.ok()) return ReplyError(res, list.status());
  rest::ListSnapshotsResponse out;
  for (const Snapshot& s : list->items) out.items.push_back(ToRest(s));
  out.pagination = list->pagination;
  ReplyJson(res, 200, rest::ToJson(out));
}

void LifecycleApi::CreateSandbox(const httplib::Request& req, httplib::Response& res) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return ReplyBadParameter(res, body.status().message());
  auto request = rest::ParseCreateSandboxRequest(*body);
  if (!request.ok()) return ReplyBadParameter(res, request.status().message());
  std::optional<LayerSource> restore;
  if (request->snapshot_id.has_value()) {
    auto source = snapshots_.Source(*request->snapshot_id);
    if (!source.ok()) return ReplyError(res, source.status());
    restore = LayerSource{source->second, source->first.image_uri, source->first.entrypoint};
  }
  auto sandbox = sandboxes_.Create(*request, restore.has_value() ? &*restore : nullptr);
  if (!sandbox.ok()) return ReplyError(res, sandbox.status());
  ReplyJson(res, 202, rest::ToCreateResponseJson(*sandbox));
}

void LifecycleApi::ListSandboxes(const httplib::Request& req, httplib::Response& res) {
  ListQuery query;
  for (std::size_t i = 0; i < req.get_param_value_count("state"); ++i) {
    query.states.push_back(req.get_param_value("state", i));
  }
  if (req.has_param("metadata")) {
    for (absl::string_view pair : absl::StrSplit(req.get_param_value("metadata"), '&')) {
      if (pair.empty()) continue;
      std::size_t eq = pair.find('=');
      if (eq == absl::string_view::npos || eq == 0) {
        return ReplyError(res, 400, "INVALID_METADATA_FORMAT",
                          absl::StrCat("metadata filter entry '", pair, "' is not key=value"));
      }
      query.metadata[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    }
  }
  for (auto [name, field] :
       {std::pair{"page", &query.page}, std::pair{"pageSize", &query.page_size}}) {
    if (req.has_param(name) && !absl::SimpleAtoi(req.get_param_value(name), field)) {
      return ReplyBadParameter(res, absl::StrCat(name, " must be an integer"));
    }
  }
  auto list = sandboxes_.List(query);
  if (!list.ok()) return ReplyError(res, list.status());
  ReplyJson(res, 200, rest::ToJson(*list));
}

void LifecycleApi::GetEndpoint(const httplib::Request& req, httplib::Response& res) {
  int port = 0;
  if (!absl::SimpleAtoi(req.matches[2].str(), &port) || port < 1 || port > 65535) {
    return ReplyBadParameter(res, "port must be an integer between 1 and 65535");
  }
  if (req.has_param("expires") && req.get_param_value("use_server_proxy") == "true") {
    return ReplyBadParameter(res, "expires cannot be combined with use_server_proxy");
  }
  if (req.has_param("expires")) {
    return ReplyError(res, 400, "SANDBOX::API_NOT_SUPPORTED",
                      "signed endpoints (expires) are not supported by osb-runtime");
  }
  auto agent = sandboxes_.Agent(req.matches[1]);
  if (!agent.ok()) return ReplyError(res, agent.status());
  rest::Endpoint endpoint;
  endpoint.endpoint = absl::StrCat(req.get_header_value("Host"), "/sandboxes/",
                                   req.matches[1].str(), "/proxy/", port);
  endpoint.headers["X-EXECD-ACCESS-TOKEN"] = agent->access_token;
  ReplyJson(res, 200, rest::ToJson(endpoint));
}

void LifecycleApi::Proxy(const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader* body_reader) {
  const std::string id = req.matches[1];
  auto refuse = [&](auto&&... reply) {
    ReplyBeforeBody(res, body_reader, std::forward<decltype(reply)>(reply)...);
  };
  int port = 0;
  if (!absl::SimpleAtoi(req.matches[2].str(), &port) || port < 1 || port > 65535) {
    return refuse(400, rest::kInvalidParameter, "port must be an integer between 1 and 65535");
  }
  auto agent = sandboxes_.Agent(id);
  if (!agent.ok()) return refuse(agent.status());
  if (req.get_header_value("X-EXECD-ACCESS-TOKEN") != agent->access_token) {
    return refuse(401, rest::kUnauthorized,
                  "missing or wrong X-EXECD-ACCESS-TOKEN: use the headers of the endpoint");
  }
  const bool egress_api = port == kEgressPort && agent->egress_api;
  // The egress API needs none of the sandbox's processes: a paused sandbox answers it too.
  if (agent->state != "Running" && !(egress_api && agent->state == "Paused")) {
    return refuse(409, rest::kSandboxNotRunning,
                  absl::StrCat("sandbox ", id, " is ", agent->state));
  }
  if (egress_api) return EgressApi(id, req.matches[3].str(), req, res, body_reader);
  // The part of the raw target after /proxy/{port}, query included.
  std::string marker = absl::StrCat("/proxy/", req.matches[2].str());
  std::string target = req.target.substr(req.target.find(marker) + marker.size());
  if (target.empty() || target[0] == '?') target = absl::StrCat("/", target);

  HeaderList headers;
  for (const auto& [k, v] : req.headers) {
    if (absl::EqualsIgnoreCase(k, kSetAsideContentType)) {
      headers.emplace_back("Content-Type", v);
    } else if (!IsDroppedRequestHeader(k)) {
      headers.emplace_back(k, v);
    }
  }
  // An upgrade (a WebSocket) is asked of the sandbox's server in turn; its 101 answer turns the
  // two connections into a tunnel.
  const std::string upgrade = req.get_header_value("Upgrade");
  const bool wants_upgrade =
      !upgrade.empty() &&
      absl::StrContains(absl::AsciiStrToLower(req.get_header_value("Connection")), "upgrade");
  if (wants_upgrade) headers.emplace_back("Upgrade", upgrade);
  headers.emplace_back("X-Forwarded-For", req.remote_addr);
  headers.emplace_back("X-Forwarded-Proto", "http");
  headers.emplace_back("X-Forwarded-Host", req.get_header_value("Host"));
  // Also before or while the client's body is relayed: refused as unread.
  auto proxy_error = [&](const absl::Status& s) {
    refuse(502, "SANDBOX::PROXY_ERROR", absl::StrCat("sandbox ", id, ": ", s.message()));
  };
  // An upload to the agent: it answers only once the body has ended, so the body may be gathered.
  // (A server of the sandbox's own may read a multipart body as it comes.)
  const bool gather = port == kAgentPort && req.has_header(kSetAsideContentType);
  std::optional<std::size_t> body_length = req.body.size();
  if (body_reader != nullptr) {
    std::size_t declared = 0;
    body_length.reset();  // chunked, unless the client declared a length that stays true
    const bool chunked = absl::StrContains(
        absl::AsciiStrToLower(req.get_header_value("Transfer-Encoding")), "chunked");
    if (!chunked && absl::SimpleAtoi(req.get_header_value("Content-Length"), &declared)) {
      body_length = declared;
    }
  }
  // Port 44772 is the agent's API on its Unix socket; any other port is TCP on the sandbox's
  // loopback, reached from inside its network namespace.
  absl::StatusOr<std::unique_ptr<AgentExchange>> opened;
  if (port == kAgentPort) {
    opened = AgentExchange::Open(agent->socket_path, req.method, target, headers, body_length);
  } else {
    auto connected = ConnectToSandboxPort(agent->agent_pid, port);
    if (!connected.ok()) return proxy_error(connected.status());
    opened = AgentExchange::OpenOn(*std::move(connected), absl::StrCat("localhost:", port),
                                   req.method, target, headers, body_length);
  }
  if (!opened.ok()) return proxy_error(opened.status());
  std::shared_ptr<AgentExchange> exchange = std::move(*opened);
  if (body_reader == nullptr) {
    (void)exchange->SendBody(req.body);
  } else if (absl::Status relayed = RelayBody(*body_reader, gather, *exchange); !relayed.ok()) {
    // The client's body broke off or is malformed: the agent must not see it as complete, so
    // the exchange is dropped unfinished.
    return refuse(400, rest::kInvalidRequestBody, relayed.message());
  }
  // A body the agent stopped reading (it answered early) still leaves its answer to read.
  if (auto s = exchange->FinishRequest(); !s.ok()) return proxy_error(s);
  if (exchange->status() == 101) {
    if (!wants_upgrade) return proxy_error(absl::DataLossError("protocol switched unasked"));
    ServedConnection* client = CurrentConnection();
    std::string head = "HTTP/1.1 101 Switching Protocols\r\n";
    for (const auto& [k, v] : exchange->headers()) absl::StrAppend(&head, k, ": ", v, "\r\n");
    auto [upstream, early_bytes] = std::move(*exchange).Release();
    absl::StrAppend(&head, "\r\n", early_bytes);
    const std::string client_early_bytes = client->TakeOver();
    Tunnel(client->fd(), upstream.get(), head, client_early_bytes);
    res.status = 101;  // already sent; the connection is shut down and the server closes it
    return;
  }
  res.status = exchange->status();
  for (const auto& [k, v] : exchange->headers()) {
    if (!IsDroppedResponseHeader(k)) res.set_header(k, v);
  }
  std::string content_type = exchange->header("Content-Type");
  if (exchange->status() >= 400) {
    // The error handler fills in any error response whose body is empty, which a streamed body
    // is when it runs: the agent's `{"code","message"}` is forwarded whole instead.
    std::string body;
    for (;;) {
      auto piece = exchange->ReadBody();
      if (!piece.ok() || body.size() + piece->size() > kMaxProxiedErrorBody) {
        return ReplyError(res, 502, "SANDBOX::PROXY_ERROR",
                          absl::StrCat("sandbox ", id, ": unreadable error answer from the agent"));
      }
      if (piece->empty()) break;
      body += *piece;
    }
    return res.set_content(body, content_type);
  }
  auto pump = [exchange](std::size_t, httplib::DataSink& sink) {
    for (;;) {
      auto piece = exchange->ReadBody();
      if (!piece.ok()) return false;  // the client sees a truncated response, never a fake end
      if (piece->empty()) break;
      if (!sink.write(piece->data(), piece->size())) return false;
    }
    sink.done();
    return true;
  };
  if (exchange->content_length() == 0) {
    res.set_content("", content_type);
  } else if (exchange->content_length() > 0) {
    res.set_content_provider(static_cast<std::size_t>(exchange->content_length()), content_type,
                             [exchange](std::size_t, std::size_t, httplib::DataSink& sink) {
                               auto piece = exchange->ReadBody();
                               if (!piece.ok() || piece->empty()) return false;
                               return sink.write(piece->data(), piece->size());
                             });
  } else {
    res.set_chunked_content_provider(content_type, pump);
  }
}

void LifecycleApi::EgressApi(const std::string& id, const std::string& path,
                             const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader* body_reader) {
  auto refuse = [&](auto&&... reply) {
    ReplyBeforeBody(res, body_reader, std::forward<decltype(reply)>(reply)...);
  };
  if (path != "/policy") {
    return refuse(501, "SANDBOX::API_NOT_SUPPORTED",
                  "osb-runtime serves the egress API's /policy only (no credential vault)");
  }
  absl::StatusOr<nlohmann::json> answer;
  if (req.method == "GET") {
    answer = sandboxes_.EgressStatus(id);
  } else if (req.method == "PATCH" || req.method == "DELETE") {
    std::string body = req.body;
    if (body_reader != nullptr) {
      const bool read = (*body_reader)([&](const char* data, std::size_t size) {
        body.append(data, size);
        return body.size() <= kMaxEgressBody;
      });
      if (!read || body.size() > kMaxEgressBody) {  // the rest of it was not read
        return refuse(400, rest::kInvalidParameter, "the body is truncated or larger than 1 MiB");
      }
    }
    auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return ReplyBadParameter(res, "the body is not valid JSON");
    answer = sandboxes_.ChangeEgress(id, req.method == "DELETE", parsed);
  } else {
    return refuse(405, "SANDBOX::METHOD_NOT_ALLOWED",
                  req.method + " /policy: GET, PATCH and DELETE are its methods");
  }
  if (!answer.ok()) return ReplyError(res, answer.status());
  ReplyJson(res, 200, *answer);
}

absl::Status LifecycleApi::RelayBody(const httplib::ContentReader& reader, bool gather,
                                     AgentExchange& exchange) {
  bool agent_gone = false;  // the agent stopped reading: its answer says why
  auto send = [&](std::string_view piece) {
    if (!agent_gone && !exchange.SendBody(rest::AbslView(piece)).ok()) agent_gone = true;
  };
  // httplib hands the body over a few KiB at a time; an upload goes on in pieces of
  // kGatheredPiece, a syscall (and a chunk header) each.
  constexpr std::size_t kGatheredPiece = 64 * 1024;
  std::string gathered;
  // Multipart bodies too come whole: KeepMultipartBodyRaw.
  const bool read = reader([&](const char* data, std::size_t size) {
    if (!gather) {
      send(std::string_view(data, size));
    } else {
      gathered.append(data, size);
      if (gathered.size() >= kGatheredPiece) {
        send(gathered);
        gathered.clear();
      }
    }
    return true;  // keep reading the client's body, so that its connection stays usable
  });
  if (!read) return absl::InvalidArgumentError("the request body is malformed or truncated");
  if (!gathered.empty()) send(gathered);
  return absl::OkStatus();
}

}  // namespace osb::runtime

namespace osb::runtime {

bool LifecycleApi::Authorized(const httplib::Request& req, httplib::Response& res) const {
  if (api_key_.empty()) return true;
  if (!req.has_header("OPEN-SANDBOX-API-KEY")) {
    ReplyError(res, 401, rest::kMissingApiKey,
               "Authentication credentials were not provided: set OPEN-SANDBOX-API-KEY");
    return false;
  }
  if (req.get_header_value("OPEN-SANDBOX-API-KEY") != api_key_) {
    ReplyError(res, 401, rest::kInvalidApiKey, "Invalid API key");
    return false;
  }
  return true;
}

httplib::Server::Handler LifecycleApi::Guard(httplib::Server::Handler handler) {
  return [this, handler = std::move(handler)](const httplib::Request& req,
                                              httplib::Response& res) {
    if (Authorized(req, res)) handler(req, res);
  };
}

}  // namespace osb::runtime
