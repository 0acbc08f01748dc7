// The values of the files API: metadata of entries, what to write, permissions, moves and
// replacements. Modes are permission bits as numbers (0644).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace opensandbox {

enum class FileType { kUnknown, kFile, kDirectory, kSymlink, kOther };

// Metadata of one entry, from lstat inside the sandbox (symlinks are not followed).
struct FileInfo {
  std::string path;
  FileType type = FileType::kUnknown;
  std::int64_t size = 0;
  absl::Time modified_at = absl::InfinitePast();
  absl::Time created_at = absl::InfinitePast();
  std::string owner;
  std::string group;
  std::uint32_t mode = 0;
};

// Mode and ownership to apply; an empty owner or group, or mode 0, leaves it as it is.
struct FilePermission {
  std::uint32_t mode = 0;
  std::string owner;
  std::string group;
};

// A file for Files::WriteFiles (the official SDKs' WriteEntry).
struct WriteEntry {
  std::string path;
  std::string data;
  FilePermission permission;
};

// Which part of a file Files::ReadFile returns.
struct ReadRange {
  std::int64_t offset = 0;
  // 0: to the end.
  std::int64_t length = 0;
};

// One replacement of Files::ReplaceContents: every occurrence of `old_content` by
// `new_content`.
struct ContentReplacement {
  std::string path;
  std::string old_content;
  std::string new_content;
};

}  // namespace opensandbox
