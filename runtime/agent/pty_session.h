// One of execd's PTY sessions (COMPAT.md §2.9): a shell (`bash`, or `bash -c <command>`) started
// when its first client connects, either in a terminal (its output one stream) or on pipes
// (stdout and stderr apart). Its output is kept in a replay buffer and streamed to the one client
// attached; a client may leave and another attach later, and the shell runs on meanwhile. A shell
// that has exited is started again by the next client.
//
// Threads: a pump thread per running shell reads its output and reports its exit; the client's
// own thread (the WebSocket's) claims, attaches, writes stdin and sends signals.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "rest/sys/unique_fd.h"
#include "runtime/agent/reaper.h"
#include "runtime/agent/replay_buffer.h"

namespace osb::agent {

// The channels of execd's binary frames.
enum class PtyChannel : uint8_t { kStdin = 0x00, kStdout = 0x01, kStderr = 0x02, kReplay = 0x03 };

// The attached client's side. Attached and Output and Exited are called in order, with the
// session's output lock held (a slow client slows the shell's output, never loses it); Evict may
// come from any thread at any time and must not block.
class PtyClient {
 public:
  virtual ~PtyClient() = default;
  // What the client missed, from `offset` (empty when nothing), then live output follows.
  virtual void Attached(int64_t offset, std::string_view missed) = 0;
  virtual void Output(PtyChannel channel, std::string_view bytes) = 0;
  virtual void Exited(int exit_code) = 0;
  // Another client takes the session over: end the connection at once.
  virtual void Evict() = 0;
};

class PtySession : public std::enable_shared_from_this<PtySession> {
 public:
  PtySession(Reaper& reaper, std::string id, std::string cwd, std::string command);
  ~PtySession();

  const std::string& id() const { return id_; }

  struct Status {
    bool running;
    int64_t output_offset;  // how many bytes of output there have been
  };
  Status GetStatus() const;

  // Reserves the session for one client: nullopt while another holds it. With `take_over` the
  // holder is evicted instead, and this waits (up to 5 s) for it to let go. The claim ends with
  // Unclaim, or when the shell exits (the next client may start another at once).
  std::optional<uint64_t> Claim(bool take_over);
  void Unclaim(uint64_t claim);

  // Starts the shell unless it is running: in a terminal of 80x24, or on pipes.
  absl::Status StartUnlessRunning(bool terminal);
  bool terminal() const;

  // Attaches the claiming client: `client` gets the output from `since` on (see PtyClient).
  void Attach(PtyClient* client, int64_t since);
  void Detach(PtyClient* client);

  // Writes to the shell's stdin; FailedPrecondition when no shell runs, an errno status when the
  // shell has not read its stdin for 10 s or it is closed.
  absl::Status WriteStdin(std::string_view bytes);
  // SIGINT, SIGTERM, SIGKILL, SIGQUIT or SIGHUP to the shell's process group, but SIGINT and
  // SIGQUIT in a terminal to its foreground job, as the keyboard sends them; others are ignored.
  void Signal(std::string_view name);
  // The terminal's size (a pipe session has none).
  void Resize(int cols, int rows);

  // Ends the session for good: every process of the shell's session is killed (its background
  // jobs too), its terminal hung up, the client evicted.
  void Close();

 private:
  // The output of one started shell, read until it exits; then reports the exit.
  void Pump(UniqueFd out, UniqueFd err, std::shared_ptr<class ExitNotice> exited);
  void Deliver(PtyChannel channel, std::string_view bytes);

  Reaper& reaper_;
  const std::string id_;
  const std::string cwd_;
  const std::string command_;

  mutable absl::Mutex mu_;  // claims and the shell's state
  bool claimed_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t claim_ ABSL_GUARDED_BY(mu_) = 0;  // which claim holds it
  PtyClient* holder_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool running_ ABSL_GUARDED_BY(mu_) = false;
  bool terminal_ ABSL_GUARDED_BY(mu_) = false;
  pid_t pid_ ABSL_GUARDED_BY(mu_) = -1;
  int exit_code_ ABSL_GUARDED_BY(mu_) = -1;  // the last shell's
  // The shell's stdin: the terminal's master side (also what Resize works on) or a pipe. Shared
  // so that a write in progress keeps it open while the shell's end closes it.
  std::shared_ptr<UniqueFd> stdin_ ABSL_GUARDED_BY(mu_);

  // Taken before mu_ where both are needed.
  mutable absl::Mutex out_mu_;
  ReplayBuffer replay_ ABSL_GUARDED_BY(out_mu_);
  PtyClient* client_ ABSL_GUARDED_BY(out_mu_) = nullptr;
  std::atomic<int64_t> output_offset_ = 0;  // replay_.total(), readable without out_mu_
};

}  // namespace osb::agent
