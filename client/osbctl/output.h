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

// "osbctl: <what>: <message> (<CODE>)"; returns kToolFailure.
int Fail(const grpc::Status& status, const std::string& what);
// "osbctl: <what>: <strerror(errno)>"; returns kToolFailure.
int FailLocal(const std::string& what);
// Prints `m` (as JSON with the proto's field names) in the format `-o` chose; returns 0.
int PrintJson(const google::protobuf::Message& m);
// The format PrintJson uses from now on (default: indented JSON).
void SetResultFormat(ResultFormat format);
// Writes all of `data` to `fd`; false when it cannot.
bool WriteAll(int fd, const std::string& data);

}  // namespace osb::cli
