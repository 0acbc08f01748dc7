#include "runtime/agent/foreground_command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "rest/sys/file_util.h"
#include "rest/time_util.h"
#include "runtime/agent/line_splitter.h"
#include "runtime/agent/shell_process.h"

namespace osb::agent {
namespace {

constexpr absl::Duration kPingInterval = absl::Seconds(3);
// After the command exits, output still in the pipes is drained; a pipe kept open by a process
// the command left behind stops being read after this long without data.
constexpr absl::Duration kDrainAfterExit = absl::Milliseconds(100);

std::string SignalName(int sig) {
  switch (sig) {
    case SIGKILL:
      return "killed";
    case SIGTERM:
      return "terminated";
    case SIGINT:
      return "interrupt";
    case SIGHUP:
      return "hangup";
    default:
      return absl::AsciiStrToLower(strsignal(sig));
  }
}

}  // namespace

ExitDescription DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) {
    int code = WEXITSTATUS(wait_status);
    return {absl::StrCat("exit status ", code), code};
  }
  if (WIFSIGNALED(wait_status))
    return {absl::StrCat("signal: ", SignalName(WTERMSIG(wait_status))), -1};
  return {"unknown exit", -1};
}

absl::StatusOr<std::unique_ptr<ForegroundCommand>> ForegroundCommand::Start(
    Reaper& reaper, const rest::RunCommandRequest& request, std::string id,
    Reaper::OnExit also_on_exit) {
  std::unique_ptr<ForegroundCommand> cmd(new ForegroundCommand());
  cmd->id_ = std::move(id);
  if (request.timeout_ms.has_value()) cmd->timeout_ = absl::Milliseconds(*request.timeout_ms);

  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd out_r(out[0]), out_w(out[1]);
  if (::pipe2(err, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd err_r(err[0]), err_w(err[1]);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull.valid()) return ErrnoStatus("open /dev/null", errno);

  auto notice = ExitNotice::Make();
  if (!notice.ok()) return notice.status();
  cmd->exit_ = *std::move(notice);
  auto spawned = SpawnShell(reaper, request, {devnull.get(), out_w.get(), err_w.get()},
                            ExitNotice::Hook(cmd->exit_, std::move(also_on_exit)));
  if (!spawned.ok()) return spawned.status();
  cmd->pid_ = spawned->pid;
  cmd->spawn_error_ = std::move(spawned->exec_error);
  cmd->started_ = absl::Now();
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err_r.get(), F_SETFL, O_NONBLOCK);
  cmd->stdout_ = std::move(out_r);
  cmd->stderr_ = std::move(err_r);
  return cmd;
}

ForegroundCommand::~ForegroundCommand() {
  if (!finished_) Kill();
}

void ForegroundCommand::Kill() { KillProcessGroup(pid_); }

void ForegroundCommand::Stream(const Writer& write) {
  // Events are written straight into the batch, framed (rest::FrameEvent).
  std::string batch;
  auto add = [&](rest::ServerStreamEvent e) {
    e.timestamp_ms = rest::NowUnixMillis();
    batch += rest::FrameEvent(e);
  };
  auto flush = [&] {
    if (batch.empty()) return true;
    bool ok = write(batch);
    batch.clear();
    return ok;
  };
  add({.type = std::string(rest::kEventInit), .text = id_});

  LineSplitter out_lines, err_lines;
  // The lines of one read share a timestamp: the clock is read once per read, not per line.
  int64_t read_at_ms = rest::NowUnixMillis();
  auto out_sink = [&](std::string_view line) {
    rest::AppendOutputEvent(rest::kEventStdout, line, read_at_ms, &batch);
  };
  auto err_sink = [&](std::string_view line) {
    rest::AppendOutputEvent(rest::kEventStderr, line, read_at_ms, &batch);
  };
  const absl::Time deadline = started_ + timeout_;
  absl::Time next_ping = absl::Now() + kPingInterval;
  bool exited = false;
  bool timed_out = false;
  absl::Time last_data_after_exit;
  bool out_open = true, err_open = true;
  std::string buf(64 * 1024, '\0');

  while (out_open || err_open || !exited) {
    if (!flush()) {
      Kill();
      return;
    }
    absl::Time now = absl::Now();
    absl::Time wake = timed_out ? next_ping : std::min(next_ping, deadline);
    if (exited) wake = std::min(wake, last_data_after_exit + kDrainAfterExit);
    int timeout_ms =
        static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(wake - now) + 1));
    pollfd fds[3] = {{out_open ? stdout_.get() : -1, POLLIN, 0},
                     {err_open ? stderr_.get() : -1, POLLIN, 0},
                     {exited ? -1 : exit_->fd(), POLLIN, 0}};
    int ready = ::poll(fds, 3, timeout_ms);
    if (ready < 0 && errno != EINTR) break;
    now = absl::Now();
    bool got_data = false;
    auto drain = [&](pollfd& p, UniqueFd& fd, bool& open, LineSplitter& lines,
                     const LineSplitter::Sink& sink) {
      if (!open || (p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) return;
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n > 0) {
        read_at_ms = rest::NowUnixMillis();
        lines.Feed(std::string_view(buf.data(), static_cast<std::size_t>(n)), sink);
        got_data = true;
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        open = false;
      }
    };
    drain(fds[0], stdout_, out_open, out_lines, out_sink);
    drain(fds[1], stderr_, err_open, err_lines, err_sink);
    if (!exited && (fds[2].revents & POLLIN) != 0) {
      exited = true;
      last_data_after_exit = now;
    }
    if (exited) {
      if (got_data) last_data_after_exit = now;
      if (now - last_data_after_exit >= kDrainAfterExit) break;
    }
    if (now >= deadline && !exited && !timed_out) {
      Kill();
      timed_out = true;
    }
    if (now >= next_ping) {
      add({.type = std::string(rest::kEventPing), .text = "pong"});
      next_ping = now + kPingInterval;
    }
  }
  read_at_ms = rest::NowUnixMillis();
  out_lines.Flush(out_sink);
  err_lines.Flush(err_sink);

  const int64_t elapsed_ms = absl::ToInt64Milliseconds(absl::Now() - started_);
  if (!spawn_error_.empty()) {
    add({.type = std::string(rest::kEventError),
         .error = rest::EventError{"CommandExecError", spawn_error_, {spawn_error_}}});
  } else {
    ExitDescription exit = DescribeWaitStatus(exit_->wait_status());
    if (exit.code == 0) {
      add({.type = std::string(rest::kEventExecutionComplete), .execution_time_ms = elapsed_ms});
    } else {
      add({.type = std::string(rest::kEventError),
           .error = rest::EventError{"CommandExecError", absl::StrCat(exit.code), {exit.text}}});
    }
  }
  finished_ = true;
  flush();
}

}  // namespace osb::agent
