// NamedRecords: osbd's own durable state (templates, pool definitions) as one JSON file per
// named proto message in a directory, written atomically and 0600 (a template may hold registry
// credentials). Names are DNS labels, which is also what keeps them safe as file names.
#pragma once

#include <map>
#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace osb::daemon {

// InvalidArgument unless `name` is a DNS label: 1 to 63 of [a-z0-9-], not starting or ending
// with '-'. `what` names the field in the message ("template name").
absl::Status ValidateDnsLabel(const std::string& what, const std::string& name);

class NamedRecords {
 public:
  // Records live in `dir` (created 0700 when first written). An empty `dir` keeps nothing on
  // disk: Save and Remove succeed and Load finds nothing.
  explicit NamedRecords(std::string dir) : dir_(std::move(dir)) {}

  // Writes `record` as `name`, replacing any earlier one.
  absl::Status Save(const std::string& name, const google::protobuf::Message& record) const;
  // Deletes `name`'s record; a missing one is not an error.
  absl::Status Remove(const std::string& name) const;
  // Every record in the directory, parsed into copies of `prototype`, by name. Files that are not
  // a valid record are skipped and listed in `*skipped` ("file: why").
  std::map<std::string, std::unique_ptr<google::protobuf::Message>> Load(
      const google::protobuf::Message& prototype, std::vector<std::string>* skipped) const;

 private:
  std::string PathOf(const std::string& name) const { return dir_ + "/" + name + ".json"; }
  std::string dir_;
};

}  // namespace osb::daemon
