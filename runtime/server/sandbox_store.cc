#include "runtime/server/sandbox_store.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"

namespace osb::runtime {
namespace {

constexpr absl::string_view kSuffix = ".json";

absl::StatusOr<StoredSandbox> Parse(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::DataLossError("not a JSON object");
  auto sandbox = rest::ParseSandbox(j.value("sandbox", nlohmann::json()));
  if (!sandbox.ok()) return sandbox.status();
  StoredSandbox s;
  s.sandbox = std::move(*sandbox);
  auto token = j.find("accessToken");
  auto pid = j.find("agentPid");
  auto ticks = j.find("agentStartTicks");
  if (token == j.end() || !token->is_string() || pid == j.end() || !pid->is_number_integer() ||
      ticks == j.end() || !ticks->is_number_unsigned()) {
    return absl::DataLossError("accessToken, agentPid or agentStartTicks missing");
  }
  s.access_token = token->get<std::string>();
  s.agent_pid = pid->get<pid_t>();
  s.agent_start_ticks = ticks->get<uint64_t>();
  if (auto egress = j.find("egressPid"); egress != j.end() && egress->is_number_integer()) {
    s.egress_pid = egress->get<pid_t>();
    s.egress_start_ticks = j.value("egressStartTicks", uint64_t{0});
  }
  if (auto policy = j.find("networkPolicy"); policy != j.end() && policy->is_object()) {
    s.network_policy = *policy;
  }
  if (auto by_name = j.find("egressByName"); by_name != j.end() && by_name->is_boolean()) {
    s.egress_by_name = by_name->get<bool>();
  }
  if (auto dirs = j.find("deleteOnKill"); dirs != j.end()) {
    if (!dirs->is_array()) return absl::DataLossError("deleteOnKill is not an array");
    for (const auto& d : *dirs) {
      if (!d.is_string()) return absl::DataLossError("deleteOnKill holds a non-string");
      s.delete_on_kill.push_back(d.get<std::string>());
    }
  }
  return s;
}

}  // namespace

absl::Status SandboxStore::Save(const StoredSandbox& s) const {
  nlohmann::json j = {{"sandbox", rest::ToJson(s.sandbox)},
                      {"accessToken", s.access_token},
                      {"agentPid", s.agent_pid},
                      {"agentStartTicks", s.agent_start_ticks},
                      {"deleteOnKill", s.delete_on_kill},
                      {"egressPid", s.egress_pid},
                      {"egressStartTicks", s.egress_start_ticks}};
  if (s.network_policy.has_value()) j["networkPolicy"] = *s.network_policy;
  if (s.egress_by_name) j["egressByName"] = true;
  return WriteFileAtomic(PathOf(s.sandbox.id), j.dump() + "\n", 0600,
                         Durability::kProcessCrash);
}

absl::Status SandboxStore::Remove(const std::string& id) const {
  if (::unlink(PathOf(id).c_str()) != 0 && errno != ENOENT) {
    return ErrnoStatus("remove " + PathOf(id), errno);
  }
  return absl::OkStatus();
}

std::vector<StoredSandbox> SandboxStore::LoadAll(std::vector<std::string>* problems) const {
  std::vector<StoredSandbox> out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(dir_.c_str()), ::closedir);
  if (dir == nullptr) {
    problems->push_back(ErrnoStatus("open " + dir_, errno).ToString());
    return out;
  }
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string name = entry->d_name;
    if (!absl::EndsWith(name, kSuffix)) continue;  // *.corrupt, a writer's temporary file
    const std::string path = dir_ + "/" + name;
    const std::string id = name.substr(0, name.size() - kSuffix.size());
    auto text = ReadFile(path);
    absl::StatusOr<StoredSandbox> s =
        text.ok() ? Parse(*text) : absl::StatusOr<StoredSandbox>(text.status());
    if (s.ok() && s->sandbox.id != id) s = absl::DataLossError("its id is " + s->sandbox.id);
    if (!s.ok()) {
      std::string aside = path + ".corrupt";
      ::rename(path.c_str(), aside.c_str());
      problems->push_back(
          absl::StrCat("sandbox record ", path, " is unreadable (", s.status().message(),
                       "); moved to ", aside));
      continue;
    }
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace osb::runtime
