#include "rest/sys/file_util.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rest/string_views.h"
#include "rest/sys/unique_fd.h"

namespace osb {

absl::Status ErrnoStatus(std::string_view what, int err) {
  std::string message = absl::StrCat(rest::AbslView(what), ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    case EINVAL:
    case ENOTDIR:
    case EISDIR:
    case ENAMETOOLONG:
      return absl::InvalidArgumentError(message);
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::ResourceExhaustedError(message);
    default:
      return absl::InternalError(message);
  }
}

absl::Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return absl::InvalidArgumentError("empty directory path");
  for (std::size_t pos = 1;; ++pos) {
    pos = path.find('/', pos);
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoStatus(absl::StrCat("mkdir ", prefix), errno);
    }
    if (pos == std::string::npos) break;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(absl::StrCat("stat ", path), errno);
  if (!S_ISDIR(st.st_mode)) return absl::FailedPreconditionError(absl::StrCat(path, " is not a directory"));
  return absl::OkStatus();
}

absl::Status WriteFileAtomic(const std::string& path, std::string_view contents, mode_t mode,
                             Durability durability) {
  std::string tmp = absl::StrCat(path, ".tmp.", ::getpid());
  // O_NOFOLLOW: a symlink planted under the temporary name (in a directory a sandbox writes) is
  // an error, never a way to write elsewhere.
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) return ErrnoStatus(absl::StrCat("create ", tmp), errno);
  if (::fchmod(fd.get(), mode) != 0) return ErrnoStatus(absl::StrCat("chmod ", tmp), errno);
  if (auto s = WriteAll(fd.get(), contents, tmp); !s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  if (durability == Durability::kProcessCrash &&
      ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) == 0) {
    // The old file now has the temporary name. A rename over it would have had ext4
    // (auto_da_alloc) start writing the new file's data out first: ~0.4 ms, and many ms when the
    // disk is busy, for a write that need not survive a power loss. An exchange does not.
    ::unlink(tmp.c_str());
    return absl::OkStatus();
  }
  // kPowerLoss, or nothing yet to exchange with (ENOENT), or a filesystem without exchanges.
  if ((durability == Durability::kPowerLoss && ::fsync(fd.get()) != 0) ||
      ::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(absl::StrCat("write ", path), err);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(absl::StrCat("open ", path), errno);
  return ReadToEnd(fd.get(), path);
}

absl::Status WriteAll(int fd, std::string_view bytes, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(absl::StrCat("write ", what), errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadToEnd(int fd, const std::string& what) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(absl::StrCat("read ", what), errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

absl::Status RemoveTree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? absl::OkStatus() : ErrnoStatus(absl::StrCat("lstat ", path), errno);
  }
  int rc = ::nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int type, struct FTW*) {
        return (type == FTW_DP ? ::rmdir(p) : ::unlink(p)) == 0 || errno == ENOENT ? 0 : -1;
      },
      64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
  if (rc != 0) return ErrnoStatus(absl::StrCat("remove ", path), errno);
  return absl::OkStatus();
}

}  // namespace osb
