#include "runtime/server/egress.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "rest/sys/file_util.h"
#include "rest/sys/unique_fd.h"

namespace osb::runtime {
namespace {

}  // namespace

std::string DefaultRouteInterface(pid_t pid) {
  auto table = ReadFile(absl::StrCat("/proc/", pid, "/net/route"));
  if (!table.ok()) return "";
  for (absl::string_view line : absl::StrSplit(*table, '\n')) {
    // Iface Destination Gateway Flags RefCnt Use Metric Mask ...: destination and mask 0.
    std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
    if (fields.size() > 7 && fields[1] == "00000000" && fields[7] == "00000000") {
      return std::string(fields[0]);
    }
  }
  return "";
}

std::string FindPasta() {
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  for (absl::string_view dir : absl::StrSplit(path + ":/usr/bin:/usr/sbin", ':',
                                              absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(dir, "/pasta");
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

absl::StatusOr<pid_t> StartEgress(const std::string& pasta, pid_t agent_pid,
                                  const std::string& log_path, bool by_name,
                                  absl::Duration timeout) {
  // pasta joins the sandbox's user and network namespaces, which only their owner (this
  // runtime's user, root) may do, so it keeps root's id (--runas 0:0) instead of dropping to
  // nobody first; once joined it isolates itself (its own empty namespaces, no capabilities).
  std::vector<std::string> args = {pasta, "--foreground", "--quiet", "--runas", "0:0",
                                   "--config-net", "--no-map-gw", "-t", "none", "-u", "none",
                                   "-T", "none", "-U", "none", "-a", "10.0.2.15", "-n", "24",
                                   "-g", kSandboxGateway, "--stderr"};
  if (by_name) {
    args.push_back("--ipv4-only");
  } else {
    args.insert(args.end(), {"--dns-forward", kSandboxDns});
  }
  args.push_back(absl::StrCat(agent_pid));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Opened here: pasta drops its capabilities before it opens files, and the sandbox's directory
  // belongs to the sandbox's ids.
  UniqueFd log_fd(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log_fd.valid()) return ErrnoStatus("open " + log_path, errno);
  UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null.valid()) return ErrnoStatus("open /dev/null", errno);
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    ::dup2(null.get(), 0);
    ::dup2(null.get(), 1);
    ::dup2(log_fd.get(), 2);
    ::setsid();  // like the agents, it outlives the runtime's terminal and the runtime itself
    // The runtime ignores SIGPIPE; pasta refuses to start with an ignored SIGPIPE inherited.
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  const absl::Time deadline = absl::Now() + timeout;
  while (DefaultRouteInterface(agent_pid).empty()) {
    int status = 0;
    const bool exited = ::waitpid(pid, &status, WNOHANG) == pid;
    if (exited || absl::Now() > deadline) {
      if (!exited) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
      auto log = ReadFile(log_path);
      return absl::UnavailableError(absl::StrCat(
          "the network helper (pasta) ", exited ? "exited" : "did not set up the network in time",
          log.ok() && !log->empty() ? ": " + std::string(absl::StripAsciiWhitespace(*log)) : ""));
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return pid;
}

}  // namespace osb::runtime
