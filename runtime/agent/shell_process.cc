#include "runtime/agent/shell_process.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rest/sys/file_util.h"
#include "rest/sys/unique_fd.h"
#include "runtime/agent/env_file.h"

extern char** environ;

namespace osb::agent {

absl::StatusOr<SpawnedShell> SpawnShell(Reaper& reaper, const rest::RunCommandRequest& request,
                                        ShellStdio stdio, Reaper::OnExit on_exit) {
  if (request.cwd.has_value()) {
    struct stat st {};
    if (::stat(request.cwd->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(
          absl::StrCat("working directory ", *request.cwd, " is not an existing directory"));
    }
  }
  // The child reports a failure to start (its errno) on this pipe; exec closes it on success.
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd report_r(report[0]), report_w(report[1]);

  // Everything the child needs is built here: the child may not allocate (Reaper::Spawn).
  // The agent's environment, then the sandbox's env file (EXECD_ENVS), then the request's envs:
  // each later one wins.
  std::map<std::string, std::string> overrides;
  for (auto& [k, v] : LoadEnvFile()) overrides[std::move(k)] = std::move(v);
  for (const auto& [k, v] : request.envs) overrides[k] = v;
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    if (overrides.count(std::string(name)) == 0) env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : overrides) env_strings.push_back(absl::StrCat(k, "=", v));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string command = request.command;
  char bash[] = "/bin/bash";
  char dash_c[] = "-c";
  char* argv[] = {bash, command.empty() ? nullptr : dash_c, command.data(), nullptr};
  const char* cwd = request.cwd.has_value() ? request.cwd->c_str() : nullptr;
  const long uid = request.uid.value_or(-1);
  const long gid = request.gid.value_or(-1);
  const int report_fd = report_w.get();
  // The child's descriptors in order, and where each goes: 0-2, then 3 and 4 when given, then
  // the report pipe (close-on-exec, so a successful exec closes it).
  const bool extra = stdio.fd3 >= 0 && stdio.fd4 >= 0;
  const int report_target = extra ? 5 : 3;
  const int sources[] = {stdio.in, stdio.out, stdio.err, extra ? stdio.fd3 : -1,
                         extra ? stdio.fd4 : -1, report_fd};
  const int targets[] = {0, 1, 2, 3, 4, report_target};
  constexpr int kFdCount = 6;

  auto child = [&] {
    int report_to = report_fd;
    auto fail = [&](int e) {
      (void)!::write(report_to, &e, sizeof e);
      _exit(127);
    };
    if (::setsid() < 0) fail(errno);
    // Every source is first copied above all the targets, so that no dup2 below overwrites a
    // source that has yet to be moved.
    int lifted[kFdCount];
    for (int i = 0; i < kFdCount; ++i) {
      lifted[i] = sources[i] < 0 ? -1 : ::fcntl(sources[i], F_DUPFD, kFdCount + 4);
      if (sources[i] >= 0 && lifted[i] < 0) fail(errno);
    }
    for (int i = 0; i < kFdCount; ++i) {
      if (lifted[i] >= 0 && ::dup2(lifted[i], targets[i]) < 0) fail(errno);
    }
    if (stdio.terminal && ::ioctl(0, TIOCSCTTY, 0) != 0) fail(errno);
    report_to = report_target;
    ::fcntl(report_to, F_SETFD, FD_CLOEXEC);
    // Nothing of the agent's (client connections, listeners, other commands' pipes) may leak
    // into the command; this also closes the lifted copies.
    ::syscall(SYS_close_range, static_cast<unsigned>(report_target + 1), ~0U, 0U);
    if (cwd != nullptr && ::chdir(cwd) != 0) fail(errno);
    // Raw syscalls: the child shares the agent's memory (Reaper::Spawn), where glibc's wrappers
    // would try to change the credentials of every agent thread too.
    if (gid >= 0 && (::syscall(SYS_setgroups, 0, nullptr) != 0 ||
                     ::syscall(SYS_setgid, static_cast<gid_t>(gid)) != 0)) {
      fail(errno);
    }
    if (uid >= 0 && ::syscall(SYS_setuid, static_cast<uid_t>(uid)) != 0) fail(errno);
    ::execve(bash, argv, envp.data());
    fail(errno);
  };
  auto pid = reaper.Spawn(child, std::move(on_exit));
  if (!pid.ok()) return pid.status();
  report_w.Reset();

  SpawnedShell spawned{.pid = *pid};
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(report_r.get(), &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  if (n == sizeof child_errno) spawned.exec_error = std::strerror(child_errno);
  return spawned;
}

void KillProcessGroup(pid_t pid) {
  if (pid > 0) ::kill(-pid, SIGKILL);
}

}  // namespace osb::agent
