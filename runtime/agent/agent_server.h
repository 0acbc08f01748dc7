// The execd API served by osb-agent inside its sandbox (COMPAT.md §2): GET /ping, commands
// (foreground and background, status, logs, interrupt), bash sessions, code contexts, files and
// metrics, PTY sessions over WebSocket.
#pragma once

#include <httplib.h>

#include <string>

#include "rest/execd.h"
#include "runtime/common/http_server.h"
#include "runtime/agent/bash_sessions.h"
#include "runtime/agent/code_contexts.h"
#include "runtime/agent/command_registry.h"
#include "runtime/agent/pty_sessions.h"
#include "runtime/agent/reaper.h"
#include "runtime/agent/sandbox_metrics.h"

namespace osb::agent {

class AgentServer {
 public:
  // Only osb-runtime can reach the agent's socket; it checks the sandbox's access token before
  // proxying, so the agent itself does not.
  AgentServer(Reaper& reaper, SandboxLimits limits);

  runtime::HttpServer& http() { return server_; }

 private:
  void HandleRunCommand(const httplib::Request& req, httplib::Response& res);
  void RunForeground(const rest::RunCommandRequest& request, httplib::Response& res);
  void HandleInterrupt(const httplib::Request& req, httplib::Response& res);
  void HandleStatus(const httplib::Request& req, httplib::Response& res);
  void HandleLogs(const httplib::Request& req, httplib::Response& res);
  void HandleCreateSession(const httplib::Request& req, httplib::Response& res);
  void HandleCreatePty(const httplib::Request& req, httplib::Response& res);
  void HandleRunInSession(const httplib::Request& req, httplib::Response& res);
  void HandleMetricsWatch(httplib::Response& res);
  void HandleCreateContext(const httplib::Request& req, httplib::Response& res);
  void HandleListContexts(const httplib::Request& req, httplib::Response& res);
  void HandleRunCode(const httplib::Request& req, httplib::Response& res);
  void HandleInterruptCode(const httplib::Request& req, httplib::Response& res);

  Reaper& reaper_;
  CommandRegistry commands_;
  BashSessions sessions_;
  CodeContexts contexts_;
  PtySessions ptys_;
  MetricsSampler metrics_;
  runtime::HttpServer server_;
};

}  // namespace osb::agent
