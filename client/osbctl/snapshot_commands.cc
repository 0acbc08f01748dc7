#include "client/osbctl/snapshot_commands.h"

#include <cstdio>

#include "client/osbctl/output.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"

namespace osb::cli {

namespace v1 = opensandbox::v1;

SnapshotCommands::SnapshotCommands(CLI::App& app) {
  snapshot_ = app.add_subcommand("snapshot", "snapshots of sandboxes' files, to start new ones");
  snapshot_->require_subcommand(1);
  create_ = snapshot_->add_subcommand(
      "create", "capture a running sandbox's changes; waits until Ready and prints the snapshot");
  create_->add_option("id", sandbox_id_, "sandbox id")->required();
  create_->add_option("--name", name_, "a name for people");
  create_->add_flag("--no-wait", no_wait_, "print the accepted snapshot (Creating) at once");
  get_ = snapshot_->add_subcommand("get", "print a snapshot");
  get_->add_option("id", snapshot_id_, "snapshot id")->required();
  list_ = snapshot_->add_subcommand("list", "list snapshots");
  list_->add_option("--sandbox", sandbox_id_, "only those of this sandbox");
  list_->add_option("--state", states_, "only these states (repeatable, OR)");
  delete_ = snapshot_->add_subcommand("delete", "delete a snapshot");
  delete_->add_option("id", snapshot_id_, "snapshot id")->required();
}

bool SnapshotCommands::Chosen() const { return snapshot_->parsed(); }

int SnapshotCommands::Run(const std::shared_ptr<grpc::Channel>& channel,
                          grpc::ClientContext& call) {
  auto sandboxes = v1::Sandboxes::NewStub(channel);
  if (create_->parsed()) {
    v1::CreateSnapshotRequest request;
    request.set_sandbox_id(sandbox_id_);
    request.set_name(name_);
    request.set_wait(!no_wait_);
    v1::Snapshot snapshot;
    grpc::Status status = sandboxes->CreateSnapshot(&call, request, &snapshot);
    if (!status.ok()) return Fail(status, "create snapshot");
    PrintJson(snapshot);
    if (snapshot.status().state() == "Failed") {
      std::fprintf(stderr, "osbctl: snapshot %s failed: %s\n", snapshot.id().c_str(),
                   snapshot.status().message().c_str());
      return 1;
    }
    return 0;
  }
  if (get_->parsed()) {
    v1::GetSnapshotRequest request;
    request.set_snapshot_id(snapshot_id_);
    v1::Snapshot snapshot;
    grpc::Status status = sandboxes->GetSnapshot(&call, request, &snapshot);
    if (!status.ok()) return Fail(status, "get snapshot");
    return PrintJson(snapshot);
  }
  if (list_->parsed()) {
    v1::ListSnapshotsRequest request;
    request.set_sandbox_id(sandbox_id_);
    for (const auto& state : states_) request.add_states(state);
    request.set_page_size(200);
    v1::ListSnapshotsResponse list;
    grpc::Status status = sandboxes->ListSnapshots(&call, request, &list);
    if (!status.ok()) return Fail(status, "list snapshots");
    return PrintList(list);
  }
  v1::DeleteSnapshotRequest request;
  request.set_snapshot_id(snapshot_id_);
  v1::DeleteSnapshotResponse deleted;
  grpc::Status status = sandboxes->DeleteSnapshot(&call, request, &deleted);
  if (!status.ok()) return Fail(status, "delete snapshot");
  return 0;
}

}  // namespace osb::cli
