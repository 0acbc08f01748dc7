// Conversions between the gRPC API (proto/opensandbox/v1) and the OpenSandbox REST types (rest/).
// A request that cannot be converted is InvalidArgument naming its field (field_error.h); no
// field is ever silently dropped.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "opensandbox/v1/code.pb.h"
#include "opensandbox/v1/commands.pb.h"
#include "opensandbox/v1/files.pb.h"
#include "opensandbox/v1/sandboxes.pb.h"
#include "rest/execd.h"
#include "rest/execd_code.h"
#include "rest/execd_files.h"
#include "rest/lifecycle.h"

namespace osb::daemon {

// Applies the official SDKs' defaults: entrypoint ["tail","-f","/dev/null"], timeout 600 s unless
// manual_cleanup, resource limits {"cpu":"1","memory":"2Gi"} when none are given.
// InvalidArgument: both image and snapshot_id or neither, timeout with manual_cleanup, timeout
// under 60 s, a renew-while-alive lease with manual_cleanup. A lease's labels are the caller's to
// add (LeaseKeeper::Labels), once the holder is known to be alive.
absl::StatusOr<rest::CreateSandboxRequest> ToRest(const opensandbox::v1::CreateSandboxRequest& in);

opensandbox::v1::Sandbox ToProto(const rest::Sandbox& in);
opensandbox::v1::Snapshot ToProto(const rest::Snapshot& in);

// A proto duration as absl's, to the millisecond.
absl::Duration ToAbsl(const google::protobuf::Duration& d);

// Metadata osbd adds to a leased sandbox (LeaseKeeper::Labels), DESIGN: leases.
inline constexpr std::string_view kLeasePidLabel = "osbd.opensandbox.io/lease-pid";
inline constexpr std::string_view kLeaseModeLabel = "osbd.opensandbox.io/lease-mode";
// The holder's start time (/proc/<pid>/stat field 22), so that a later osbd never mistakes a
// process that reused the pid for the holder; and the lease's renewal step in seconds.
inline constexpr std::string_view kLeaseStartLabel = "osbd.opensandbox.io/lease-start";
inline constexpr std::string_view kLeaseTtlLabel = "osbd.opensandbox.io/lease-ttl";

// InvalidArgument for an empty command or ids out of range.
absl::StatusOr<rest::RunCommandRequest> ToRest(const opensandbox::v1::RunCommandRequest& in);

// InvalidArgument for an empty command or session id, or a timeout under 1 ms.
absl::StatusOr<rest::SessionRunRequest> ToRest(const opensandbox::v1::RunInSessionRequest& in);

// One execd event as a journal entry numbered `seq`. Events with no counterpart in the gRPC API
// (ping) yield nullopt.
std::optional<opensandbox::v1::CommandEvent> ToProto(const rest::ServerStreamEvent& in,
                                                     uint64_t seq);

// One event of execd's /code stream (COMPAT.md §2.3). A result's values are kept as sent: text
// as its bytes, anything else (execd's JSON MIME data) as JSON text. Ping yields nullopt.
std::optional<opensandbox::v1::CodeEvent> ToCodeEvent(const rest::ServerStreamEvent& in);
opensandbox::v1::CodeContext ToProto(const rest::CodeContext& in);

opensandbox::v1::FileInfo ToProto(const rest::FileInfo& in);
opensandbox::v1::SandboxMetrics ToProto(const rest::Metrics& in);
opensandbox::v1::CommandStatus ToProto(const rest::CommandStatus& in);

}  // namespace osb::daemon
