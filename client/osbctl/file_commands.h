// `osbctl file ...` and `osbctl command status|logs|interrupt|session create|delete`: a
// sandbox's files, background commands and bash sessions through osbd's Files and Commands
// services. Each subcommand prints JSON for what it
// looks up, streams file contents between the sandbox and local stdin/stdout or files, and
// returns the exit status osbctl should end with.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace osb::cli {

class FileCommands {
 public:
  // Adds the `file` and `command` subcommand trees to `app`.
  explicit FileCommands(CLI::App& app);

  // The `command` and `command session` subcommands, for the caller to add the streamed `run`s.
  CLI::App* command_app() const { return command_; }
  CLI::App* session_app() const { return session_; }

  // Whether the command line chose one of these subcommands.
  bool Chosen() const;

  // Runs the chosen subcommand over `channel`; `call` is the context a signal cancels.
  int Run(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call);

 private:
  CLI::App* file_ = nullptr;
  CLI::App* command_ = nullptr;
  CLI::App *cat_, *write_, *upload_, *download_, *ls_, *info_, *rm_, *rmdir_, *mkdir_, *mv_,
      *search_, *chmod_, *replace_;
  CLI::App *status_, *logs_, *interrupt_, *session_, *session_create_, *session_delete_;
  std::string sandbox_id_;
  std::vector<std::string> paths_;
  std::string path_, local_, second_, third_;
  std::string mode_;  // octal, e.g. 644
  std::string owner_, group_, pattern_;
  unsigned depth_ = 1;
  std::string command_id_, session_id_, cwd_;
  int64_t cursor_ = 0;
};

}  // namespace osb::cli
