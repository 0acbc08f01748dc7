#include "daemon/peer_listener.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <type_traits>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "rest/sys/file_util.h"
#include "spdlog/spdlog.h"

namespace osb::daemon {

bool PeerAllowed(uid_t peer_uid, gid_t peer_gid, const std::vector<gid_t>& supplementary,
                 uid_t self, std::optional<gid_t> group) {
  if (peer_uid == 0 || peer_uid == self) return true;
  if (!group.has_value()) return false;
  return peer_gid == *group ||
         std::find(supplementary.begin(), supplementary.end(), *group) != supplementary.end();
}

namespace {

// uid_t and gid_t are the same unsigned type on Linux: one list serves for both.
static_assert(std::is_same_v<uid_t, gid_t>);

// The ids on the line `key` ("Uid:", "Gid:", "Groups:") of a /proc/<pid>/status text; empty when
// it has no such line.
std::vector<gid_t> StatusNumbers(const std::string& status, absl::string_view key) {
  std::vector<gid_t> numbers;
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (!absl::ConsumePrefix(&line, key)) continue;
    for (absl::string_view word :
         absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
      if (gid_t n = 0; absl::SimpleAtoi(word, &n)) numbers.push_back(n);
    }
    break;
  }
  return numbers;
}

}  // namespace

std::vector<gid_t> SupplementaryGroups(pid_t pid) {
  auto status = ReadFile(absl::StrCat("/proc/", pid, "/status"));
  if (!status.ok()) return {};
  return StatusNumbers(*status, "Groups:");
}

bool ProcessAllowed(pid_t pid, uid_t self, std::optional<gid_t> group) {
  auto status = ReadFile(absl::StrCat("/proc/", pid, "/status"));
  if (!status.ok()) return false;
  // Real, effective, saved and filesystem ids: SO_PEERCRED reports the effective ones.
  const std::vector<uid_t> uids = StatusNumbers(*status, "Uid:");
  const std::vector<gid_t> gids = StatusNumbers(*status, "Gid:");
  if (uids.size() < 2 || gids.size() < 2) return false;
  return PeerAllowed(uids[1], gids[1], StatusNumbers(*status, "Groups:"), self, group);
}

absl::Status SocketDirectoryIsSafe(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return ErrnoStatus("stat " + dir, errno);
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the socket directory ", dir, " belongs to uid ", st.st_uid,
                     ", not to osbd's user: that user could replace the socket"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (st.st_mode & S_ISVTX) == 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("the socket directory %s is writable by others (mode %04o): they could "
                        "replace the socket",
                        dir, st.st_mode & 07777));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PeerListener>> PeerListener::Bind(const std::string& path,
                                                                 std::optional<gid_t> group) {
  // The socket is made under a name of its own and renamed to `path` once it listens: a client
  // that sees the file can connect (between bind() and listen() it would be refused), and a
  // stale file at `path` is replaced without a moment where the path is missing.
  const std::string staging = absl::StrCat(path, ".", ::getpid());
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (staging.size() >= sizeof addr.sun_path) {
    return absl::InvalidArgumentError(absl::StrCat("socket path too long (at most ",
                                                   sizeof addr.sun_path - 9, " bytes): ", path));
  }
  std::memcpy(addr.sun_path, staging.c_str(), staging.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket", errno);
  ::unlink(staging.c_str());  // left by a process of the same pid that was killed here
  // bind() creates the file 0777 & ~umask: 0600 from the first moment a client can see it (a
  // chmod afterwards would leave a window). The group gets its access only after the chown.
  const mode_t old_umask = ::umask(0177);
  const int bound = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old_umask);
  if (bound != 0) return ErrnoStatus("bind " + staging, bind_errno);
  absl::Status failed;
  if (group.has_value() &&
      (::chown(staging.c_str(), static_cast<uid_t>(-1), *group) != 0 ||
       ::chmod(staging.c_str(), 0660) != 0)) {
    failed = ErrnoStatus(absl::StrCat("give ", staging, " to group ", *group), errno);
  } else if (::listen(fd.get(), SOMAXCONN) != 0) {
    failed = ErrnoStatus("listen " + staging, errno);
  } else if (::rename(staging.c_str(), path.c_str()) != 0) {
    failed = ErrnoStatus(absl::StrCat("rename ", staging, " to ", path), errno);
  }
  if (!failed.ok()) {
    ::unlink(staging.c_str());
    return failed;
  }
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return ErrnoStatus("eventfd", errno);
  return std::unique_ptr<PeerListener>(
      new PeerListener(path, group, std::move(fd), std::move(wake)));
}

PeerListener::PeerListener(std::string path, std::optional<gid_t> group, UniqueFd listener,
                           UniqueFd wake)
    : path_(std::move(path)),
      group_(group),
      listener_(std::move(listener)),
      wake_(std::move(wake)) {}

PeerListener::~PeerListener() {
  const uint64_t one = 1;
  if (::write(wake_.get(), &one, sizeof one) < 0) {
    spdlog::warn("cannot wake the accept loop: {}", std::strerror(errno));
  }
  if (thread_.joinable()) thread_.join();
  ::unlink(path_.c_str());
}

void PeerListener::Start(
    std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor) {
  acceptor_ = std::move(acceptor);
  thread_ = std::thread([this] { AcceptLoop(); });
}

void PeerListener::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      spdlog::critical("osbd's socket: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    // Non-blocking, as gRPC takes its own accepted sockets: it does not set that itself here.
    UniqueFd connection(
        ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!connection.valid()) {
      // EMFILE and the like pass; a client that gave up before the accept is not an error.
      if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR) {
        spdlog::warn("osbd's socket: accept: {}", std::strerror(errno));
        ::poll(nullptr, 0, 100);
      }
      continue;
    }
    Admit(std::move(connection));
  }
}

void PeerListener::Admit(UniqueFd connection) {
  ucred peer{};
  socklen_t size = sizeof peer;
  if (::getsockopt(connection.get(), SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) {
    spdlog::warn("refused a connection whose credentials cannot be read: {}",
                 std::strerror(errno));
    ++refused_;
    return;
  }
  const bool needs_groups = peer.uid != 0 && peer.uid != ::geteuid() && group_.has_value() &&
                            peer.gid != *group_;
  if (!PeerAllowed(peer.uid, peer.gid,
                   needs_groups ? SupplementaryGroups(peer.pid) : std::vector<gid_t>(),
                   ::geteuid(), group_)) {
    spdlog::warn("refused a connection from uid {} (pid {}): only uid {}{} may use this osbd",
                 peer.uid, peer.pid, ::geteuid(),
                 group_.has_value() ? absl::StrCat(" and group ", *group_) : std::string());
    ++refused_;
    return;
  }
  grpc::experimental::ExternalConnectionAcceptor::NewConnectionParameters params;
  params.listener_fd = listener_.get();
  params.fd = connection.Release();  // gRPC owns it from here
  acceptor_->HandleNewConnection(&params);
}

}  // namespace osb::daemon
