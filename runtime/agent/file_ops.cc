#include "runtime/agent/file_ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "rest/error.h"
#include "rest/ids.h"
#include "rest/string_views.h"
#include "rest/sys/file_util.h"

namespace osb::agent {
namespace {

absl::Status NotFound(const std::string& path) {
  return rest::MakeError(absl::StatusCode::kNotFound, rest::kFileNotFound,
                         absl::StrCat("no such file or directory: ", path));
}

absl::Status BadRequest(std::string_view message) {
  return rest::MakeError(absl::StatusCode::kInvalidArgument, rest::kInvalidRequestBody, message);
}

// ErrnoStatus, with ENOENT as FILE_NOT_FOUND.
absl::Status PathError(std::string_view what, const std::string& path, int err) {
  if (err == ENOENT) return NotFound(path);
  return ErrnoStatus(absl::StrCat(rest::AbslView(what), " ", path), err);
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (!dir.empty() && dir.back() == '/') return dir + name;
  return absl::StrCat(dir, "/", name);
}

std::string ParentOf(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string UserName(uid_t uid) {
  passwd pw{}, *found = nullptr;
  char buf[4096];
  if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr) {
    return pw.pw_name;
  }
  return absl::StrCat(uid);
}

std::string GroupName(gid_t gid) {
  group gr{}, *found = nullptr;
  char buf[4096];
  if (::getgrgid_r(gid, &gr, buf, sizeof buf, &found) == 0 && found != nullptr) {
    return gr.gr_name;
  }
  return absl::StrCat(gid);
}

absl::StatusOr<uid_t> LookUpUser(const std::string& name) {
  uint32_t id;
  if (absl::SimpleAtoi(name, &id)) return id;
  passwd pw{}, *found = nullptr;
  char buf[4096];
  if (::getpwnam_r(name.c_str(), &pw, buf, sizeof buf, &found) != 0 || found == nullptr) {
    return BadRequest(absl::StrCat("unknown user '", name, "'"));
  }
  return pw.pw_uid;
}

absl::StatusOr<gid_t> LookUpGroup(const std::string& name) {
  uint32_t id;
  if (absl::SimpleAtoi(name, &id)) return id;
  group gr{}, *found = nullptr;
  char buf[4096];
  if (::getgrnam_r(name.c_str(), &gr, buf, sizeof buf, &found) != 0 || found == nullptr) {
    return BadRequest(absl::StrCat("unknown group '", name, "'"));
  }
  return gr.gr_gid;
}

rest::FileInfo InfoFromStat(const std::string& path, const struct statx& st) {
  rest::FileInfo f;
  f.path = path;
  switch (st.stx_mode & S_IFMT) {
    case S_IFREG:
      f.type = "file";
      break;
    case S_IFDIR:
      f.type = "directory";
      break;
    case S_IFLNK:
      f.type = "symlink";
      break;
    default:
      f.type = "other";
  }
  f.size = static_cast<int64_t>(st.stx_size);
  auto to_time = [](const statx_timestamp& t) {
    return absl::FromUnixSeconds(t.tv_sec) + absl::Nanoseconds(t.tv_nsec);
  };
  f.modified_at = to_time(st.stx_mtime);
  // Not every filesystem records a birth time; the change time stands in, as Go's os.Stat does.
  f.created_at = (st.stx_mask & STATX_BTIME) != 0 ? to_time(st.stx_btime) : to_time(st.stx_ctime);
  f.owner = UserName(st.stx_uid);
  f.group = GroupName(st.stx_gid);
  f.mode = st.stx_mode & 07777;
  return f;
}

absl::StatusOr<struct statx> LstatX(const std::string& path) {
  struct statx st {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &st) !=
      0) {
    return PathError("stat", path, errno);
  }
  return st;
}

// The names in directory `path`, sorted.
absl::StatusOr<std::vector<std::string>> ReadNames(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return PathError("open directory", path, errno);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(dir)) {
    std::string_view name(e->d_name);
    if (name != "." && name != "..") names.emplace_back(name);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return PathError("read directory", path, err);
  std::sort(names.begin(), names.end());
  return names;
}

// Walks the tree below `root` depth-first in lexical order, parents before their children,
// calling `visit` for each entry down to `max_depth` levels (a negative depth: no limit).
// Entries that vanish during the walk are skipped.
template <typename Visit>
absl::Status Walk(const std::string& root, int max_depth, Visit visit) {
  struct Pending {
    std::string path;
    int level;
  };
  std::vector<Pending> stack;
  auto push_children = [&](const std::string& dir, int level) -> absl::Status {
    auto names = ReadNames(dir);
    if (!names.ok()) return names.status();
    for (auto it = names->rbegin(); it != names->rend(); ++it) {
      stack.push_back({JoinPath(dir, *it), level});
    }
    return absl::OkStatus();
  };
  if (max_depth == 0) return absl::OkStatus();
  if (auto s = push_children(root, 1); !s.ok()) return s;
  while (!stack.empty()) {
    Pending next = std::move(stack.back());
    stack.pop_back();
    auto st = LstatX(next.path);
    if (!st.ok()) {
      if (absl::IsNotFound(st.status())) continue;
      return st.status();
    }
    visit(InfoFromStat(next.path, *st));
    if (S_ISDIR(st->stx_mode) && (max_depth < 0 || next.level < max_depth)) {
      auto s = push_children(next.path, next.level + 1);
      if (!s.ok() && !absl::IsNotFound(s)) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status RequireDirectory(const std::string& path) {
  auto st = LstatX(path);
  if (!st.ok()) return st.status();
  if (!S_ISDIR(st->stx_mode)) return BadRequest(absl::StrCat(path, " is not a directory"));
  return absl::OkStatus();
}

// A new hidden file beside `target`, for writing a replacement of it.
absl::StatusOr<std::pair<std::string, UniqueFd>> CreateTempBeside(const std::string& target,
                                                                  mode_t mode) {
  std::string dir = ParentOf(target);
  std::string base = target.substr(target.find_last_of('/') + 1);
  std::string temp =
      JoinPath(dir, absl::StrCat(".", base, ".osb-", rest::NewHexId().substr(0, 12)));
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return PathError("create", temp, errno);
  return std::make_pair(std::move(temp), std::move(fd));
}

absl::Status CopyFileContents(const std::string& src, const std::string& dest,
                              const struct statx& src_st) {
  const mode_t mode = src_st.stx_mode & 07777;
  UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return PathError("open", src, errno);
  auto temp = CreateTempBeside(dest, mode);
  if (!temp.ok()) return temp.status();
  auto& [temp_path, out] = *temp;
  std::string buf(256 * 1024, '\0');
  absl::Status status;
  while (status.ok()) {
    ssize_t n = ::read(in.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = ErrnoStatus(absl::StrCat("read ", src), errno);
    if (n <= 0) break;
    status = WriteAll(out.get(), std::string_view(buf.data(), static_cast<std::size_t>(n)), dest);
  }
  if (status.ok() && (::fchown(out.get(), src_st.stx_uid, src_st.stx_gid) != 0 ||
                      ::fchmod(out.get(), mode) != 0)) {
    status = ErrnoStatus(absl::StrCat("keep the owner and mode of ", src), errno);
  }
  if (status.ok() && ::rename(temp_path.c_str(), dest.c_str()) != 0) {
    status = ErrnoStatus(absl::StrCat("rename to ", dest), errno);
  }
  if (!status.ok()) ::unlink(temp_path.c_str());
  return status;
}

}  // namespace

absl::StatusOr<std::string> RequestPath(std::string_view raw) {
  if (raw.empty()) return BadRequest("a path must not be empty");
  if (raw.find('\0') != std::string_view::npos) return BadRequest("a path must not contain NUL");
  if (raw.front() != '/') return absl::StrCat("/", rest::AbslView(raw));
  return std::string(raw);
}

absl::StatusOr<rest::FileInfo> StatPath(const std::string& path) {
  auto st = LstatX(path);
  if (!st.ok()) return st.status();
  return InfoFromStat(path, *st);
}

absl::StatusOr<std::vector<rest::FileInfo>> ListDirectory(const std::string& path, int depth) {
  if (depth < 0) return BadRequest("depth must not be negative");
  if (auto s = RequireDirectory(path); !s.ok()) return s;
  std::vector<rest::FileInfo> out;
  auto s = Walk(path, depth, [&](rest::FileInfo f) { out.push_back(std::move(f)); });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<rest::FileInfo>> SearchFiles(const std::string& root,
                                                        const std::string& pattern) {
  if (auto s = RequireDirectory(root); !s.ok()) return s;
  const bool everything = pattern.empty() || pattern == "**";
  std::vector<rest::FileInfo> out;
  auto s = Walk(root, -1, [&](rest::FileInfo f) {
    if (f.type == "directory") return;
    std::string base = f.path.substr(f.path.find_last_of('/') + 1);
    if (everything || ::fnmatch(pattern.c_str(), base.c_str(), FNM_PERIOD) == 0) {
      out.push_back(std::move(f));
    }
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status ApplyPermission(const std::string& path, const rest::Permission& p) {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (p.owner.has_value() && !p.owner->empty()) {
    auto u = LookUpUser(*p.owner);
    if (!u.ok()) return u.status();
    uid = *u;
  }
  if (p.group.has_value() && !p.group->empty()) {
    auto g = LookUpGroup(*p.group);
    if (!g.ok()) return g.status();
    gid = *g;
  }
  if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) &&
      ::chown(path.c_str(), uid, gid) != 0) {
    return PathError("chown", path, errno);
  }
  if (p.mode != 0 && ::chmod(path.c_str(), p.mode) != 0) return PathError("chmod", path, errno);
  return absl::OkStatus();
}

absl::Status MakeDirectories(const std::string& path, const rest::Permission& p) {
  if (auto s = MakeDirs(path, 0755); !s.ok()) {
    if (absl::IsAlreadyExists(s))
      return BadRequest(absl::StrCat(path, " exists and is not a directory"));
    return s;
  }
  return ApplyPermission(path, p);
}

absl::Status DeleteFile(const std::string& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return absl::OkStatus();
  if (errno == EISDIR) {
    return rest::MakeError(absl::StatusCode::kFailedPrecondition, rest::kRuntimeError,
                           absl::StrCat(path, " is a directory; delete it as a directory"));
  }
  return PathError("delete", path, errno);
}

absl::Status DeleteDirectory(const std::string& path) {
  if (path.find_first_not_of('/') == std::string::npos) {
    return BadRequest("refusing to delete the sandbox's root directory");
  }
  return RemoveTree(path);
}

absl::Status MovePath(const std::string& src, const std::string& dest) {
  auto src_st = LstatX(src);
  if (!src_st.ok()) return src_st.status();
  if (::access(dest.c_str(), F_OK) == 0 || errno != ENOENT) {
    return BadRequest(absl::StrCat("destination ", dest, " already exists"));
  }
  if (auto s = MakeDirs(ParentOf(dest), 0755); !s.ok()) return s;
  if (::renameat2(AT_FDCWD, src.c_str(), AT_FDCWD, dest.c_str(), RENAME_NOREPLACE) == 0) {
    return absl::OkStatus();
  }
  if (errno == EEXIST) return BadRequest(absl::StrCat("destination ", dest, " already exists"));
  if (errno != EXDEV) return PathError("move", src, errno);
  if (!S_ISREG(src_st->stx_mode)) {
    return BadRequest(absl::StrCat("cannot move ", src, " to another filesystem: only regular ",
                                   "files are copied across filesystems"));
  }
  if (auto s = CopyFileContents(src, dest, *src_st); !s.ok()) return s;
  if (::unlink(src.c_str()) != 0) return PathError("remove", src, errno);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ReplaceInFile(const std::string& path, const rest::Replacement& r) {
  auto st = LstatX(path);
  if (!st.ok()) return st.status();
  if (!S_ISREG(st->stx_mode)) return BadRequest(absl::StrCat(path, " is not a regular file"));
  auto contents = ReadFile(path);
  if (!contents.ok()) return contents.status();
  std::string out;
  int64_t count = 0;
  std::size_t from = 0;
  for (std::size_t at; (at = contents->find(r.old_text, from)) != std::string::npos;
       from = at + r.old_text.size()) {
    out.append(*contents, from, at - from);
    out += r.new_text;
    ++count;
  }
  if (count == 0) return 0;
  out.append(*contents, from);
  auto temp = CreateTempBeside(path, st->stx_mode & 07777);
  if (!temp.ok()) return temp.status();
  auto& [temp_path, fd] = *temp;
  absl::Status status = WriteAll(fd.get(), out, path);
  if (status.ok() && (::fchown(fd.get(), st->stx_uid, st->stx_gid) != 0 ||
                      ::fchmod(fd.get(), st->stx_mode & 07777) != 0)) {
    status = ErrnoStatus(absl::StrCat("keep the owner and mode of ", path), errno);
  }
  if (status.ok() && ::rename(temp_path.c_str(), path.c_str()) != 0) {
    status = PathError("replace", path, errno);
  }
  if (!status.ok()) {
    ::unlink(temp_path.c_str());
    return status;
  }
  return count;
}

absl::StatusOr<FileWriter> FileWriter::Create(const rest::FileMetadata& metadata) {
  auto path = RequestPath(metadata.path);
  if (!path.ok()) return path.status();
  auto st = LstatX(*path);
  if (st.ok() && S_ISDIR(st->stx_mode)) {
    return BadRequest(absl::StrCat(*path, " is a directory"));
  }
  if (auto s = MakeDirs(ParentOf(*path), 0755); !s.ok()) {
    if (absl::IsAlreadyExists(s)) {
      return BadRequest(absl::StrCat("a parent of ", *path, " is not a directory"));
    }
    return s;
  }
  auto temp = CreateTempBeside(*path, 0644);
  if (!temp.ok()) return temp.status();
  FileWriter w;
  w.metadata_ = metadata;
  w.metadata_.path = *path;
  w.temp_path_ = std::move(temp->first);
  w.fd_ = std::move(temp->second);
  return w;
}

FileWriter::~FileWriter() {
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

absl::Status FileWriter::Append(std::string_view bytes) {
  // Uploads arrive a few KiB at a time: they reach the disk in writes of kWriteBatch bytes.
  if (pending_.size() + bytes.size() < kWriteBatch) {
    pending_.append(bytes);
    return absl::OkStatus();
  }
  if (auto s = Flush(); !s.ok()) return s;
  if (bytes.size() >= kWriteBatch) return WriteAll(fd_.get(), bytes, metadata_.path);
  pending_.append(bytes);
  return absl::OkStatus();
}

absl::Status FileWriter::Flush() {
  absl::Status s = WriteAll(fd_.get(), pending_, metadata_.path);
  pending_.clear();
  return s;
}

absl::Status FileWriter::Commit() {
  if (auto s = Flush(); !s.ok()) return s;
  rest::Permission p{metadata_.owner, metadata_.group, metadata_.mode.value_or(0)};
  if (auto s = ApplyPermission(temp_path_, p); !s.ok()) return s;
  fd_.Reset();
  if (::rename(temp_path_.c_str(), metadata_.path.c_str()) != 0) {
    return PathError("write", metadata_.path, errno);
  }
  temp_path_.clear();
  return absl::OkStatus();
}

absl::StatusOr<std::optional<ByteRange>> ParseByteRange(std::string_view header, int64_t size) {
  if (header.empty()) return std::nullopt;
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid Range header '", rest::AbslView(header), "'"));
  };
  constexpr std::string_view kUnit = "bytes=";
  if (header.substr(0, kUnit.size()) != kUnit) return invalid();
  std::string_view spec = header.substr(kUnit.size());
  spec = spec.substr(0, spec.find(','));  // only the first range is honoured
  std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return invalid();
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  int64_t first = 0, last = size - 1;
  if (a.empty()) {  // suffix: the last n bytes
    int64_t n;
    if (!absl::SimpleAtoi(rest::AbslView(b), &n) || n <= 0) return invalid();
    first = std::max<int64_t>(0, size - n);
  } else {
    if (!absl::SimpleAtoi(rest::AbslView(a), &first) || first < 0) return invalid();
    if (!b.empty()) {
      if (!absl::SimpleAtoi(rest::AbslView(b), &last) || last < first) return invalid();
      last = std::min(last, size - 1);
    }
  }
  if (first >= size) return std::nullopt;
  return ByteRange{first, last};
}

absl::StatusOr<std::optional<ByteRange>> FindLines(int fd, int64_t size, int64_t first_line,
                                                   int64_t max_lines) {
  // Line n starts after the (n-1)th break; the span ends after the break that closes its last
  // line, or at the end of the file.
  const int64_t breaks_before_start = first_line - 1;
  const int64_t breaks_at_end = max_lines < 0 ? -1 : breaks_before_start + max_lines;
  int64_t breaks = 0, start = breaks_before_start == 0 ? 0 : -1, end = size;
  bool end_found = false;
  auto done = [&] { return start >= 0 && (breaks_at_end < 0 || end_found); };
  std::string block(256 * 1024, '\0');
  for (int64_t at = 0; at < size && !done();) {
    ssize_t n;
    do {
      n = ::pread(fd, block.data(), block.size(), static_cast<off_t>(at));
    } while (n < 0 && errno == EINTR);
    if (n < 0) return ErrnoStatus("read", errno);
    if (n == 0) break;  // the file shrank
    const char* data = block.data();
    const char* limit = data + n;
    for (const char* p = data; !done() && (p = static_cast<const char*>(std::memchr(
                                               p, '\n', static_cast<std::size_t>(limit - p))));
         ++p) {
      ++breaks;
      const int64_t after = at + (p - data) + 1;
      if (breaks == breaks_before_start) start = after;
      if (breaks == breaks_at_end) {
        end = after;
        end_found = true;
      }
    }
    at += n;
  }
  if (start < 0 || start >= end) return std::nullopt;
  return ByteRange{start, end - 1};
}

}  // namespace osb::agent

