#include "runtime/server/agent_launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "rest/sys/unique_fd.h"

namespace osb::runtime {
namespace {

// The cgroup namespace is not among them: the child unshares it once the parent has moved it
// into its cgroup, so the sandbox sees that cgroup as its root, not the runtime's.
constexpr int kNamespaces =
    CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
constexpr std::size_t kChildStack = 256 * 1024;
constexpr int kConfigFd = 3;
// From clone to exec is a few syscalls; this bounds a child that hangs on the way.
constexpr absl::Duration kExecTimeout = absl::Seconds(10);

// Everything the cloned child touches, prepared before clone: the child shares no locks with the
// parent's other threads, so it must not allocate.
struct ChildArgs {
  int sync_fd;    // one byte arrives once the id maps are written
  int sync_w_fd;  // the parent's end, which the child closes so that the parent's exit is EOF
  int report_fd;  // receives errno if anything before exec fails
  int config_fd;  // the agent's configuration arrives here (its fd 3)
  int agent_fd;
  int log_fd;
  int null_fd;
  bool setgroups_allowed;
  char** argv;
  char** envp;
};

[[noreturn]] void Report(const ChildArgs* a, int err) {
  (void)!::write(a->report_fd, &err, sizeof err);
  _exit(127);
}

int ChildMain(void* arg) {
  const auto* a = static_cast<const ChildArgs*>(arg);
  // Until the agent is configured it dies with the runtime thread that started it (the agent
  // clears this then): a child stuck here would hold copies of every descriptor the runtime had,
  // its listening socket and the sandboxes' DNS sockets among them.
  ::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  ::close(a->sync_w_fd);
  char go = 0;
  if (::read(a->sync_fd, &go, 1) != 1) _exit(127);  // the parent gave up, or died
  if (::syscall(SYS_unshare, CLONE_NEWCGROUP) != 0) Report(a, errno);
  // Raw syscalls: glibc's wrappers broadcast the change to every thread it believes this
  // process has, which after a bare clone are the parent's threads; one of them that was being
  // created or was exiting at the clone makes the wrapper wait forever.
  if (::syscall(SYS_setresgid, 0, 0, 0) != 0) Report(a, errno);
  if (a->setgroups_allowed && ::syscall(SYS_setgroups, 0, nullptr) != 0) Report(a, errno);
  if (::syscall(SYS_setresuid, 0, 0, 0) != 0) Report(a, errno);
  if (::dup2(a->null_fd, 0) < 0 || ::dup2(a->log_fd, 1) < 0 || ::dup2(a->log_fd, 2) < 0) {
    Report(a, errno);
  }
  // Its own session: the runtime's terminal and process group are not the sandbox's, so a ^C or
  // a hang-up meant for the runtime never reaches it (sandboxes outlive their runtime).
  if (::syscall(SYS_setsid) < 0) Report(a, errno);
  // dup2 onto itself keeps O_CLOEXEC: the pipe would close at exec.
  if (a->config_fd == kConfigFd ? ::fcntl(kConfigFd, F_SETFD, 0) < 0
                                : ::dup2(a->config_fd, kConfigFd) < 0) {
    Report(a, errno);
  }
  // Nothing of the runtime's (its sockets, other sandboxes' files) may reach the sandbox.
  ::syscall(SYS_close_range, kConfigFd + 1U, ~0U, CLOSE_RANGE_CLOEXEC);
  ::syscall(SYS_execveat, a->agent_fd, "", a->argv, a->envp, AT_EMPTY_PATH);
  Report(a, errno);
}

absl::Status WriteProcFile(pid_t pid, const char* name, const std::string& contents) {
  std::string path = absl::StrCat("/proc/", pid, "/", name);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid() || ::write(fd.get(), contents.data(), contents.size()) !=
                         static_cast<ssize_t>(contents.size())) {
    return ErrnoStatus(absl::StrCat("write ", path, " \"", contents, "\""), errno);
  }
  return absl::OkStatus();
}

}  // namespace

IdMapping DefaultIdMapping(uid_t first_id) {
  if (::geteuid() == 0) return {first_id, first_id, 65536};
  return {::geteuid(), ::getegid(), 1};
}

absl::StatusOr<SpawnedAgent> SpawnAgent(const AgentSpawn& spawn) {
  UniqueFd agent(::open(spawn.agent_binary.c_str(), O_RDONLY | O_CLOEXEC));
  if (!agent.valid()) return ErrnoStatus("open osb-agent " + spawn.agent_binary, errno);
  UniqueFd log(::open(spawn.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log.valid()) return ErrnoStatus("open " + spawn.log_path, errno);
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null.valid()) return ErrnoStatus("open /dev/null", errno);
  int sync[2], report[2], config[2];
  if (::pipe2(sync, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd sync_r(sync[0]), sync_w(sync[1]);
  if (::pipe2(report, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd report_r(report[0]), report_w(report[1]);
  if (::pipe2(config, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd config_r(config[0]), config_w(config[1]);

  std::string arg0 = "osb-agent", arg1 = "--config-fd", arg2 = absl::StrCat(kConfigFd),
              arg3 = "--sandbox-dir", arg4 = spawn.sandbox_dir;
  char* argv[] = {arg0.data(), arg1.data(), arg2.data(), arg3.data(), arg4.data(), nullptr};
  char* envp[] = {nullptr};
  const bool privileged = ::geteuid() == 0;
  ChildArgs child{sync_r.get(), sync_w.get(), report_w.get(), config_r.get(), agent.get(),
                  log.get(),    null.get(),   privileged,     argv,           envp};
  void* stack = ::mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) return ErrnoStatus("mmap", errno);
  pid_t pid =
      ::clone(ChildMain, static_cast<char*>(stack) + kChildStack, kNamespaces | SIGCHLD, &child);
  int clone_errno = errno;
  ::munmap(stack, kChildStack);  // the child runs on its own copy
  if (pid < 0) return ErrnoStatus("clone with new namespaces", clone_errno);
  sync_r.Reset();
  report_w.Reset();
  config_r.Reset();

  auto abandon = [&](absl::Status s) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return s;
  };
  const IdMapping& ids = spawn.ids;
  if (!privileged) {
    if (auto s = WriteProcFile(pid, "setgroups", "deny"); !s.ok()) return abandon(s);
  }
  if (auto s =
          WriteProcFile(pid, "uid_map", absl::StrCat("0 ", ids.host_uid, " ", ids.count, "\n"));
      !s.ok()) {
    return abandon(s);
  }
  if (auto s =
          WriteProcFile(pid, "gid_map", absl::StrCat("0 ", ids.host_gid, " ", ids.count, "\n"));
      !s.ok()) {
    return abandon(s);
  }
  if (spawn.before_start) {
    if (auto s = spawn.before_start(pid); !s.ok()) return abandon(s);
  }
  char go = 1;
  if (::write(sync_w.get(), &go, 1) != 1) return abandon(ErrnoStatus("start the sandbox", errno));
  sync_w.Reset();

  // The child reports an errno or closes the pipe by exec'ing. Anything else within the limit is
  // a child stuck before exec: it is killed, never left half-started.
  pollfd report_ready{report_r.get(), POLLIN, 0};
  int polled;
  do {
    polled = ::poll(&report_ready, 1, static_cast<int>(absl::ToInt64Milliseconds(kExecTimeout)));
  } while (polled < 0 && errno == EINTR);
  if (polled == 0) {
    return abandon(absl::DeadlineExceededError(
        absl::StrCat("osb-agent did not start within ", absl::FormatDuration(kExecTimeout))));
  }
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report_r.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof child_errno) {
    ::waitpid(pid, nullptr, 0);
    return ErrnoStatus("start osb-agent in the sandbox", child_errno);
  }
  return SpawnedAgent{pid, std::move(config_w)};
}

absl::Status ConfigureAgent(SpawnedAgent& agent, const AgentLaunch& launch) {
  std::vector<std::string> args = {"--base", launch.base_dir, "--socket", launch.socket_path,
                                   "--hostname", launch.hostname};
  if (launch.cpus.has_value()) args.insert(args.end(), {"--cpus", absl::StrCat(*launch.cpus)});
  if (launch.memory_bytes.has_value()) {
    args.insert(args.end(), {"--memory-bytes", absl::StrCat(*launch.memory_bytes)});
  }
  if (!launch.bind_host_dirs) args.emplace_back("--no-host-dirs");
  for (const VolumeMount& v : launch.volumes) {
    args.insert(args.end(), {"--volume", EncodeVolumeMount(v)});
  }
  args.emplace_back("--");
  args.insert(args.end(), launch.entrypoint.begin(), launch.entrypoint.end());
  const std::string message = nlohmann::json{{"args", args}, {"env", launch.env}}.dump();
  // The agent reads it whole before anything else; a pipe holds 64 KiB, a larger one waits.
  absl::Status written = WriteAll(agent.config.get(), message, "osb-agent's configuration");
  agent.config.Reset();
  return written;
}

}  // namespace osb::runtime
