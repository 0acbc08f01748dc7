// `osbctl snapshot ...`: snapshots of sandboxes through osbd (Sandboxes.CreateSnapshot and its
// kin). `create` waits until the snapshot is Ready and prints it (exit 1 when it Failed, with the
// reason on stderr), unless --no-wait; the others print JSON (or the chosen -o format).
//
//   snap=$(osbctl -o raw snapshot create "$id" --name before-upgrade | jq -r .id)
//   osbctl sandbox create --snapshot "$snap"
//   osbctl snapshot list --sandbox "$id"; osbctl snapshot delete "$snap"
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"

namespace osb::cli {

class SnapshotCommands {
 public:
  // Adds the `snapshot` subcommand tree to `app`.
  explicit SnapshotCommands(CLI::App& app);

  // Whether the command line chose one of these subcommands.
  bool Chosen() const;

  // Runs the chosen subcommand over `channel`; `call` is the context a signal cancels.
  int Run(const std::shared_ptr<grpc::Channel>& channel, grpc::ClientContext& call);

 private:
  CLI::App* snapshot_ = nullptr;
  CLI::App *create_, *get_, *list_, *delete_;
  std::string sandbox_id_, snapshot_id_, name_;
  std::vector<std::string> states_;
  bool no_wait_ = false;
};

}  // namespace osb::cli
