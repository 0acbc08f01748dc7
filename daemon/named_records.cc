#include "daemon/named_records.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "rest/sys/file_util.h"

namespace osb::daemon {

absl::Status ValidateDnsLabel(const std::string& what, const std::string& name) {
  bool ok = !name.empty() && name.size() <= 63 && name.front() != '-' && name.back() != '-';
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(what, " \"", name,
                   "\" is not a DNS label (1 to 63 lowercase letters, digits and '-', not "
                   "starting or ending with '-')"));
}

absl::Status NamedRecords::Save(const std::string& name,
                                const google::protobuf::Message& record) const {
  if (dir_.empty()) return absl::OkStatus();
  if (auto s = ValidateDnsLabel("name", name); !s.ok()) return s;
  if (auto s = MakeDirs(dir_, 0700); !s.ok()) return s;
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  auto printed = google::protobuf::util::MessageToJsonString(record, &json, options);
  if (!printed.ok()) return absl::InternalError(std::string(printed.message()));
  return WriteFileAtomic(PathOf(name), json, 0600);
}

absl::Status NamedRecords::Remove(const std::string& name) const {
  if (dir_.empty()) return absl::OkStatus();
  if (auto s = ValidateDnsLabel("name", name); !s.ok()) return s;
  if (::unlink(PathOf(name).c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("remove " + PathOf(name), errno);
  }
  return absl::OkStatus();
}

std::map<std::string, std::unique_ptr<google::protobuf::Message>> NamedRecords::Load(
    const google::protobuf::Message& prototype, std::vector<std::string>* skipped) const {
  std::map<std::string, std::unique_ptr<google::protobuf::Message>> records;
  if (dir_.empty()) return records;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_.c_str()), ::closedir);
  if (dir == nullptr) return records;  // nothing saved yet
  while (const dirent* entry = ::readdir(dir.get())) {
    std::string file = entry->d_name;
    absl::string_view name = file;
    if (!absl::ConsumeSuffix(&name, ".json")) continue;  // temporaries, strays
    const std::string path = dir_ + "/" + file;
    if (!ValidateDnsLabel("name", std::string(name)).ok()) {
      skipped->push_back(path + ": not a valid record name");
      continue;
    }
    auto text = ReadFile(path);
    std::unique_ptr<google::protobuf::Message> record(prototype.New());
    if (!text.ok()) {
      skipped->push_back(absl::StrCat(path, ": ", text.status().message()));
      continue;
    }
    if (auto parsed = google::protobuf::util::JsonStringToMessage(*text, record.get());
        !parsed.ok()) {
      skipped->push_back(absl::StrCat(path, ": ", std::string(parsed.message())));
      continue;
    }
    records.emplace(std::string(name), std::move(record));
  }
  return records;
}

}  // namespace osb::daemon
