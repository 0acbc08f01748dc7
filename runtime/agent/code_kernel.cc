#include "runtime/agent/code_kernel.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "rest/time_util.h"
#include "runtime/agent/foreground_command.h"
#include "runtime/agent/shell_process.h"

namespace osb::agent {
namespace {

constexpr absl::Duration kReadyTimeout = absl::Seconds(10);
constexpr absl::Duration kPingInterval = absl::Seconds(3);
// A cell interrupted because its client left gets this long to stop before the interpreter is
// killed.
constexpr absl::Duration kAbandonGrace = absl::Seconds(5);
// After the cell's reply, output still in the pipes is read for at most this long.
constexpr absl::Duration kFinalDrain = absl::Milliseconds(100);
// How long a run whose interpreter went away waits for it to be reaped.
constexpr absl::Duration kReapWait = absl::Seconds(2);
// Output without a newline is sent once this much has gathered.
constexpr std::size_t kMaxChunk = 64 * 1024;
// How much of what a failed interpreter printed its error quotes.
constexpr std::size_t kMaxStartupOutput = 2048;

// The ename of the error that ends a run whose interpreter exited (`exit` in a bash cell,
// os._exit in Python, the OOM killer…).
constexpr char kContextExited[] = "ContextExited";

int PollTimeoutMs(absl::Duration d) {
  return static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(d) + 1));
}

// Gathers a stream's output into whole lines (execd's /code sends Jupyter's stream chunks, which
// may hold several lines).
class LineChunks {
 public:
  // What may be sent now: everything up to the last newline, or all of it past kMaxChunk.
  std::string Take(std::string_view bytes) {
    pending_.append(bytes.data(), bytes.size());
    std::size_t end = pending_.rfind('\n');
    end = pending_.size() > kMaxChunk ? pending_.size()
          : end == std::string::npos  ? 0
                                      : end + 1;
    std::string out = pending_.substr(0, end);
    pending_.erase(0, end);
    return out;
  }
  std::string Rest() { return std::exchange(pending_, {}); }

 private:
  std::string pending_;
};

rest::ServerStreamEvent ErrorEvent(std::string ename, std::string evalue,
                                   std::vector<std::string> traceback) {
  return {.type = std::string(rest::kEventError),
          .error = rest::EventError{std::move(ename), std::move(evalue), std::move(traceback)}};
}

// The terminal event of a cell from the driver's reply line, and before it the result event
// when there is one.
std::vector<rest::ServerStreamEvent> EventsOfReply(const std::string& line, int64_t elapsed_ms) {
  std::vector<rest::ServerStreamEvent> events;
  nlohmann::json reply = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!reply.is_object()) {
    events.push_back(ErrorEvent("RuntimeError", "the interpreter sent an unreadable reply",
                                {line.substr(0, kMaxStartupOutput)}));
    return events;
  }
  if (auto r = reply.find("result"); r != reply.end() && r->is_object()) {
    events.push_back({.type = std::string(rest::kEventResult), .results = *r});
  }
  if (auto e = reply.find("error"); e != reply.end() && e->is_object()) {
    auto text = [&](const char* key) {
      auto v = e->find(key);
      return v != e->end() && v->is_string() ? v->get<std::string>() : std::string();
    };
    std::vector<std::string> traceback;
    if (auto t = e->find("traceback"); t != e->end() && t->is_array()) {
      for (const auto& l : *t) {
        if (l.is_string()) traceback.push_back(l.get<std::string>());
      }
    }
    events.push_back(ErrorEvent(text("ename"), text("evalue"), std::move(traceback)));
    return events;
  }
  if (auto c = reply.find("exit_code"); c != reply.end() && c->is_number_integer()) {
    const int code = c->get<int>();
    if (code != 0) {
      // As execd reports a command that exited non-zero (COMPAT.md §2.4).
      events.push_back(ErrorEvent("CommandExecError", absl::StrCat(code),
                                  {absl::StrCat("exit status ", code)}));
      return events;
    }
  }
  events.push_back(
      {.type = std::string(rest::kEventExecutionComplete), .execution_time_ms = elapsed_ms});
  return events;
}

}  // namespace

absl::StatusOr<std::unique_ptr<CodeKernel>> CodeKernel::Start(
    Reaper& reaper, CodeLanguage language, const std::optional<std::string>& cwd) {
  std::unique_ptr<CodeKernel> kernel(new CodeKernel());
  kernel->language_ = language;
  int fds[2];
  auto make_pipe = [&fds](UniqueFd& r, UniqueFd& w) {
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
    r.Reset(fds[0]);
    w.Reset(fds[1]);
    return absl::OkStatus();
  };
  UniqueFd out_w, err_w, control_r, reply_w;
  for (auto [r, w] : {std::pair{&kernel->stdout_, &out_w}, std::pair{&kernel->stderr_, &err_w},
                      std::pair{&control_r, &kernel->control_w_},
                      std::pair{&kernel->control_r_, &reply_w}}) {
    if (auto s = make_pipe(*r, *w); !s.ok()) return s;
  }
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!devnull.valid()) return ErrnoStatus("open /dev/null", errno);
  auto notice = ExitNotice::Make();
  if (!notice.ok()) return notice.status();
  kernel->exit_ = *std::move(notice);

  rest::RunCommandRequest request;
  request.command = KernelCommand(language);
  request.cwd = cwd;
  auto spawned = SpawnShell(reaper, request,
                            {.in = devnull.get(),
                             .out = out_w.get(),
                             .err = err_w.get(),
                             .fd3 = control_r.get(),
                             .fd4 = reply_w.get()},
                            ExitNotice::Hook(kernel->exit_));
  if (!spawned.ok()) return spawned.status();
  kernel->pid_ = spawned->pid;
  // Only the interpreter holds the write ends now: their end of file is its exit.
  out_w.Reset();
  err_w.Reset();
  reply_w.Reset();
  for (int fd : {kernel->stdout_.get(), kernel->stderr_.get(), kernel->control_r_.get()}) {
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
  }

  // Wait for the driver's ready line; what the interpreter prints meanwhile explains a failure.
  std::string printed;
  const absl::Time deadline = absl::Now() + kReadyTimeout;
  bool control_open = true;
  char buf[4096];
  while (true) {
    if (auto line = kernel->NextControlLine(control_open); line.has_value()) return kernel;
    if (!control_open || absl::Now() >= deadline) break;
    pollfd p[3] = {{kernel->control_r_.get(), POLLIN, 0},
                   {kernel->stdout_.get(), POLLIN, 0},
                   {kernel->stderr_.get(), POLLIN, 0}};
    if (::poll(p, 3, PollTimeoutMs(deadline - absl::Now())) < 0 && errno != EINTR) break;
    for (int i = 1; i < 3; ++i) {
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n > 0 && printed.size() < kMaxStartupOutput) printed.append(buf, n);
    }
  }
  if (printed.size() > kMaxStartupOutput) printed.resize(kMaxStartupOutput);
  const std::string why = !spawned->exec_error.empty() ? spawned->exec_error
                          : !control_open              ? "it exited"
                                                       : "it did not answer in time";
  absl::string_view said = absl::StripAsciiWhitespace(printed);
  return absl::FailedPreconditionError(
      absl::StrCat("the ", NameOf(language), " interpreter could not start (", why, ")",
                   said.empty() ? "" : ": ", said));
}

CodeKernel::~CodeKernel() { Kill(); }

void CodeKernel::Signal(int sig) {
  // Once reaped, the group id may belong to someone else.
  if (pid_ > 0 && !exit_->exited()) ::kill(-pid_, sig);
}

void CodeKernel::Interrupt() { Signal(SIGINT); }

void CodeKernel::Kill() { Signal(SIGKILL); }

std::optional<std::string> CodeKernel::NextControlLine(bool& open) {
  char buf[4096];
  while (true) {
    if (std::size_t nl = control_buf_.find('\n'); nl != std::string::npos) {
      std::string line = control_buf_.substr(0, nl);
      control_buf_.erase(0, nl + 1);
      return line;
    }
    if (!open) return std::nullopt;
    ssize_t n = ::read(control_r_.get(), buf, sizeof buf);
    if (n > 0) {
      control_buf_.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      open = false;
    } else {
      return std::nullopt;
    }
  }
}

bool CodeKernel::Run(const std::string& cell_path, const Emit& emit) {
  const absl::Time started = absl::Now();
  bool client_here = true;
  absl::Time give_up = absl::InfiniteFuture();
  auto send = [&](rest::ServerStreamEvent e) {
    if (!client_here) return;
    e.timestamp_ms = rest::NowUnixMillis();
    if (!emit(std::move(e))) {
      client_here = false;
      Interrupt();
      give_up = absl::Now() + kAbandonGrace;
    }
  };
  LineChunks out_chunks, err_chunks;
  auto send_output = [&](std::string_view type, std::string text) {
    if (!text.empty()) send({.type = std::string(type), .text = std::move(text)});
  };
  char buf[64 * 1024];
  // Reads what a stream has now; `open` becomes false at its end.
  auto drain = [&](UniqueFd& fd, bool& open, LineChunks& chunks, std::string_view type) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      send_output(type, chunks.Take(std::string_view(buf, static_cast<std::size_t>(n))));
      return true;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) open = false;
    return false;
  };
  bool out_open = true, err_open = true;

  bool control_open = true;
  std::optional<std::string> reply;
  const std::string request = cell_path + "\n";
  if (::write(control_w_.get(), request.data(), request.size()) !=
      static_cast<ssize_t>(request.size())) {
    control_open = false;  // the interpreter is gone
  }
  absl::Time next_ping = started + kPingInterval;
  while (control_open && !exit_->exited()) {
    if ((reply = NextControlLine(control_open)).has_value()) break;
    const absl::Time now = absl::Now();
    if (now >= give_up) Kill();
    if (now >= next_ping) {
      send({.type = std::string(rest::kEventPing), .text = "pong"});
      next_ping = now + kPingInterval;
    }
    pollfd p[4] = {{out_open ? stdout_.get() : -1, POLLIN, 0},
                   {err_open ? stderr_.get() : -1, POLLIN, 0},
                   {control_r_.get(), POLLIN, 0},
                   {exit_->fd(), POLLIN, 0}};
    const absl::Time wake = std::min(next_ping, give_up);
    if (::poll(p, 4, PollTimeoutMs(wake - absl::Now())) < 0 && errno != EINTR) break;
    if (p[0].revents != 0) drain(stdout_, out_open, out_chunks, rest::kEventStdout);
    if (p[1].revents != 0) drain(stderr_, err_open, err_chunks, rest::kEventStderr);
  }
  // The driver flushed before it replied, so its output is in the pipes now. What a process the
  // cell left behind keeps writing is read for a moment only.
  const absl::Time drain_until = absl::Now() + kFinalDrain;
  while (out_open && drain(stdout_, out_open, out_chunks, rest::kEventStdout) &&
         absl::Now() < drain_until) {
  }
  while (err_open && drain(stderr_, err_open, err_chunks, rest::kEventStderr) &&
         absl::Now() < drain_until) {
  }
  send_output(rest::kEventStdout, out_chunks.Rest());
  send_output(rest::kEventStderr, err_chunks.Rest());

  if (!reply.has_value()) {
    // Its control pipe may close before it is reaped: wait for the reaper to tell how it ended.
    Kill();
    pollfd reaped{exit_->fd(), POLLIN, 0};
    while (!exit_->exited() && ::poll(&reaped, 1, PollTimeoutMs(kReapWait)) > 0) {
    }
    ExitDescription exit = exit_->exited() ? DescribeWaitStatus(exit_->wait_status())
                                         : ExitDescription{"stopped answering", -1};
    send(ErrorEvent(kContextExited,
                    absl::StrCat("the ", NameOf(language_), " interpreter of this context ended (",
                                 exit.text, "); its state is lost, and the next run starts anew"),
                    {exit.text}));
    return false;
  }
  for (auto& e : EventsOfReply(*reply, absl::ToInt64Milliseconds(absl::Now() - started))) {
    send(std::move(e));
  }
  return true;
}

}  // namespace osb::agent
