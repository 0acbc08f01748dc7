#include "client/osbctl/batch_command.h"

#include <cstdio>

#include "client/osbctl/output.h"
#include "client/osbctl/yaml_json.h"
#include "google/protobuf/util/json_util.h"
#include "rest/sys/file_util.h"

namespace osb::cli {

int RunBatchFile(opensandbox::v1::Commands::Stub& commands, grpc::ClientContext& call,
                 const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    std::fprintf(stderr, "osbctl: %s\n", std::string(text.status().message()).c_str());
    return 2;
  }
  // JSON is YAML: one reader for both.
  auto json = YamlToJson(*text);
  if (!json.ok()) {
    std::fprintf(stderr, "osbctl: %s is not JSON or YAML: %s\n", path.c_str(),
                 std::string(json.status().message()).c_str());
    return 2;
  }
  opensandbox::v1::RunBatchRequest request;
  if (auto parsed = google::protobuf::util::JsonStringToMessage(*json, &request); !parsed.ok()) {
    std::fprintf(stderr, "osbctl: %s is not a batch: %s\n", path.c_str(),
                 std::string(parsed.message()).c_str());
    return 2;
  }
  auto reader = commands.RunBatch(&call, request);
  opensandbox::v1::BatchJobResult result;
  bool all_ok = true;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  while (reader->Read(&result)) {
    all_ok = all_ok && result.success();
    std::string line;
    (void)google::protobuf::util::MessageToJsonString(result, &line, options);
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Fail(status, "batch " + path);
  return all_ok ? 0 : 1;
}

}  // namespace osb::cli
