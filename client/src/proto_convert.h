// Conversions between the SDK's public values and osbd's proto messages.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "opensandbox/execution.h"
#include "opensandbox/file_types.h"
#include "opensandbox/sandbox_info.h"
#include "opensandbox/sandbox_spec.h"
#include "opensandbox/v1/commands.pb.h"
#include "opensandbox/v1/files.pb.h"
#include "opensandbox/v1/sandboxes.pb.h"
#include "opensandbox/v1/templates.pb.h"

namespace opensandbox::internal {

namespace v1 = ::opensandbox::v1;

absl::Time TimeFromProto(const google::protobuf::Timestamp& t);
google::protobuf::Duration DurationToProto(absl::Duration d);
absl::Duration DurationFromProto(const google::protobuf::Duration& d);

// The proto lease mode of a lease, and its holder: `pid`, or this process when it is 0 (osbd
// cannot see its callers' pids: gRPC does not expose SO_PEERCRED).
v1::LeaseMode LeaseModeOf(Lease lease);
int LeaseHolder(int pid);

SandboxInfo SandboxInfoFromProto(const v1::Sandbox& in);
SandboxPage SandboxPageFromProto(const v1::ListSandboxesResponse& in);
SnapshotInfo SnapshotInfoFromProto(const v1::Snapshot& in);
SnapshotPage SnapshotPageFromProto(const v1::ListSnapshotsResponse& in);
Endpoint EndpointFromProto(const v1::Endpoint& in);
SandboxMetrics MetricsFromProto(const v1::SandboxMetrics& in);
CommandStatus CommandStatusFromProto(const v1::CommandStatus& in);
FileInfo FileInfoFromProto(const v1::FileInfo& in);

// The request for Sandboxes.Create. kInvalidArgument for what the proto cannot say (a volume
// with no backend or two).
absl::StatusOr<v1::CreateSandboxRequest> CreateRequestFromSpec(const std::string& image,
                                                               const SandboxSpec& spec);

// A template from its parts (the spec's template_name and lease do not apply), and back.
absl::StatusOr<v1::Template> TemplateFromSpec(const std::string& name,
                                              const std::string& description,
                                              const std::string& image, const SandboxSpec& spec);
SandboxSpec SpecFromTemplate(const v1::Template& in);

}  // namespace opensandbox::internal
