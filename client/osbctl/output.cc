#include "client/osbctl/output.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"

namespace osb::cli {

int Fail(const grpc::Status& status, const std::string& what) {
  // gRPC and absl share the canonical code numbering; the name is what a user can look up.
  const std::string code =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
  // A service's message may span lines; the failure must stay one line for logs and for grep.
  const std::string message = absl::StrReplaceAll(
      absl::StripTrailingAsciiWhitespace(status.error_message()), {{"\r\n", " "}, {"\n", " "}});
  std::fprintf(stderr, "osbctl: %s: %s (%s)\n", what.c_str(), message.c_str(), code.c_str());
  return kToolFailure;
}

int FailLocal(const std::string& what) {
  std::fprintf(stderr, "osbctl: %s: %s\n", what.c_str(), std::strerror(errno));
  return kToolFailure;
}

namespace {

ResultFormat result_format = ResultFormat::kJson;

nlohmann::ordered_json ToJson(const google::protobuf::Message& m, bool with_defaults) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = with_defaults;
  (void)google::protobuf::util::MessageToJsonString(m, &json, options);
  return nlohmann::ordered_json::parse(json);
}

}  // namespace

void SetResultFormat(ResultFormat format) { result_format = format; }

int PrintJson(const google::protobuf::Message& m) {
  std::fputs(FormatResult(ToJson(m, false), result_format).c_str(), stdout);
  return 0;
}

int PrintList(const google::protobuf::Message& list) {
  const nlohmann::ordered_json sparse = ToJson(list, false);
  // Rebuilt in the message's field order: a list added where proto3 left it out keeps its place.
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  const google::protobuf::Descriptor* descriptor = list.GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    const std::string& name = field->name();
    if (name == "pagination" && !field->is_repeated() &&
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      json[name] = ToJson(list.GetReflection()->GetMessage(list, field), true);
    } else if (sparse.contains(name)) {
      json[name] = sparse[name];
    } else if (field->is_repeated()) {
      json[name] = field->is_map() ? nlohmann::ordered_json::object()
                                   : nlohmann::ordered_json::array();
    }
  }
  std::fputs(FormatResult(json, result_format).c_str(), stdout);
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
