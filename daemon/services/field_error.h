// Errors about one field of a request: InvalidArgument with a message naming the field, and the
// field itself in a payload, which ToGrpcStatus (grpc_status.h) sends to clients as a
// google.rpc.BadRequest field violation, for programs.
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace osb::daemon {

inline constexpr absl::string_view kFieldPayload = "osbd.opensandbox.io/field";

// InvalidArgument "<field> <what>" about `field` (its proto path, e.g. "health_check.tcp.port"):
// InvalidField("health_check.tcp.port", "must be 1 to 65535").
inline absl::Status InvalidField(absl::string_view field, absl::string_view what) {
  absl::Status status = absl::InvalidArgumentError(absl::StrCat(field, " ", what));
  status.SetPayload(kFieldPayload, absl::Cord(field));
  return status;
}

// `status`, an InvalidArgument whose message already names `field`, marked as about it.
inline absl::Status AboutField(absl::Status status, absl::string_view field) {
  status.SetPayload(kFieldPayload, absl::Cord(field));
  return status;
}

// InvalidField "<field> is required" when `value` is empty; OK otherwise.
inline absl::Status RequiredField(absl::string_view value, absl::string_view field) {
  if (!value.empty()) return absl::OkStatus();
  return InvalidField(field, "is required");
}

// The field an InvalidField status is about; nullopt for any other status.
inline std::optional<std::string> InvalidFieldOf(const absl::Status& status) {
  auto field = status.GetPayload(kFieldPayload);  // absl::optional: not std:: in this Abseil
  if (!field.has_value()) return std::nullopt;
  return std::string(*field);
}

}  // namespace osb::daemon
