// The execd file, directory and command-status bodies (COMPAT.md §2.2, §2.6) as C++ types with
// their JSON mapping, shared by osbd (client side) and osb-agent (server side).
//
// Modes travel as integers whose decimal digits are the octal permission bits (755 means
// rwxr-xr-x); in C++ they are held as the real bits (0755).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace rest {

// 755 → 0755. InvalidArgument for negative numbers, a digit 8 or 9, or more than 4 digits.
absl::StatusOr<uint32_t> ModeFromOctalDigits(int64_t digits);
// 0755 → 755 (permission bits, setuid/setgid/sticky included, file type bits dropped).
int64_t OctalDigitsFromMode(uint32_t mode);

// One entry of /files/info, /files/search and /directories/list.
struct FileInfo {
  std::string path;  // absolute
  std::string type;  // "file" | "directory" | "symlink" | "other"
  int64_t size = 0;
  absl::Time modified_at;
  absl::Time created_at;
  std::string owner;  // user name, or the numeric id when it has none
  std::string group;
  uint32_t mode = 0;  // permission bits
};
nlohmann::json ToJson(const FileInfo& f);
absl::StatusOr<FileInfo> ParseFileInfo(const nlohmann::json& j);

// chmod/chown request for one path (bodies of POST /files/permissions and POST /directories).
struct Permission {
  std::optional<std::string> owner;
  std::optional<std::string> group;
  uint32_t mode = 0;  // 0: leave the mode alone
};
nlohmann::json ToJson(const Permission& p);
// `{"<path>": Permission, ...}` in the order given. InvalidArgument naming the path for a body
// that is not an object, a member that is not an object, or a bad mode.
absl::StatusOr<std::vector<std::pair<std::string, Permission>>> ParsePermissionMap(
    const nlohmann::json& j);

// The `metadata` part of an upload.
struct FileMetadata {
  std::string path;  // required, non-empty
  std::optional<std::string> owner;
  std::optional<std::string> group;
  std::optional<uint32_t> mode;  // absent or 0: leave the mode of a new file at 0644
};
nlohmann::json ToJson(const FileMetadata& m);
absl::StatusOr<FileMetadata> ParseFileMetadata(const nlohmann::json& j);

// Body of POST /files/mv: `[{"src","dest"}, ...]`.
struct FileMove {
  std::string src;
  std::string dest;
};
absl::StatusOr<std::vector<FileMove>> ParseMoveRequest(const nlohmann::json& j);
nlohmann::json ToJson(const std::vector<FileMove>& moves);

// Body of POST /files/replace: `{"<path>": {"old","new"}, ...}`; `old` must not be empty.
struct Replacement {
  std::string old_text;
  std::string new_text;
};
absl::StatusOr<std::vector<std::pair<std::string, Replacement>>> ParseReplaceRequest(
    const nlohmann::json& j);

// GET /command/status/{id}.
struct CommandStatus {
  std::string id;
  std::string content;  // the command as submitted
  bool running = false;
  std::optional<int> exit_code;  // absent while running
  std::string error;             // "exit status 1", "signal: killed", or empty
  absl::Time started_at;
  std::optional<absl::Time> finished_at;  // absent while running
};
nlohmann::json ToJson(const CommandStatus& s);
absl::StatusOr<CommandStatus> ParseCommandStatus(const nlohmann::json& j);

}  // namespace rest
