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

namespace opensandbox::internal {

namespace v1 = ::opensandbox::v1;

absl::Time TimeFromProto(const google::protobuf::Timestamp& t);
google::protobuf::Duration DurationToProto(absl::Duration d);

SandboxInfo SandboxInfoFromProto(const v1::Sandbox& in);
SandboxPage SandboxPageFromProto(const v1::ListSandboxesResponse& in);
Endpoint EndpointFromProto(const v1::Endpoint& in);
SandboxMetrics MetricsFromProto(const v1::SandboxMetrics& in);
CommandStatus CommandStatusFromProto(const v1::CommandStatus& in);
FileInfo FileInfoFromProto(const v1::FileInfo& in);

// The request for Sandboxes.Create. kInvalidArgument for what the proto cannot say (a volume
// with no backend or two).
absl::StatusOr<v1::CreateSandboxRequest> CreateRequestFromSpec(const std::string& image,
                                                               const SandboxSpec& spec);

}  // namespace opensandbox::internal
