// `osbctl sandbox ...`: one sandbox's state through osbd (Sandboxes.Get, List, Kill, Pause,
// Resume, Renew, GetEndpoint, GetMetrics, WatchMetrics) and a health probe. `sandbox create` is
// main's: it shares its flags and its lease with `osbctl run`.
//
//   osbctl sandbox list --state Running -m team=ci --page-size 50
//   osbctl sandbox metrics "$id" --watch --count 10
//   osbctl sandbox health "$id" || echo "gone bad"
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "opensandbox/v1/sandboxes.grpc.pb.h"

namespace osb::cli {

class SandboxCommands {
 public:
  // Adds the `sandbox` subcommand tree to `app`, `create` excepted.
  explicit SandboxCommands(CLI::App& app);

  // The `sandbox` subcommand, for main to add `create` to.
  CLI::App* sandbox_app() const { return sandbox_; }

  // Whether the command line chose one of these subcommands.
  bool Chosen() const;

  // Turns flag values into requests once the command line is parsed: false, with one line on
  // stderr, for a malformed one (a usage error, reported before osbd is started).
  bool Prepare();

  // Runs the chosen subcommand over `channel`; `call` is the context a signal cancels, and
  // `interrupted` says whether one did (how a `metrics --watch` without --count ends).
  int Run(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call,
          const std::atomic<bool>& interrupted);

 private:
  int WatchMetrics(opensandbox::v1::Sandboxes::Stub& sandboxes, grpc::ClientContext& call,
                   const std::atomic<bool>& interrupted);
  int Health(opensandbox::v1::Sandboxes::Stub& sandboxes,
             const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call);

  CLI::App* sandbox_ = nullptr;
  CLI::App *get_, *kill_, *list_, *pause_, *resume_, *renew_, *endpoint_, *metrics_, *health_;
  std::string sandbox_id_;
  std::vector<std::string> list_states_, list_metadata_;
  int32_t list_page_ = 1, list_page_size_ = 200;
  opensandbox::v1::ListSandboxesRequest list_request_;
  int64_t renew_seconds_ = 0;
  uint32_t endpoint_port_ = 0;
  bool watch_ = false;
  int64_t watch_count_ = 0;  // 0: until interrupted
};

}  // namespace osb::cli
