// The filesystem operations behind execd's /files and /directories routes (COMPAT.md §2.6), on
// plain paths. osb-agent runs them inside its sandbox's root, so every path resolves there: `..`
// cannot climb above the sandbox's own `/`.
//
// Errors carry execd's codes (rest::ErrorCodeOf): FILE_NOT_FOUND (NotFound) for a missing path,
// INVALID_REQUEST_BODY (InvalidArgument) for a request that cannot be done as asked; OS failures
// keep the absl code of their errno and become RUNTIME_ERROR at the HTTP boundary.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rest/execd_files.h"
#include "rest/sys/unique_fd.h"

namespace osb::agent {

// A path from a request: InvalidArgument when empty or containing NUL; relative paths are taken
// from `/`, as execd (whose working directory is `/`) does.
absl::StatusOr<std::string> RequestPath(std::string_view raw);

// lstat of `path` as a FileInfo (symlinks are reported, not followed).
absl::StatusOr<rest::FileInfo> StatPath(const std::string& path);

// The entries under directory `path` down to `depth` levels (1 = its children), each directory
// in lexical order with its children right after it; symlinks are listed, never followed.
// InvalidArgument when `path` is not a directory (a symlink to one included) or depth < 0.
absl::StatusOr<std::vector<rest::FileInfo>> ListDirectory(const std::string& path, int depth);

// Every non-directory below `root` (recursively, symlinks not followed) whose base name matches
// the glob `pattern` ("" and "**" match everything).
absl::StatusOr<std::vector<rest::FileInfo>> SearchFiles(const std::string& root,
                                                        const std::string& pattern);

// chown to the owner and group (names or numeric ids; InvalidArgument for an unknown name), then
// chmod when p.mode != 0.
absl::Status ApplyPermission(const std::string& path, const rest::Permission& p);

// mkdir -p (new directories 0755), then ApplyPermission on `path`.
absl::Status MakeDirectories(const std::string& path, const rest::Permission& p);

// Removes a file or symlink; a missing path is not an error; a directory is (FailedPrecondition).
absl::Status DeleteFile(const std::string& path);

// rm -rf; a missing path is not an error; InvalidArgument for `/`.
absl::Status DeleteDirectory(const std::string& path);

// Moves `src` to `dest`, creating dest's parent directories. NotFound when src is missing,
// InvalidArgument when dest exists. Across filesystems a regular file is copied (mode kept)
// and the source removed; anything else is refused.
absl::Status MovePath(const std::string& src, const std::string& dest);

// Replaces every occurrence of r.old_text with r.new_text, keeping the file's mode and owner;
// the file is rewritten atomically. Returns how many were replaced.
absl::StatusOr<int64_t> ReplaceInFile(const std::string& path, const rest::Replacement& r);

// Writes one uploaded file as its bytes arrive: into a hidden temporary file beside the target,
// which Commit renames over the target and gives the metadata's mode and owner. A writer
// destroyed without Commit removes its temporary file, so a failed upload leaves nothing behind.
class FileWriter {
 public:
  // Creates the target's parent directories and the temporary file.
  static absl::StatusOr<FileWriter> Create(const rest::FileMetadata& metadata);
  FileWriter(FileWriter&&) = default;
  FileWriter& operator=(FileWriter&&) = default;
  ~FileWriter();

  // Bytes are gathered in memory up to kWriteBatch before they are written.
  static constexpr std::size_t kWriteBatch = 256 * 1024;
  absl::Status Append(std::string_view bytes);
  absl::Status Commit();

 private:
  FileWriter() = default;
  absl::Status Flush();

  rest::FileMetadata metadata_;
  std::string temp_path_;
  UniqueFd fd_;
  std::string pending_;
};

// An inclusive byte range of a download.
struct ByteRange {
  int64_t first = 0;
  int64_t last = 0;
};

// The first range of a `Range` header for a file of `size` bytes: nullopt when the header is
// empty or the range starts at or past the end (the whole file is sent, as execd does);
// InvalidArgument when it cannot be parsed (answered 416).
absl::StatusOr<std::optional<ByteRange>> ParseByteRange(std::string_view header, int64_t size);

// The bytes of lines first_line .. first_line + max_lines - 1 (1-based; max_lines < 0: to the end)
// of the open file `fd` of `size` bytes, each with its line break; nullopt when the file has fewer
// lines than first_line (nothing to send). The last line may lack a break. Read in blocks, never
// the whole file at once.
absl::StatusOr<std::optional<ByteRange>> FindLines(int fd, int64_t size, int64_t first_line,
                                                   int64_t max_lines);

}  // namespace osb::agent
