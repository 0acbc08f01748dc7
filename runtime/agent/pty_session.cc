#include "runtime/agent/pty_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>
#include <utility>

#include "rest/execd.h"
#include "rest/sys/file_util.h"
#include "rest/sys/process.h"
#include "runtime/agent/exit_notice.h"
#include "runtime/agent/foreground_command.h"
#include "runtime/agent/shell_process.h"

namespace osb::agent {
namespace {

constexpr absl::Duration kTakeOverWait = absl::Seconds(5);
constexpr int kStdinWaitMs = 10'000;
constexpr std::size_t kPumpBuffer = 32 * 1024;
constexpr unsigned short kInitialCols = 80;
constexpr unsigned short kInitialRows = 24;

absl::Status SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoStatus("fcntl O_NONBLOCK", errno);
  }
  return absl::OkStatus();
}

absl::Status Pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  read_end.Reset(fds[0]);
  write_end.Reset(fds[1]);
  return absl::OkStatus();
}

// A new terminal of 80x24: its master side, and its slave side for the shell.
absl::Status OpenTerminal(UniqueFd& master, UniqueFd& slave) {
  master.Reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid()) return ErrnoStatus("posix_openpt", errno);
  char name[64];
  if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0 ||
      ::ptsname_r(master.get(), name, sizeof name) != 0) {
    return ErrnoStatus("unlocking a terminal", errno);
  }
  slave.Reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave.valid()) return ErrnoStatus(name, errno);
  winsize size{.ws_row = kInitialRows, .ws_col = kInitialCols, .ws_xpixel = 0, .ws_ypixel = 0};
  if (::ioctl(master.get(), TIOCSWINSZ, &size) != 0) return ErrnoStatus("TIOCSWINSZ", errno);
  return absl::OkStatus();
}

// SIGKILL to every process of session `sid`, which the shell leads (SpawnShell made it with
// setsid): an interactive shell runs each job in a process group of its own, so the shell's
// group alone would leave them running. Two rounds, for what was forked during the first.
void KillSession(pid_t sid) {
  for (int round = 0; round < 2; ++round) {
    ::kill(-sid, SIGKILL);
    for (pid_t pid : ProcessIds()) {
      if (pid > 1 && ::getsid(pid) == sid) ::kill(pid, SIGKILL);
    }
  }
}

int SignalNamed(std::string_view name) {
  if (name == "SIGINT") return SIGINT;
  if (name == "SIGTERM") return SIGTERM;
  if (name == "SIGKILL") return SIGKILL;
  if (name == "SIGQUIT") return SIGQUIT;
  if (name == "SIGHUP") return SIGHUP;
  return 0;
}

}  // namespace

PtySession::PtySession(Reaper& reaper, std::string id, std::string cwd, std::string command)
    : reaper_(reaper), id_(std::move(id)), cwd_(std::move(cwd)), command_(std::move(command)) {}

PtySession::~PtySession() = default;  // a running shell's pump keeps its session alive

PtySession::Status PtySession::GetStatus() const {
  absl::MutexLock lock(&mu_);
  return {.running = running_, .output_offset = output_offset_.load()};
}

std::optional<uint64_t> PtySession::Claim(bool take_over) {
  absl::MutexLock lock(&mu_);
  if (claimed_ && !take_over) return std::nullopt;
  const absl::Time deadline = absl::Now() + kTakeOverWait;
  while (claimed_) {
    // The holder lets go once its connection has ended; one that has not attached yet is
    // evicted on a later round.
    if (holder_ != nullptr) holder_->Evict();
    if (absl::Now() >= deadline) return std::nullopt;
    mu_.AwaitWithTimeout(absl::Condition(
                             +[](bool* claimed) { return !*claimed; }, &claimed_),
                         absl::Milliseconds(10));
  }
  claimed_ = true;
  return ++claim_;
}

void PtySession::Unclaim(uint64_t claim) {
  absl::MutexLock lock(&mu_);
  if (claim == claim_) claimed_ = false;
}

bool PtySession::terminal() const {
  absl::MutexLock lock(&mu_);
  return terminal_;
}

absl::Status PtySession::StartUnlessRunning(bool terminal) {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::FailedPreconditionError("the pty session is closed");
  if (running_) return absl::OkStatus();

  rest::RunCommandRequest request;
  request.command = command_;
  if (!cwd_.empty()) request.cwd = cwd_;
  UniqueFd in_shell, out_shell, err_shell;  // the shell's ends, closed here once it has them
  UniqueFd in, out, err;                    // the session's ends
  if (terminal) {
    if (auto s = OpenTerminal(in, in_shell); !s.ok()) return s;
    out.Reset(::dup(in.get()));
    if (!out.valid()) return ErrnoStatus("dup", errno);
    if (::getenv("TERM") == nullptr) request.envs["TERM"] = "xterm-256color";
  } else {
    for (auto s : {Pipe(in_shell, in), Pipe(out, out_shell), Pipe(err, err_shell)}) {
      if (!s.ok()) return s;
    }
  }
  for (const UniqueFd* fd : {&in, &out, &err}) {
    if (fd->valid()) {
      if (auto s = SetNonBlocking(fd->get()); !s.ok()) return s;
    }
  }
  ShellStdio stdio{.in = in_shell.get(),
                   .out = terminal ? in_shell.get() : out_shell.get(),
                   .err = terminal ? in_shell.get() : err_shell.get(),
                   .terminal = terminal};
  auto exited = ExitNotice::Make();
  if (!exited.ok()) return exited.status();
  auto spawned = SpawnShell(reaper_, request, stdio, ExitNotice::Hook(*exited));
  if (!spawned.ok()) return spawned.status();
  if (!spawned->exec_error.empty()) {
    return absl::InternalError("cannot start bash: " + spawned->exec_error);
  }
  running_ = true;
  terminal_ = terminal;
  pid_ = spawned->pid;
  stdin_ = std::make_shared<UniqueFd>(std::move(in));
  std::thread([self = shared_from_this(), out = std::move(out), err = std::move(err),
               exited = *std::move(exited)]() mutable {
    self->Pump(std::move(out), std::move(err), std::move(exited));
  }).detach();
  return absl::OkStatus();
}

void PtySession::Pump(UniqueFd out, UniqueFd err, std::shared_ptr<ExitNotice> exited) {
  std::string buffer(kPumpBuffer, '\0');
  // Reads what `fd` has now; false once it has ended (EOF, or EIO: a terminal without a shell).
  auto read_now = [&](UniqueFd& fd, PtyChannel channel) {
    for (;;) {
      ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
      if (n > 0) {
        Deliver(channel, std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      fd.Reset();
      return false;
    }
  };
  for (;;) {
    pollfd fds[3] = {{.fd = exited->fd(), .events = POLLIN, .revents = 0},
                     {.fd = out.get(), .events = POLLIN, .revents = 0},
                     {.fd = err.get(), .events = POLLIN, .revents = 0}};
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) read_now(out, PtyChannel::kStdout);
    if (fds[2].revents != 0) read_now(err, PtyChannel::kStderr);
    if (exited->exited()) {
      // What the shell wrote before it ended is there to read now; a process it left behind
      // that still holds the terminal or pipes is not waited for.
      if (out.valid()) read_now(out, PtyChannel::kStdout);
      if (err.valid()) read_now(err, PtyChannel::kStderr);
      break;
    }
  }
  out.Reset();  // the terminal's last master reference goes with stdin_ below: a hang-up
  err.Reset();
  const int exit_code = DescribeWaitStatus(exited->wait_status()).code;
  absl::MutexLock out_lock(&out_mu_);
  PtyClient* client = std::exchange(client_, nullptr);
  {
    absl::MutexLock lock(&mu_);
    running_ = false;
    exit_code_ = exit_code;
    pid_ = -1;
    stdin_.reset();
    if (client != nullptr && holder_ == client) {
      holder_ = nullptr;
      claimed_ = false;
    }
  }
  if (client != nullptr) client->Exited(exit_code);
}

void PtySession::Deliver(PtyChannel channel, std::string_view bytes) {
  absl::MutexLock lock(&out_mu_);
  replay_.Append(bytes);
  output_offset_ = replay_.total();
  if (client_ != nullptr) client_->Output(channel, bytes);
}

void PtySession::Attach(PtyClient* client, int64_t since) {
  absl::MutexLock out(&out_mu_);
  {
    // Evictable from here on: a client that stalls while its replay is sent can be taken over.
    absl::MutexLock lock(&mu_);
    holder_ = client;
  }
  ReplayBuffer::Since missed = replay_.From(since);
  client->Attached(missed.offset, missed.bytes);
  bool running;
  int exit_code;
  {
    absl::MutexLock lock(&mu_);
    running = running_;
    exit_code = exit_code_;
    if (!running && holder_ == client) holder_ = nullptr;
  }
  // A shell that ended since the client started it (the pump reports exits under out_mu_ too,
  // so it is either before this or after it).
  if (!running) return client->Exited(exit_code);
  client_ = client;
}

void PtySession::Detach(PtyClient* client) {
  absl::MutexLock out(&out_mu_);
  if (client_ == client) client_ = nullptr;
  absl::MutexLock lock(&mu_);
  if (holder_ == client) holder_ = nullptr;
}

absl::Status PtySession::WriteStdin(std::string_view bytes) {
  std::shared_ptr<UniqueFd> fd;
  {
    absl::MutexLock lock(&mu_);
    fd = stdin_;
  }
  if (fd == nullptr) return absl::FailedPreconditionError("no shell runs in this pty session");
  while (!bytes.empty()) {
    ssize_t n = ::write(fd->get(), bytes.data(), bytes.size());
    if (n >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (errno == EAGAIN) {
      pollfd p{.fd = fd->get(), .events = POLLOUT, .revents = 0};
      int ready = ::poll(&p, 1, kStdinWaitMs);
      if (ready == 0) {
        return absl::DeadlineExceededError("the shell has not read its stdin for 10 s");
      }
      if (ready < 0 && errno != EINTR) return ErrnoStatus("poll stdin", errno);
    } else if (errno != EINTR) {
      return ErrnoStatus("write stdin", errno);
    }
  }
  return absl::OkStatus();
}

void PtySession::Signal(std::string_view name) {
  const int signal = SignalNamed(name);
  absl::MutexLock lock(&mu_);
  if (signal == 0 || pid_ <= 0) return;
  // In a terminal SIGINT and SIGQUIT go where Ctrl-C and Ctrl-\ would: to the foreground job
  // (the shell itself when it is at its prompt), not to the interactive shell, which ignores
  // them. The others are for the shell: they end the session.
  if (terminal_ && stdin_ != nullptr && (signal == SIGINT || signal == SIGQUIT)) {
    const pid_t foreground = ::tcgetpgrp(stdin_->get());
    // A job that ended just now (its group gone) leaves the signal to the shell.
    if (foreground > 0 && ::kill(-foreground, signal) == 0) return;
  }
  ::kill(-pid_, signal);
}

void PtySession::Resize(int cols, int rows) {
  if (cols <= 0 || rows <= 0 || cols > 0xFFFF || rows > 0xFFFF) return;
  absl::MutexLock lock(&mu_);
  if (!terminal_ || stdin_ == nullptr) return;
  winsize size{.ws_row = static_cast<unsigned short>(rows),
               .ws_col = static_cast<unsigned short>(cols),
               .ws_xpixel = 0,
               .ws_ypixel = 0};
  (void)::ioctl(stdin_->get(), TIOCSWINSZ, &size);
}

void PtySession::Close() {
  std::shared_ptr<UniqueFd> stdin_end;
  absl::MutexLock lock(&mu_);
  closed_ = true;
  if (pid_ > 0) KillSession(pid_);
  stdin_end = std::move(stdin_);
  if (holder_ != nullptr) holder_->Evict();
}

}  // namespace osb::agent
