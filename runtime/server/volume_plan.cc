#include "runtime/server/volume_plan.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "rest/error.h"
#include "rest/sys/file_util.h"

namespace osb::runtime {
namespace {

absl::Status Invalid(std::string_view code, const std::string& message) {
  return rest::MakeError(absl::StatusCode::kInvalidArgument, code, message);
}

bool IsDnsLabel(const std::string& s, std::size_t max, bool allow_dots) {
  if (s.empty() || s.size() > max) return false;
  auto inner = [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           (allow_dots && (c == '.' || c == '_'));
  };
  auto edge = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!edge(s.front()) || !edge(s.back())) return false;
  for (char c : s) {
    if (!inner(c)) return false;
  }
  return true;
}

// The path's components, or an error for "", ".", ".." or a NUL among them.
absl::StatusOr<std::vector<std::string>> Components(const std::string& path) {
  if (path.find('\0') != std::string::npos) return absl::InvalidArgumentError("holds a NUL");
  std::vector<std::string> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == "." || part == "..") return absl::InvalidArgumentError("holds . or ..");
    parts.emplace_back(part);
  }
  return parts;
}

// The mount's place in the sandbox, normalized: absolute, not /, not inside /proc, /dev or /sys
// (the agent's own mounts), no ':' (the agent's argument syntax).
absl::StatusOr<std::string> Target(const std::string& name, const nlohmann::json& v) {
  auto bad = [&](const std::string& why) {
    return Invalid("VOLUME::INVALID_MOUNT_PATH",
                   absl::StrCat("volume ", name, ": mountPath ", why));
  };
  auto it = v.find("mountPath");
  if (it == v.end() || !it->is_string()) return bad("is required and must be a string");
  const std::string path = it->get<std::string>();
  if (path.empty() || path[0] != '/') return bad("must be an absolute path");
  if (path.find(':') != std::string::npos) return bad("must not hold ':'");
  auto parts = Components(path);
  if (!parts.ok()) return bad(std::string(parts.status().message()));
  if (parts->empty()) return bad("must not be /");
  if ((*parts)[0] == "proc" || (*parts)[0] == "dev" || (*parts)[0] == "sys") {
    return bad("must not be inside /proc, /dev or /sys");
  }
  return absl::StrCat("/", absl::StrJoin(*parts, "/"));
}

absl::StatusOr<std::string> SubPath(const std::string& name, const nlohmann::json& v) {
  auto it = v.find("subPath");
  if (it == v.end() || it->is_null()) return std::string();
  auto bad = [&](const std::string& why) {
    return Invalid("VOLUME::INVALID_SUB_PATH", absl::StrCat("volume ", name, ": subPath ", why));
  };
  if (!it->is_string()) return bad("must be a string");
  const std::string sub = it->get<std::string>();
  if (!sub.empty() && sub[0] == '/') return bad("must be a relative path");
  auto parts = Components(sub);
  if (!parts.ok()) return bad(std::string(parts.status().message()));
  return absl::StrJoin(*parts, "/");
}

absl::StatusOr<bool> Flag(const std::string& name, const nlohmann::json& object,
                          const char* key, bool fallback) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) {
    return Invalid("VOLUME::INVALID_PARAMETER",
                   absl::StrCat("volume ", name, ": ", key, " must be true or false"));
  }
  return it->get<bool>();
}

bool Within(const std::string& path, const std::string& dir) {
  return path == dir || dir == "/" || absl::StartsWith(path, dir + "/");
}

absl::StatusOr<std::string> HostSource(const std::string& name, const nlohmann::json& host,
                                       const std::string& sub, const VolumeOptions& options) {
  auto path = host.find("path");
  if (!host.is_object() || path == host.end() || !path->is_string() ||
      path->get<std::string>().empty() || path->get<std::string>()[0] != '/') {
    return Invalid("VOLUME::INVALID_PARAMETER",
                   absl::StrCat("volume ", name, ": host.path must be an absolute path"));
  }
  const std::string given = path->get<std::string>() + (sub.empty() ? "" : "/" + sub);
  if (given.find('\0') != std::string::npos) {
    return Invalid("VOLUME::INVALID_PARAMETER", absl::StrCat("volume ", name, ": NUL in path"));
  }
  char resolved[PATH_MAX];
  if (::realpath(given.c_str(), resolved) == nullptr) {
    return rest::MakeError(absl::StatusCode::kNotFound, "VOLUME::HOST_PATH_NOT_FOUND",
                           absl::StrCat("volume ", name, ": host path ", given, " does not exist"));
  }
  for (const std::string& allowed : options.allowed_host_paths) {
    if (Within(resolved, allowed)) return std::string(resolved);
  }
  return rest::MakeError(
      absl::StatusCode::kInvalidArgument, "VOLUME::HOST_PATH_NOT_ALLOWED",
      absl::StrCat("volume ", name, ": host path ", given,
                   options.allowed_host_paths.empty()
                       ? " is not allowed: this osb-runtime allows no host paths (see "
                         "[storage] allowed_host_paths in its --config)"
                       : absl::StrCat(" is not under an allowed host path (",
                                      absl::StrJoin(options.allowed_host_paths, ", "), ")")));
}

// mkdir -p below `base` (which exists), each new directory owned by the sandbox's root.
absl::Status MakeOwnedDirs(const std::string& base, const std::string& sub,
                           const VolumeOptions& options) {
  std::string path = base;
  for (absl::string_view part : absl::StrSplit(sub, '/', absl::SkipEmpty())) {
    absl::StrAppend(&path, "/", part);
    if (::mkdir(path.c_str(), 0755) == 0) {
      if (::chown(path.c_str(), options.owner_uid, options.owner_gid) != 0) {
        return ErrnoStatus("chown " + path, errno);
      }
    } else if (errno != EEXIST) {
      return ErrnoStatus("mkdir " + path, errno);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PvcSource(const std::string& name, const nlohmann::json& pvc,
                                      const std::string& sub, const VolumeOptions& options,
                                      VolumePlan* plan) {
  auto claim = pvc.is_object() ? pvc.find("claimName") : pvc.end();
  if (!pvc.is_object() || claim == pvc.end() || !claim->is_string() ||
      !IsDnsLabel(claim->get<std::string>(), 253, /*allow_dots=*/true)) {
    return Invalid("VOLUME::INVALID_NAME",
                   absl::StrCat("volume ", name,
                                ": pvc.claimName must be lowercase letters, digits, '-', '.' or "
                                "'_', starting and ending with a letter or digit"));
  }
  auto create = Flag(name, pvc, "createIfNotExists", true);
  if (!create.ok()) return create.status();
  auto remove = Flag(name, pvc, "deleteOnSandboxTermination", false);
  if (!remove.ok()) return remove.status();
  const std::string dir = options.pvc_root + "/" + claim->get<std::string>();
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (!*create) {
      return rest::MakeError(absl::StatusCode::kNotFound, "VOLUME::PVC_NOT_FOUND",
                             absl::StrCat("volume ", name, ": pvc ", claim->get<std::string>(),
                                          " does not exist and createIfNotExists is false"));
    }
  }
  plan->to_create.push_back(claim->get<std::string>() + (sub.empty() ? "" : "/" + sub));
  if (*remove) plan->delete_on_kill.push_back(dir);
  return sub.empty() ? dir : dir + "/" + sub;
}

}  // namespace

absl::StatusOr<VolumePlan> PlanVolumes(const nlohmann::json& volumes,
                                       const VolumeOptions& options) {
  VolumePlan plan;
  if (volumes.is_null()) return plan;
  if (!volumes.is_array()) {
    return Invalid("VOLUME::INVALID_PARAMETER", "volumes must be an array");
  }
  std::set<std::string> names, targets;
  for (const nlohmann::json& v : volumes) {
    if (!v.is_object()) return Invalid("VOLUME::INVALID_PARAMETER", "each volume is an object");
    auto name_it = v.find("name");
    if (name_it == v.end() || !name_it->is_string() ||
        !IsDnsLabel(name_it->get<std::string>(), 63, /*allow_dots=*/false)) {
      return Invalid("VOLUME::INVALID_NAME",
                     "a volume's name must be a DNS label: up to 63 lowercase letters, digits "
                     "and '-', starting and ending with a letter or digit");
    }
    const std::string name = name_it->get<std::string>();
    if (!names.insert(name).second) {
      return Invalid("VOLUME::INVALID_NAME", absl::StrCat("two volumes are named ", name));
    }
    auto target = Target(name, v);
    if (!target.ok()) return target.status();
    if (!targets.insert(*target).second) {
      return Invalid("VOLUME::INVALID_MOUNT_PATH",
                     absl::StrCat("volume ", name, ": another volume is mounted at ", *target));
    }
    auto read_only = Flag(name, v, "readOnly", false);
    if (!read_only.ok()) return read_only.status();
    auto sub = SubPath(name, v);
    if (!sub.ok()) return sub.status();
    int backends = 0;
    for (const char* key : {"host", "pvc", "ossfs"}) {
      if (v.contains(key) && !v[key].is_null()) ++backends;
    }
    if (backends != 1) {
      return Invalid("VOLUME::INVALID_BACKEND",
                     absl::StrCat("volume ", name, " needs exactly one of host, pvc or ossfs"));
    }
    absl::StatusOr<std::string> source;
    if (v.contains("host") && !v["host"].is_null()) {
      source = HostSource(name, v["host"], *sub, options);
    } else if (v.contains("pvc") && !v["pvc"].is_null()) {
      source = PvcSource(name, v["pvc"], *sub, options, &plan);
    } else {
      return rest::MakeError(absl::StatusCode::kUnimplemented, "SANDBOX::API_NOT_SUPPORTED",
                             absl::StrCat("volume ", name,
                                          ": ossfs volumes are not supported by osb-runtime"));
    }
    if (!source.ok()) return source.status();
    plan.mounts.push_back(VolumeMount{*source, *target, *read_only});
  }
  return plan;
}

absl::Status PrepareVolumes(const VolumePlan& plan, const VolumeOptions& options) {
  for (const std::string& dir : plan.to_create) {
    if (auto s = MakeOwnedDirs(options.pvc_root, dir, options); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace osb::runtime
