#include "runtime/server/image_table.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "rest/sys/file_util.h"
#include "rest/sys/process.h"

namespace osb::runtime {
namespace {

// nftw takes a plain function: the shift of the walk in progress (one at a time, under its lock).
absl::Mutex shift_mu;
IdMapping shift_ids ABSL_GUARDED_BY(shift_mu);
int shift_errno ABSL_GUARDED_BY(shift_mu) = 0;

uint32_t Shift(uint32_t id, const IdMapping& ids, uint32_t base) {
  return id < ids.count ? base + id : base + (ids.count > 65534 ? 65534 : 0);
}

int ShiftOwner(const char* path, const struct stat* st, int, FTW*) {
  const IdMapping& ids = shift_ids;
  if (::lchown(path, Shift(st->st_uid, ids, ids.host_uid), Shift(st->st_gid, ids, ids.host_gid)) !=
      0) {
    shift_errno = errno;
    return 1;
  }
  // chown clears set-user-ID and set-group-ID: an image's setuid programs keep them.
  if (!S_ISLNK(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID)) != 0 &&
      ::chmod(path, st->st_mode & 07777) != 0) {
    shift_errno = errno;
    return 1;
  }
  return 0;
}

std::string Stamp(const std::string& source) {
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) return "";
  return absl::StrCat(source, "\n", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, "\n");
}

}  // namespace

std::string ImageTable::SourceOf(const std::string& uri) const {
  auto it = images_.find(uri);
  return it == images_.end() ? "" : it->second;
}

std::optional<absl::StatusOr<std::string>> ImageTable::Rootfs(const std::string& uri) {
  auto it = images_.find(uri);
  if (it == images_.end()) return std::nullopt;
  absl::Mutex* image_mu;
  {
    absl::MutexLock lock(&mu_);
    auto& m = preparing_[uri];
    if (m == nullptr) m = std::make_unique<absl::Mutex>();
    image_mu = m.get();
  }
  absl::MutexLock lock(image_mu);
  return Prepare(uri, it->second);
}

absl::StatusOr<std::string> ImageTable::Prepare(const std::string& uri, const std::string& source) {
  // A name safe as one path component, unique per image name.
  std::string key;
  for (char c : uri) key += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')
                                ? c
                                : '_';
  key += absl::StrFormat("-%08x", std::hash<std::string>()(uri) & 0xffffffff);
  const std::string stamp = Stamp(source);
  if (stamp.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("the rootfs of image ", uri, ", ", source,
                                                      ", is gone"));
  }
  // One directory per version of the source: an older one may still be the lower layer of
  // running sandboxes, and an overlay's lower layer must not change under it.
  const std::string dir = absl::StrFormat("%s/%s-%016x", cache_dir_, key,
                                          std::hash<std::string>()(stamp));
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return dir;

  const std::string tmp = absl::StrCat(dir, ".building.", ::getpid());
  (void)RemoveTree(tmp);
  if (::mkdir(tmp.c_str(), 0755) != 0) return ErrnoStatus("mkdir " + tmp, errno);
  ChildResult cp = RunToCompletion({"cp", "-a", "--reflink=auto", source + "/.", tmp});
  if (cp.exit_code != 0) {
    (void)RemoveTree(tmp);
    return absl::InternalError(absl::StrCat("copying the rootfs of image ", uri, " failed: ",
                                            absl::StripAsciiWhitespace(cp.err)));
  }
  {
    absl::MutexLock lock(&shift_mu);
    shift_ids = ids_;
    shift_errno = 0;
    if (::nftw(tmp.c_str(), ShiftOwner, 64, FTW_PHYS) != 0) {
      const int err = shift_errno != 0 ? shift_errno : errno;
      (void)RemoveTree(tmp);
      return ErrnoStatus(absl::StrCat("shifting the owners of image ", uri), err);
    }
  }
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    const int err = errno;
    (void)RemoveTree(tmp);
    return ErrnoStatus("rename " + tmp, err);
  }
  return dir;
}

}  // namespace osb::runtime
