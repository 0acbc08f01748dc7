#include "runtime/agent/command_registry.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rest/error.h"
#include "rest/sys/file_util.h"
#include "runtime/agent/foreground_command.h"
#include "runtime/agent/shell_process.h"

namespace osb::agent {
namespace {

absl::Status UnknownCommand(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("no command with id ", id));
}

}  // namespace

CommandRegistry::CommandRegistry(Reaper& reaper) : reaper_(reaper) {
  killer_ = std::thread([this] { RunKiller(); });
}

CommandRegistry::~CommandRegistry() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    kill_at_changed_.Signal();
  }
  killer_.join();
}

void CommandRegistry::AddForeground(const std::string& id, const std::string& content) {
  absl::MutexLock lock(&mu_);
  Entry& e = entries_[id];
  e.content = content;
  e.started_at = absl::Now();
}

void CommandRegistry::SetPid(const std::string& id, pid_t pid) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.pid = pid;
}

void CommandRegistry::Discard(const std::string& id) {
  absl::MutexLock lock(&mu_);
  entries_.erase(id);
}

Reaper::OnExit CommandRegistry::ExitHook(const std::string& id) {
  return [this, id](int wait_status) { Finished(id, wait_status); };
}

absl::Status CommandRegistry::StartBackground(const std::string& id,
                                              const rest::RunCommandRequest& request) {
  auto log = std::make_shared<UniqueFd>(::memfd_create(("command-" + id).c_str(), MFD_CLOEXEC));
  if (!log->valid()) return ErrnoStatus("memfd_create", errno);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull.valid()) return ErrnoStatus("open /dev/null", errno);
  {
    absl::MutexLock lock(&mu_);
    Entry& e = entries_[id];
    e.content = request.command;
    e.background = true;
    e.started_at = absl::Now();
    e.log = log;
  }
  auto spawned =
      SpawnShell(reaper_, request, {devnull.get(), log->get(), log->get()}, ExitHook(id));
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (!spawned.ok()) {
    if (it != entries_.end()) entries_.erase(it);
    return spawned.status();
  }
  if (it == entries_.end()) return absl::OkStatus();  // already finished and forgotten
  Entry& e = it->second;
  e.pid = spawned->pid;
  if (!spawned->exec_error.empty()) {
    // Nothing else reports a failed exec of a background command: its log does.
    std::string line =
        absl::StrCat("osb-agent: cannot start the command: ", spawned->exec_error, "\n");
    (void)!::write(log->get(), line.data(), line.size());
  }
  if (request.timeout_ms.has_value() && e.running) {
    e.kill_at = e.started_at + absl::Milliseconds(*request.timeout_ms);
    kill_at_changed_.Signal();
  }
  return absl::OkStatus();
}

void CommandRegistry::Finished(const std::string& id, int wait_status) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second.running = false;
  it->second.wait_status = wait_status;
  it->second.finished_at = absl::Now();
  finished_order_.push_back(id);
  Forget();
}

void CommandRegistry::Forget() {
  while (finished_order_.size() > kMaxFinished) {
    entries_.erase(finished_order_.front());
    finished_order_.pop_front();
  }
}

absl::StatusOr<rest::CommandStatus> CommandRegistry::Status(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return UnknownCommand(id);
  const Entry& e = it->second;
  rest::CommandStatus s;
  s.id = id;
  s.content = e.content;
  s.running = e.running;
  s.started_at = e.started_at;
  if (!e.running) {
    ExitDescription exit = DescribeWaitStatus(e.wait_status);
    s.exit_code = exit.code;
    if (exit.code != 0) s.error = exit.text;
    s.finished_at = e.finished_at;
  }
  return s;
}

absl::Status CommandRegistry::Interrupt(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return UnknownCommand(id);
  Entry& e = it->second;
  if (!e.running || e.pid <= 0) {
    return absl::FailedPreconditionError(absl::StrCat("command ", id, " is not running"));
  }
  ::kill(-e.pid, SIGTERM);
  e.kill_at = std::min(e.kill_at, absl::Now() + kInterruptGrace);
  kill_at_changed_.Signal();
  return absl::OkStatus();
}

absl::StatusOr<CommandRegistry::LogChunk> CommandRegistry::Logs(const std::string& id,
                                                                int64_t cursor) {
  if (cursor < 0) return absl::InvalidArgumentError("cursor must not be negative");
  std::shared_ptr<UniqueFd> log;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return UnknownCommand(id);
    if (!it->second.background) {
      return absl::FailedPreconditionError(
          absl::StrCat("command ", id, " is not running in background"));
    }
    log = it->second.log;
  }
  LogChunk chunk;
  chunk.bytes.resize(kMaxLogChunk);
  ssize_t n;
  do {
    n = ::pread(log->get(), chunk.bytes.data(), chunk.bytes.size(), cursor);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus("read the command's log", errno);
  chunk.bytes.resize(static_cast<std::size_t>(n));
  if (n > 0) {
    chunk.next_cursor = cursor + n;
  } else {
    off_t size = ::lseek(log->get(), 0, SEEK_END);
    chunk.next_cursor = std::min<int64_t>(cursor, size < 0 ? cursor : size);
  }
  return chunk;
}

void CommandRegistry::RunKiller() {
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    absl::Time next = absl::InfiniteFuture();
    const absl::Time now = absl::Now();
    for (auto& [id, e] : entries_) {
      if (!e.running || e.pid <= 0) continue;
      if (e.kill_at <= now) {
        KillProcessGroup(e.pid);
        e.kill_at = absl::InfiniteFuture();
      }
      next = std::min(next, e.kill_at);
    }
    kill_at_changed_.WaitWithDeadline(&mu_, next);
  }
}

}  // namespace osb::agent
