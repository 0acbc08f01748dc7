#include "client/osbctl/output.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/status/status.h"
#include "google/protobuf/util/json_util.h"

namespace osb::cli {

int Fail(const grpc::Status& status, const std::string& what) {
  // gRPC and absl share the canonical code numbering; the name is what a user can look up.
  const std::string code =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
  std::fprintf(stderr, "osbctl: %s: %s (%s)\n", what.c_str(), status.error_message().c_str(),
               code.c_str());
  return kToolFailure;
}

int FailLocal(const std::string& what) {
  std::fprintf(stderr, "osbctl: %s: %s\n", what.c_str(), std::strerror(errno));
  return kToolFailure;
}

namespace {
ResultFormat result_format = ResultFormat::kJson;
}  // namespace

void SetResultFormat(ResultFormat format) { result_format = format; }

int PrintJson(const google::protobuf::Message& m) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  std::fputs(FormatResult(nlohmann::ordered_json::parse(json), result_format).c_str(), stdout);
  return 0;
}

bool WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace osb::cli
