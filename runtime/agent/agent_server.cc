#include "runtime/agent/agent_server.h"

#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rest/error.h"
#include "rest/execd.h"
#include "rest/execd_code.h"
#include "rest/ids.h"
#include "rest/time_util.h"
#include "runtime/agent/execd_reply.h"
#include "runtime/agent/file_routes.h"
#include "runtime/agent/foreground_command.h"
#include "runtime/agent/pty_socket.h"
#include "runtime/common/agent_tasks.h"
#include "runtime/common/http_response.h"
#include "runtime/common/raw_multipart.h"

namespace osb::agent {

namespace {

// Every body but an upload's is a JSON document read whole (code to run, paths, commands).
constexpr std::size_t kMaxJsonBody = 16 << 20;
// GET /metrics measures CPU use over this long; /metrics/watch sends a sample this often.
constexpr absl::Duration kMetricsInterval = absl::Milliseconds(500);
constexpr absl::Duration kMetricsWatchInterval = absl::Seconds(1);

// Answers with the command's event stream (COMPAT.md §2.3).
void StreamCommand(std::shared_ptr<ForegroundCommand> command, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider(
      "text/event-stream", [command](std::size_t, httplib::DataSink& sink) {
        command->Stream([&sink](std::string_view bytes) {
          return sink.is_writable() && sink.write(bytes.data(), bytes.size());
        });
        sink.done();
        return true;
      });
}

// How a code context call fails (COMPAT.md §2.2): an unknown context is 404 CONTEXT_NOT_FOUND,
// bad input 400, and anything else (a busy context, an interpreter that cannot start) 500.
void ReplyContextError(httplib::Response& res, const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kNotFound:
      return ReplyError(res, 404, rest::kContextNotFound, status.message());
    case absl::StatusCode::kInvalidArgument:
      return ReplyError(res, 400, rest::kInvalidRequestBody, status.message());
    default:
      return ReplyError(res, 500, rest::kRuntimeError, status.message());
  }
}

}  // namespace

AgentServer::AgentServer(Reaper& reaper, SandboxLimits limits)
    : reaper_(reaper),
      commands_(reaper),
      sessions_(reaper),
      contexts_(reaper),
      ptys_(reaper),
      metrics_(limits) {
  server_.new_task_queue = [] { return new httplib::ThreadPool(kAgentWorkerThreads); };
  server_.Get("/ping", [](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  server_.Post("/command", [this](const httplib::Request& req, httplib::Response& res) {
    HandleRunCommand(req, res);
  });
  server_.Delete("/command", [this](const httplib::Request& req, httplib::Response& res) {
    HandleInterrupt(req, res);
  });
  server_.Get(
      "/command/status/([^/]+)",
      [this](const httplib::Request& req, httplib::Response& res) { HandleStatus(req, res); });
  server_.Get("/command/([^/]+)/logs", [this](const httplib::Request& req, httplib::Response& res) {
    HandleLogs(req, res);
  });
  server_.Post("/session", [this](const httplib::Request& req, httplib::Response& res) {
    HandleCreateSession(req, res);
  });
  server_.Post("/session/([^/]+)/run", [this](const httplib::Request& req, httplib::Response& res) {
    HandleRunInSession(req, res);
  });
  server_.Delete("/session/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
    absl::Status s = sessions_.Delete(req.matches[1].str());
    if (!s.ok()) return ReplyError(res, 404, rest::kContextNotFound, s.message());
    res.status = 200;
  });
  server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    // CPU use needs an interval (execd's is 1 s).
    const double cpu = metrics_.CpuSeconds();
    const absl::Time start = absl::Now();
    absl::SleepFor(kMetricsInterval);
    ReplyJson(res, 200, rest::ToJson(metrics_.Sample(cpu, start)));
  });
  server_.Get("/metrics/watch",
              [this](const httplib::Request&, httplib::Response& res) { HandleMetricsWatch(res); });
  server_.Post("/code/context", [this](const httplib::Request& req, httplib::Response& res) {
    HandleCreateContext(req, res);
  });
  server_.Get("/code/contexts", [this](const httplib::Request& req, httplib::Response& res) {
    HandleListContexts(req, res);
  });
  server_.Delete("/code/contexts", [this](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_param("language")) {
      return ReplyError(res, 400, rest::kMissingQuery, "missing query parameter 'language'");
    }
    absl::Status s = contexts_.DeleteLanguage(req.get_param_value("language"));
    if (!s.ok()) return ReplyContextError(res, s);
    res.status = 200;
  });
  server_.Get("/code/contexts/([^/]+)", [this](const httplib::Request& req,
                                               httplib::Response& res) {
    auto context = contexts_.Get(req.matches[1].str());
    if (!context.ok()) return ReplyContextError(res, context.status());
    ReplyJson(res, 200, rest::ToJson(*context));
  });
  server_.Delete("/code/contexts/([^/]+)", [this](const httplib::Request& req,
                                                  httplib::Response& res) {
    absl::Status s = contexts_.Delete(req.matches[1].str());
    if (!s.ok()) return ReplyContextError(res, s);
    res.status = 200;
  });
  server_.Post("/code", [this](const httplib::Request& req, httplib::Response& res) {
    HandleRunCode(req, res);
  });
  server_.Delete("/code", [this](const httplib::Request& req, httplib::Response& res) {
    HandleInterruptCode(req, res);
  });
  AddFileRoutes(server_);
  server_.Post("/pty", [this](const httplib::Request& req, httplib::Response& res) {
    HandleCreatePty(req, res);
  });
  server_.Get("/pty/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
    auto session = ptys_.Get(req.matches[1].str());
    if (!session.ok()) {
      return ReplyError(res, 404, rest::kContextNotFound, session.status().message());
    }
    PtySession::Status status = (*session)->GetStatus();
    ReplyJson(res, 200,
              {{"session_id", (*session)->id()},
               {"running", status.running},
               {"output_offset", status.output_offset}});
  });
  server_.Delete("/pty/([^/]+)", [this](const httplib::Request& req, httplib::Response& res) {
    absl::Status s = ptys_.Delete(req.matches[1].str());
    if (!s.ok()) return ReplyError(res, 404, rest::kContextNotFound, s.message());
    res.status = 200;
  });
  server_.Get("/pty/([^/]+)/ws", [this](const httplib::Request& req, httplib::Response& res) {
    ServePtySocket(ptys_, req, res);
  });
  server_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    IgnoreRangesInResponse(req);
    if (req.path == "/files/upload") {
      KeepMultipartBodyRaw(req);  // read by MultipartReader
      return httplib::Server::HandlerResponse::Unhandled;
    }
    return runtime::LimitJsonBody(req, res, kMaxJsonBody, rest::kInvalidRequestBody);
  });
  server_.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    runtime::AnswerUnhandledError(req, res, rest::kInvalidRequestBody);
  });
}

void AgentServer::HandleRunCommand(const httplib::Request& req, httplib::Response& res) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return ReplyError(res, 400, rest::kInvalidRequestBody, body.status().message());
  auto request = rest::ParseRunCommandRequest(*body);
  if (!request.ok()) {
    return ReplyError(res, 400, rest::kInvalidRequestBody, request.status().message());
  }
  if (request->background) {
    const std::string id = rest::NewHexId();
    if (auto s = commands_.StartBackground(id, *request); !s.ok()) return ReplyExecdError(res, s);
    // execd's background answer: init, then execution_complete at once (COMPAT.md §2.4).
    const int64_t now = rest::NowUnixMillis();
    std::string events =
        rest::FrameEvent({.type = std::string(rest::kEventInit), .text = id, .timestamp_ms = now});
    events += rest::FrameEvent(
        {.type = std::string(rest::kEventExecutionComplete), .timestamp_ms = now});
    res.set_header("Cache-Control", "no-cache");
    res.set_content(events, "text/event-stream");
    return;
  }
  RunForeground(*request, res);
}

void AgentServer::RunForeground(const rest::RunCommandRequest& request, httplib::Response& res) {
  const std::string id = rest::NewHexId();
  commands_.AddForeground(id, request.command);
  auto started = ForegroundCommand::Start(reaper_, request, id, commands_.ExitHook(id));
  if (!started.ok()) {
    commands_.Discard(id);
    return ReplyExecdError(res, started.status());
  }
  commands_.SetPid(id, (*started)->pid());
  StreamCommand(std::move(*started), res);
}

void AgentServer::HandleInterrupt(const httplib::Request& req, httplib::Response& res) {
  if (!req.has_param("id")) {
    return ReplyError(res, 400, rest::kMissingQuery, "missing query parameter 'id'");
  }
  absl::Status s = commands_.Interrupt(req.get_param_value("id"));
  // execd answers 500 both for an unknown id and for a command that is no longer running.
  if (!s.ok()) return ReplyError(res, 500, rest::kRuntimeError, s.message());
  res.status = 200;
}

void AgentServer::HandleStatus(const httplib::Request& req, httplib::Response& res) {
  auto status = commands_.Status(req.matches[1].str());
  if (!status.ok()) return ReplyError(res, 404, rest::kNotFound, status.status().message());
  ReplyJson(res, 200, rest::ToJson(*status));
}

void AgentServer::HandleLogs(const httplib::Request& req, httplib::Response& res) {
  int64_t cursor = 0;
  if (req.has_param("cursor") && !absl::SimpleAtoi(req.get_param_value("cursor"), &cursor)) {
    return ReplyError(res, 400, rest::kInvalidRequestBody, "cursor must be an integer");
  }
  auto chunk = commands_.Logs(req.matches[1].str(), cursor);
  // execd answers 400 for an unknown id as for a foreground one (COMPAT.md §2.5).
  if (!chunk.ok()) return ReplyError(res, 400, rest::kInvalidRequestBody, chunk.status().message());
  res.status = 200;
  res.set_header("EXECD-COMMANDS-TAIL-CURSOR", absl::StrCat(chunk->next_cursor));
  res.set_content(std::move(chunk->bytes), "text/plain; charset=utf-8");
}

void AgentServer::HandleMetricsWatch(httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  // One JSON line per interval (no `data:`, no blank line: COMPAT.md §2.7), each measuring the
  // interval before it, until the client goes away.
  res.set_chunked_content_provider("text/event-stream",
                                   [this](std::size_t, httplib::DataSink& sink) {
                                     double cpu = metrics_.CpuSeconds();
                                     absl::Time start = absl::Now();
                                     while (sink.is_writable()) {
                                       absl::SleepFor(kMetricsWatchInterval);
                                       rest::Metrics m = metrics_.Sample(cpu, start);
                                       cpu = metrics_.CpuSeconds();
                                       start = absl::Now();
                                       std::string line = rest::ToJson(m).dump() + "\n";
                                       if (!sink.write(line.data(), line.size())) break;
                                     }
                                     sink.done();
                                     return true;
                                   });
}

void AgentServer::HandleCreateSession(const httplib::Request& req, httplib::Response& res) {
  rest::CreateSessionRequest request;
  if (!req.body.empty()) {  // the body is optional
    auto body = ParseJsonBody(req);
    if (!body.ok()) return ReplyError(res, 400, rest::kInvalidRequestBody, body.status().message());
    auto parsed = rest::ParseCreateSessionRequest(*body);
    if (!parsed.ok()) {
      return ReplyError(res, 400, rest::kInvalidRequestBody, parsed.status().message());
    }
    request = *std::move(parsed);
  }
  auto id = sessions_.Create(request.cwd);
  if (!id.ok()) return ReplyExecdError(res, id.status());
  ReplyJson(res, 200, {{"session_id", *id}});
}

void AgentServer::HandleCreatePty(const httplib::Request& req, httplib::Response& res) {
  rest::CreatePtyRequest request;
  if (!req.body.empty()) {  // the body is optional
    auto body = ParseJsonBody(req);
    if (!body.ok()) return ReplyError(res, 400, rest::kInvalidRequestBody, body.status().message());
    auto parsed = rest::ParseCreatePtyRequest(*body);
    if (!parsed.ok()) {
      return ReplyError(res, 400, rest::kInvalidRequestBody, parsed.status().message());
    }
    request = *std::move(parsed);
  }
  auto id = ptys_.Create(request.cwd, request.command);
  if (!id.ok()) return ReplyExecdError(res, id.status());
  ReplyJson(res, 201, {{"session_id", *id}});
}

void AgentServer::HandleRunInSession(const httplib::Request& req, httplib::Response& res) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return ReplyError(res, 400, rest::kInvalidRequestBody, body.status().message());
  auto request = rest::ParseSessionRunRequest(*body);
  if (!request.ok()) {
    return ReplyError(res, 400, rest::kInvalidRequestBody, request.status().message());
  }
  auto started = sessions_.Run(req.matches[1].str(), *request);
  if (!started.ok()) {
    // execd answers 500 for an unknown or busy session (COMPAT.md §2.4).
    if (started.status().code() == absl::StatusCode::kInvalidArgument) {
      return ReplyError(res, 400, rest::kInvalidRequestBody, started.status().message());
    }
    return ReplyError(res, 500, rest::kRuntimeError, started.status().message());
  }
  StreamCommand(std::move(*started), res);
}

void AgentServer::HandleCreateContext(const httplib::Request& req, httplib::Response& res) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return ReplyError(res, 400, rest::kInvalidRequestBody, body.status().message());
  auto request = rest::ParseCodeContextRequest(*body);
  if (!request.ok()) return ReplyContextError(res, request.status());
  auto context = contexts_.Create(*request);
  if (!context.ok()) return ReplyContextError(res, context.status());
  ReplyJson(res, 200, rest::ToJson(*context));
}

void AgentServer::HandleListContexts(const httplib::Request& req, httplib::Response& res) {
  // The spec makes `language` required; execd lists every context without it (COMPAT.md §2.2).
  auto contexts = contexts_.List(req.get_param_value("language"));
  if (!contexts.ok()) return ReplyContextError(res, contexts.status());
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : *contexts) list.push_back(rest::ToJson(c));
  ReplyJson(res, 200, list);
}

void AgentServer::HandleRunCode(const httplib::Request& req, httplib::Response& res) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return ReplyError(res, 400, rest::kInvalidRequestBody, body.status().message());
  auto request = rest::ParseRunCodeRequest(*body);
  if (!request.ok()) return ReplyContextError(res, request.status());
  if (!request->context_id.has_value() && !request->language.has_value()) {
    // With no context the code is a shell command, as execd runs it (COMPAT.md §2.4).
    rest::RunCommandRequest command;
    command.command = request->code;
    return RunForeground(command, res);
  }
  auto run = contexts_.Begin(*request);
  if (!run.ok()) return ReplyContextError(res, run.status());
  std::shared_ptr<CodeRun> shared = std::move(*run);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  res.set_chunked_content_provider("text/event-stream",
                                   [shared](std::size_t, httplib::DataSink& sink) {
                                     shared->Stream([&sink](std::string_view bytes) {
                                       return sink.is_writable() &&
                                              sink.write(bytes.data(), bytes.size());
                                     });
                                     sink.done();
                                     return true;
                                   });
}

void AgentServer::HandleInterruptCode(const httplib::Request& req, httplib::Response& res) {
  if (!req.has_param("id")) {
    return ReplyError(res, 400, rest::kMissingQuery, "missing query parameter 'id'");
  }
  const std::string id = req.get_param_value("id");
  absl::Status s = contexts_.Interrupt(id);
  // execd closes a bash session given here, and answers 500 for an id it does not know.
  if (absl::IsNotFound(s) && sessions_.Delete(id).ok()) s = absl::OkStatus();
  if (!s.ok()) return ReplyError(res, 500, rest::kRuntimeError, s.message());
  res.status = 200;
}

}  // namespace osb::agent
