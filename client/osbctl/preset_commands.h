// `osbctl template ...` and `osbctl pool ...`: osbd's templates (named create parameters) and
// warm pools. Lookups print JSON; `pool acquire` prints the acquired sandbox's id, so scripts can
// `id=$(osbctl pool acquire py)`.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace osb::cli {

class PresetCommands {
 public:
  // Adds the `template` and `pool` subcommand trees to `app`.
  explicit PresetCommands(CLI::App& app);

  // Whether the command line chose one of these subcommands.
  bool Chosen() const;

  // Runs the chosen subcommand over `channel`; `call` is the context a signal cancels.
  int Run(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call);

 private:
  int RunTemplate(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call);
  int RunPool(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call);

  CLI::App *template_, *pool_;
  CLI::App *template_list_, *template_get_, *template_define_, *template_delete_;
  CLI::App *pool_define_, *pool_list_, *pool_stats_, *pool_acquire_, *pool_release_,
      *pool_delete_;
  std::string name_, description_, image_, template_name_, sandbox_id_;
  std::vector<std::string> env_, metadata_, resources_;
  int64_t timeout_seconds_ = 0;
  bool manual_cleanup_ = false, fail_fast_ = false, reuse_ = false, keep_idle_ = false;
  uint32_t min_idle_ = 0, max_idle_ = 0;
};

}  // namespace osb::cli
