// How osbctl reports: failures as one line on stderr with the gRPC code (exit status 125, as
// `docker run` does for its own failures), results as JSON on stdout, streamed bytes whole.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "google/protobuf/message.h"

namespace osb::cli {

// The exit status of a failure of osbctl, osbd or the sandbox service.
inline constexpr int kToolFailure = 125;

// "osbctl: <what>: <message> (<CODE>)"; returns kToolFailure.
int Fail(const grpc::Status& status, const std::string& what);
// "osbctl: <what>: <strerror(errno)>"; returns kToolFailure.
int FailLocal(const std::string& what);
// Prints `m` as indented JSON with the proto's field names; returns 0.
int PrintJson(const google::protobuf::Message& m);
// Writes all of `data` to `fd`; false when it cannot.
bool WriteAll(int fd, const std::string& data);

}  // namespace osb::cli
