// PeerListener: osbd's Unix socket, accepted by osbd itself so that each connection's peer
// credentials (SO_PEERCRED) are checked before gRPC reads a byte from it. Allowed: root, osbd's
// own uid, and members of the configured access group (primary or supplementary). A refused
// connection is closed and logged; the others are handed to the gRPC server through an external
// connection acceptor. The socket file's mode already keeps others out (0600, or 0660 for the
// group); the check holds even when that mode is loosened by hand.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <grpcpp/server_builder.h>

#include "absl/status/statusor.h"
#include "rest/sys/unique_fd.h"

namespace osb::daemon {

// Whether a peer with these credentials may use osbd (running as `self`), given the access group.
// `supplementary` are the peer's supplementary groups.
bool PeerAllowed(uid_t peer_uid, gid_t peer_gid, const std::vector<gid_t>& supplementary,
                 uid_t self, std::optional<gid_t> group);

// The supplementary groups of process `pid` (from /proc/<pid>/status); empty when unreadable.
std::vector<gid_t> SupplementaryGroups(pid_t pid);

// PeerAllowed for the live process `pid`: its effective uid and gid and its supplementary groups,
// from /proc/<pid>/status, as SO_PEERCRED would report them. False when they cannot be read.
bool ProcessAllowed(pid_t pid, uid_t self, std::optional<gid_t> group);

// OK when only osbd's user (or root) can replace a socket in `dir`: the directory belongs to
// osbd's user or root, and is writable by no one else unless sticky (like /tmp). Otherwise
// FailedPrecondition saying why: whoever could replace the socket would receive clients' calls,
// API keys included.
absl::Status SocketDirectoryIsSafe(const std::string& dir);

class PeerListener {
 public:
  // Binds `path` (0600; with `group`, 0660 and owned by that group) and listens; the file
  // appears (replacing any at `path`) only once it listens. The socket's directory is expected
  // to exist. InvalidArgument/Internal naming the path when it cannot.
  static absl::StatusOr<std::unique_ptr<PeerListener>> Bind(const std::string& path,
                                                            std::optional<gid_t> group);
  ~PeerListener();  // stops accepting; unlinks the socket file

  // Accepts on a thread of its own until destruction, handing allowed connections to `acceptor`
  // (which must belong to a started server).
  void Start(std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor);

  uint64_t refused() const { return refused_; }

 private:
  PeerListener(std::string path, std::optional<gid_t> group, UniqueFd listener, UniqueFd wake);
  void AcceptLoop();
  void Admit(UniqueFd connection);

  const std::string path_;
  const std::optional<gid_t> group_;
  UniqueFd listener_, wake_;  // wake_: an eventfd written to stop the loop
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor_;
  std::thread thread_;
  std::atomic<uint64_t> refused_ = 0;
};

}  // namespace osb::daemon
