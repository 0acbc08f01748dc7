// How osbctl reports: failures as one line on stderr with the gRPC code (exit status 125, as
// `docker run` does for its own failures), results on stdout in the `-o` format, streamed bytes
// whole.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "client/osbctl/result_format.h"
#include "google/protobuf/message.h"

namespace osb::cli {

// The exit status of a failure of osbctl, osbd or the sandbox service.
inline constexpr int kToolFailure = 125;

// "osbctl: <what>: <message> (<CODE>)", always one line (osbd's message carries the service's
// error code and request id when the failure came from the service); returns kToolFailure.
int Fail(const grpc::Status& status, const std::string& what);
// "osbctl: <what>: <strerror(errno)>"; returns kToolFailure.
int FailLocal(const std::string& what);
// Prints `m` (as JSON with the proto's field names) in the format `-o` chose; returns 0.
int PrintJson(const google::protobuf::Message& m);
// PrintJson for a list response (ListSandboxesResponse, ListPoolsResponse, ...): its lists as []
// when empty, and its `pagination`, if it has one, with every field, zeros and false included,
// so that a script can read and page on without knowing proto3's defaults. Returns 0.
int PrintList(const google::protobuf::Message& list);
// The format PrintJson uses from now on (default: indented JSON).
void SetResultFormat(ResultFormat format);
// Writes all of `data` to `fd`; false when it cannot.
bool WriteAll(int fd, const std::string& data);

}  // namespace osb::cli
