// Files: the sandbox's filesystem, every path resolved inside the sandbox. Get it from
// Sandbox::files(). Large files stream in chunks both ways; nothing holds a whole file unless
// the call returns it as a string.
//
//   auto& files = sandbox.files();
//   files.WriteFile("/tmp/hello.py", "print('hi')\n", {.mode = 0755});
//   std::ifstream big("data.bin", std::ios::binary);
//   files.WriteFileFrom("/data/data.bin", big);
//   auto text = files.ReadFile("/tmp/hello.py");
#pragma once

#include <cstdint>
#include <future>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "opensandbox/file_types.h"

namespace opensandbox {
namespace internal {
class DaemonConnection;
}  // namespace internal

class Files {
 public:
  // The file's contents (or `range` of them). kNotFound when it does not exist.
  absl::StatusOr<std::string> ReadFile(const std::string& path, ReadRange range = {});
  std::future<absl::StatusOr<std::string>> ReadFileAsync(std::string path, ReadRange range = {});

  // Streams the file's contents (or `range` of them) into `out`. On failure `out` may hold a
  // prefix of the contents.
  absl::Status ReadFileTo(const std::string& path, std::ostream& out, ReadRange range = {});

  // Creates or replaces the file with `data`, then applies `permission`.
  absl::Status WriteFile(const std::string& path, std::string_view data,
                         const FilePermission& permission = {});
  // WriteFile on a thread of its own, with its own copy of `data`.
  std::future<absl::Status> WriteFileAsync(std::string path, std::string data,
                                           FilePermission permission = {});

  // Creates or replaces the file with everything `in` yields, streamed; returns the bytes
  // written. If reading `in` fails the call is abandoned: the file is not replaced by a part.
  absl::StatusOr<std::int64_t> WriteFileFrom(const std::string& path, std::istream& in,
                                             const FilePermission& permission = {});

  // Writes each entry in turn; stops at the first failure.
  absl::Status WriteFiles(const std::vector<WriteEntry>& entries);
  std::future<absl::Status> WriteFilesAsync(std::vector<WriteEntry> entries);

  // Metadata of each path, keyed by the path as given. kNotFound when one does not exist.
  absl::StatusOr<std::map<std::string, FileInfo>> GetInfo(const std::vector<std::string>& paths);
  std::future<absl::StatusOr<std::map<std::string, FileInfo>>> GetInfoAsync(
      std::vector<std::string> paths);

  // The entries under `path`, parents before children, `depth` levels deep (unset: 1).
  absl::StatusOr<std::vector<FileInfo>> ListDirectory(const std::string& path,
                                                      std::optional<std::uint32_t> depth = {});
  std::future<absl::StatusOr<std::vector<FileInfo>>> ListDirectoryAsync(
      std::string path, std::optional<std::uint32_t> depth = {});

  // Files (not directories) under `path`, recursively, whose base name matches the glob.
  absl::StatusOr<std::vector<FileInfo>> Search(const std::string& path,
                                               const std::string& pattern);
  std::future<absl::StatusOr<std::vector<FileInfo>>> SearchAsync(std::string path,
                                                                 std::string pattern);

  // `mkdir -p` of each path, then `permission` applied to each.
  absl::Status CreateDirectories(const std::vector<std::string>& paths,
                                 const FilePermission& permission = {});
  std::future<absl::Status> CreateDirectoriesAsync(std::vector<std::string> paths,
                                                   FilePermission permission = {});

  // Deletes files; missing ones are ignored.
  absl::Status DeleteFiles(const std::vector<std::string>& paths);
  std::future<absl::Status> DeleteFilesAsync(std::vector<std::string> paths);

  // Deletes directories with everything under them.
  absl::Status DeleteDirectories(const std::vector<std::string>& paths);
  std::future<absl::Status> DeleteDirectoriesAsync(std::vector<std::string> paths);

  // Renames, creating the destination's parents; kFailedPrecondition or kAlreadyExists when
  // the destination exists.
  absl::Status Move(const std::string& source, const std::string& destination);
  std::future<absl::Status> MoveAsync(std::string source, std::string destination);

  absl::Status SetPermissions(const std::string& path, const FilePermission& permission);
  std::future<absl::Status> SetPermissionsAsync(std::string path, FilePermission permission);

  // Replaces every occurrence in each file, keeping its mode; returns the number of
  // replacements made per path.
  absl::StatusOr<std::map<std::string, std::int64_t>> ReplaceContents(
      const std::vector<ContentReplacement>& replacements);
  std::future<absl::StatusOr<std::map<std::string, std::int64_t>>> ReplaceContentsAsync(
      std::vector<ContentReplacement> replacements);

 private:
  friend class Sandbox;
  Files(std::shared_ptr<internal::DaemonConnection> daemon, std::string sandbox_id);

  std::shared_ptr<internal::DaemonConnection> daemon_;
  std::string sandbox_id_;
};

}  // namespace opensandbox
