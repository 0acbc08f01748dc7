// A sandbox's isolation from the host and from other sandboxes, and what a kill leaves behind,
// seen from outside: commands run through osb-runtime's proxy, checked against the host's own
// view (its processes, files and hostname).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rest/ids.h"
#include "rest/string_views.h"
#include "tests/integration/harness.h"
#include "tests/integration/runtime_fixture.h"
#include "tests/integration/sandbox_http.h"

namespace osb::test {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::IsSubsetOf;
using ::testing::IsSupersetOf;
using ::testing::Not;
using ::testing::SizeIs;

// The comm of every process `ps` listed, by pid.
std::vector<std::pair<int, std::string>> ParsePs(const std::string& out) {
  std::vector<std::pair<int, std::string>> procs;
  for (absl::string_view line : absl::StrSplit(rest::AbslView(out), '\n', absl::SkipEmpty())) {
    line = absl::StripAsciiWhitespace(line);
    std::size_t space = line.find(' ');
    int pid = 0;
    if (space == absl::string_view::npos || !absl::SimpleAtoi(line.substr(0, space), &pid)) {
      continue;
    }
    procs.emplace_back(pid, std::string(absl::StripAsciiWhitespace(line.substr(space))));
  }
  return procs;
}

// The real uid of a host process, from /proc/<pid>/status; -1 when unreadable.
long HostUid(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "Uid:")) continue;
    std::vector<std::string> fields = absl::StrSplit(line.substr(4), '\t', absl::SkipEmpty());
    long uid = -1;
    if (!fields.empty() && absl::SimpleAtoi(fields[0], &uid)) return uid;
  }
  return -1;
}

// Waits until some host process's command line contains `needle`. A sandbox is Running once its
// agent answers, which may be before the entrypoint the agent forked has exec'd.
bool WaitForHostProcess(const std::string& needle) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (ProcessesMatching(needle).empty()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

// A fresh osb-runtime per test: tests share nothing, and one that breaks the runtime breaks only

// --- Isolation -----------------------------------------------------------------------------------

class Isolation : public RuntimeTest {};

TEST_F(Isolation, ProcessesAreOnlyTheSandboxes) {
  const std::string seconds = absl::StrCat(100000 + ::getpid());  // a `sleep` no one else runs
  auto sandbox = CreateSandbox(CreateBody({"sleep", seconds}));
  ASSERT_TRUE(sandbox.has_value());
  ASSERT_TRUE(WaitForHostProcess("sleep " + seconds)) << "the entrypoint did not start";
  auto r = Run(*sandbox, "ps -e -o pid=,comm=");
  ASSERT_EQ(ExitCode(r), 0) << Describe(r);
  auto procs = ParsePs(Stdout(r));
  ASSERT_FALSE(procs.empty()) << Describe(r);
  EXPECT_THAT(procs, Contains(std::pair<int, std::string>(1, "osb-agent")));
  std::set<std::string> names;
  for (const auto& [pid, comm] : procs) names.insert(comm);
  // The agent, the entrypoint, ps and perhaps the shell that started it: nothing of the host.
  EXPECT_THAT(names, IsSupersetOf({"osb-agent", "sleep", "ps"})) << Stdout(r);
  EXPECT_THAT(names, IsSubsetOf({"osb-agent", "sleep", "bash", "ps"})) << Stdout(r);
  EXPECT_LE(procs.size(), 4u) << Stdout(r);
}

TEST_F(Isolation, RootInsideIsUnprivilegedOnHost) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto r = Run(*sandbox, "id -u");
  EXPECT_THAT(Texts(r, "stdout"), ElementsAre("0")) << Describe(r);
  std::vector<pid_t> host_pids = ProcessesMatching(sandbox->id);
  ASSERT_FALSE(host_pids.empty()) << "no host process carries the sandbox id";
  for (pid_t pid : host_pids) {
    long uid = HostUid(pid);
    if (uid == -1) continue;  // exited meanwhile
    EXPECT_NE(uid, 0) << "host process " << pid << " of the sandbox runs as host root";
  }
}

TEST_F(Isolation, UsrIsReadOnly) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  const std::string name = "osb-ro-" + rest::RandomHex(6);
  auto r = Run(*sandbox, absl::StrCat("echo x > /usr/bin/", name));
  EXPECT_NE(ExitCode(r), 0) << Describe(r);
  EXPECT_THAT(Texts(r, "stderr"), Contains(HasSubstr("Read-only file system"))) << Describe(r);
  EXPECT_FALSE(PathExists("/usr/bin/" + name));
}

TEST_F(Isolation, HostSecretsInEtcAreAbsent) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  // The base copies only what programs need from the host's /etc: no shadow, no private keys.
  auto r = Run(*sandbox,
               "ls /etc/shadow /etc/gshadow /etc/ssl/private 2>&1; ls /etc/ssl/certs | head -1");
  EXPECT_THAT(Texts(r, "stdout"), Contains(HasSubstr("'/etc/shadow': No such file")))
      << Describe(r);
  EXPECT_THAT(Texts(r, "stdout"), Contains(HasSubstr("'/etc/ssl/private': No such file")))
      << Describe(r);
}

TEST_F(Isolation, WritesToRootAndEtcStayInside) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  const std::string name = "osb-leak-" + rest::RandomHex(6);
  auto r = Run(*sandbox, absl::StrCat("echo x > /", name, " && echo x > /etc/", name, " && cat /",
                                      name, " /etc/", name));
  ASSERT_EQ(ExitCode(r), 0) << Describe(r);
  EXPECT_THAT(Texts(r, "stdout"), ElementsAre("x", "x"));
  EXPECT_FALSE(PathExists("/" + name));
  EXPECT_FALSE(PathExists("/etc/" + name));
}

TEST_F(Isolation, HostPathsAreNotVisible) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  char self[4096] = {};
  ASSERT_GT(::readlink("/proc/self/exe", self, sizeof self - 1), 0);
  ASSERT_TRUE(PathExists(runtime_->state_dir()));
  for (const std::string& path : {std::string("/work"), runtime_->state_dir(), std::string(self)}) {
    auto r = Run(*sandbox, "ls -d " + path);
    EXPECT_NE(ExitCode(r), 0) << path << " is visible: " << Describe(r);
  }
  auto root = Run(*sandbox, "ls -A /root");
  EXPECT_EQ(ExitCode(root), 0) << Describe(root);
  EXPECT_THAT(Texts(root, "stdout"), IsEmpty()) << "the host's /root shows through";
}

TEST_F(Isolation, TmpIsPrivate) {
  auto a = CreateSandbox();
  auto b = CreateSandbox();
  ASSERT_TRUE(a.has_value() && b.has_value());
  const std::string path = "/tmp/osb-private-" + rest::RandomHex(6);
  auto write = Run(*a, "echo secret > " + path + " && test -e " + path);
  ASSERT_EQ(ExitCode(write), 0) << Describe(write);
  auto in_b = Run(*b, "test -e " + path);
  EXPECT_EQ(ExitCode(in_b), 1) << Describe(in_b);
  EXPECT_FALSE(PathExists(path));
}

TEST_F(Isolation, HostnameIsTheSandboxes) {
  auto a = CreateSandbox();
  auto b = CreateSandbox();
  ASSERT_TRUE(a.has_value() && b.has_value());
  char host[256] = {};
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  auto in_a = Run(*a, "hostname");
  auto in_b = Run(*b, "hostname");
  ASSERT_THAT(Texts(in_a, "stdout"), SizeIs(1)) << Describe(in_a);
  ASSERT_THAT(Texts(in_b, "stdout"), SizeIs(1)) << Describe(in_b);
  const std::string name_a = Texts(in_a, "stdout")[0], name_b = Texts(in_b, "stdout")[0];
  EXPECT_NE(name_a, host);
  EXPECT_NE(name_a, name_b);
  EXPECT_THAT(name_a, HasSubstr(a->id.substr(0, 8)));
}

TEST_F(Isolation, NetworkHasLoopbackOnly) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  auto r = Run(*sandbox, "cat /proc/net/dev");
  ASSERT_EQ(ExitCode(r), 0) << Describe(r);
  std::vector<std::string> interfaces;
  for (const std::string& line : Texts(r, "stdout")) {
    std::size_t colon = line.find(':');
    if (colon == std::string::npos || line.find('|') != std::string::npos) continue;  // headers
    interfaces.emplace_back(absl::StripAsciiWhitespace(line.substr(0, colon)));
  }
  EXPECT_THAT(interfaces, ElementsAre("lo")) << Describe(r);
}

TEST_F(Isolation, NoProcessCanGainPrivileges) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  // Every process, the agent (PID 1) included: no_new_privs and the seccomp filter (mode 2).
  auto r = Run(*sandbox, "grep -h -E '^(NoNewPrivs|Seccomp):' /proc/1/status /proc/self/status");
  EXPECT_THAT(Texts(r, "stdout"),
              ElementsAre("NoNewPrivs:\t1", "Seccomp:\t2", "NoNewPrivs:\t1", "Seccomp:\t2"))
      << Describe(r);
}

TEST_F(Isolation, CapabilitiesAreAContainers) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  // chown, dac_override, fowner, fsetid, kill, setgid, setuid, setpcap, net_bind_service,
  // net_raw, sys_chroot, mknod, audit_write, setfcap: bits 0-8, 10, 13, 18, 27, 29, 31.
  auto r = Run(*sandbox, "grep -h -E '^Cap(Bnd|Eff|Prm):' /proc/1/status /proc/self/status");
  EXPECT_THAT(Texts(r, "stdout"),
              ElementsAre("CapPrm:\t00000000a80425fb", "CapEff:\t00000000a80425fb",
                          "CapBnd:\t00000000a80425fb", "CapPrm:\t00000000a80425fb",
                          "CapEff:\t00000000a80425fb", "CapBnd:\t00000000a80425fb"))
      << Describe(r);
  // What root may still do inside: chown to another id.
  auto chown = Run(*sandbox, "touch /tmp/f && chown 65534:65534 /tmp/f && stat -c %u /tmp/f");
  EXPECT_EQ(Stdout(chown), "65534") << Describe(chown);
}

TEST_F(Isolation, TheSeccompFilterRefusesWhatASandboxNeverNeeds) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  // Each call through libc's syscall(), printing its errno: 1 is EPERM, 38 ENOSYS.
  const std::string program = R"PY(
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
calls = {"keyctl": (250, 0), "bpf": (321, 0, 0, 0), "kexec_load": (246, 0, 0, 0, 0),
         "init_module": (175, 0, 0, 0), "mount": (165, b"none", b"/mnt", b"tmpfs", 0, 0),
         "unshare_user": (272, 0x10000000), "clone3": (435, 0, 0),
         "perf_event_open": (298, 0, 0, -1, -1, 0), "userfaultfd": (323, 0),
         "unshare_files": (272, 0x400)}
for name, args in calls.items():
    rc = libc.syscall(*args)
    print(name, 0 if rc == 0 else ctypes.get_errno())
)PY";
  auto r = Run(*sandbox, "python3 -c '" + program + "'");
  EXPECT_THAT(Texts(r, "stdout"),
              ElementsAre("keyctl 1", "bpf 1", "kexec_load 1", "init_module 1", "mount 1",
                          "unshare_user 1", "clone3 38", "perf_event_open 1", "userfaultfd 1",
                          "unshare_files 0"))
      << Describe(r);
  // Ordinary work is untouched: processes, threads, files, the network's loopback.
  auto ok = Run(*sandbox, "python3 -c 'import threading, subprocess; t = threading.Thread("
                          "target=print, args=(\"thread\",)); t.start(); t.join(); "
                          "print(subprocess.run([\"echo\", \"child\"], capture_output=True, "
                          "text=True).stdout.strip())'");
  EXPECT_EQ(Stdout(ok), "thread\nchild") << Describe(ok);
}

TEST_F(Isolation, SandboxesCannotSeeEachOthersProcesses) {
  const std::string marker = "osb-mine-" + rest::RandomHex(6);
  auto a = CreateSandbox(CreateBody({"/bin/bash", "-c", "sleep 100000; : " + marker}));
  auto b = CreateSandbox();
  ASSERT_TRUE(a.has_value() && b.has_value());
  ASSERT_TRUE(WaitForHostProcess(marker)) << "the entrypoint did not start";
  auto in_a = Run(*a, "ps -e -o args=");
  auto in_b = Run(*b, "ps -e -o args=");
  ASSERT_EQ(ExitCode(in_a), 0) << Describe(in_a);
  ASSERT_EQ(ExitCode(in_b), 0) << Describe(in_b);
  EXPECT_THAT(Stdout(in_a), HasSubstr(marker)) << "the entrypoint is not running";
  EXPECT_THAT(Stdout(in_b), Not(HasSubstr(marker)));
}

// --- Kill ----------------------------------------------------------------------------------------

class Kill : public RuntimeTest {};

TEST_F(Kill, DeleteKillsEveryProcess) {
  const std::string marker = "osb-kill-" + rest::RandomHex(6);
  auto sandbox = CreateSandbox(CreateBody({"/bin/bash", "-c", "sleep 100000; : entry-" + marker}));
  ASSERT_TRUE(sandbox.has_value());
  auto r = Run(*sandbox, absl::StrCat("nohup /bin/bash -c 'sleep 1000; : bg-", marker,
                                      "' >/dev/null 2>&1 & echo started"));
  ASSERT_EQ(ExitCode(r), 0) << Describe(r);
  EXPECT_THAT(ProcessesMatching(sandbox->id), Not(IsEmpty()));
  EXPECT_TRUE(WaitForHostProcess("entry-" + marker)) << "the entrypoint is not running";
  EXPECT_TRUE(WaitForHostProcess("bg-" + marker)) << "the background job is not running";

  auto del = api_->Delete("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(del);
  ASSERT_EQ(del->status, 204) << del->body;
  EXPECT_THAT(ProcessesMatching(sandbox->id), IsEmpty());
  EXPECT_THAT(ProcessesMatching("entry-" + marker), IsEmpty());
  EXPECT_THAT(ProcessesMatching("bg-" + marker), IsEmpty());
}

TEST_F(Kill, DeleteRemovesSandboxDirectory) {
  auto sandbox = CreateSandbox();
  ASSERT_TRUE(sandbox.has_value());
  const std::string dir = runtime_->state_dir() + "/sandboxes/" + sandbox->id;
  ASSERT_TRUE(PathExists(dir));
  auto r = Run(*sandbox, "echo data > /kept-in-upper && dd if=/dev/zero of=/big bs=1M count=4");
  ASSERT_EQ(ExitCode(r), 0) << Describe(r);
  auto del = api_->Delete("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(del);
  ASSERT_EQ(del->status, 204) << del->body;
  // Its id is unknown at once; its directory goes right behind the answer.
  auto gone = api_->Get("/v1/sandboxes/" + sandbox->id);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_TRUE(GoneWithin(dir));
}

}  // namespace
}  // namespace osb::test
