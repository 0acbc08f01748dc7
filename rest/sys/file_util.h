// Small filesystem helpers shared by osb-runtime and osb-agent. All return absl::Status with the
// path and the OS error in the message.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace osb {

// An absl::Status for the current errno: "<what>: <strerror>", code mapped from errno.
absl::Status ErrnoStatus(std::string_view what, int err);

// mkdir -p with `mode` for the directories it creates.
absl::Status MakeDirs(const std::string& path, mode_t mode);

// Whether a write must survive a power loss (fsync before the rename) or only a crash of the
// writing process, which loses nothing the kernel already has.
enum class Durability { kPowerLoss, kProcessCrash };

// Writes `contents` to `path` through a temporary file in the same directory and a rename, so
// readers see the old file or the new one, never a part. One writer per path at a time. With
// kProcessCrash an existing `path` (a regular file) is exchanged with the temporary file, which
// is then removed: a crash in between leaves the old contents under the temporary name.
absl::Status WriteFileAtomic(const std::string& path, std::string_view contents, mode_t mode,
                             Durability durability = Durability::kPowerLoss);

absl::StatusOr<std::string> ReadFile(const std::string& path);

// Everything `fd` gives until its end (a pipe: until every writer closed it). Errors name `what`.
absl::StatusOr<std::string> ReadToEnd(int fd, const std::string& what);

// Writes all of `bytes` to `fd`, after short writes and signals. Errors name `what`.
absl::Status WriteAll(int fd, std::string_view bytes, const std::string& what);

// rm -rf that does not follow symlinks and does not cross into other mounts' contents beyond
// what unlink/rmdir allow. A missing path is not an error.
absl::Status RemoveTree(const std::string& path);

}  // namespace osb
