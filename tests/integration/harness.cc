#include "tests/integration/harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "rest/sys/process.h"

namespace osb::test {
namespace {

std::string ReadAll(const std::string& path) {
  auto s = ReadFile(path);
  return s.ok() ? *s : "";
}

bool WaitForFile(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  struct stat st {};
  while (absl::Now() < deadline) {
    if (::stat(path.c_str(), &st) == 0) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

// Deletes every sandbox the runtime lists, until it lists none (a delete of a sandbox still
// being created waits for the create).
void KillAllSandboxes(httplib::Client& client) {
  for (int round = 0; round < 5; ++round) {
    auto list = client.Get("/v1/sandboxes?pageSize=200");
    if (!list || list->status != 200) return;
    auto j = nlohmann::json::parse(list->body, nullptr, false);
    if (!j.is_object() || j.value("items", nlohmann::json::array()).empty()) return;
    for (const auto& item : j["items"]) {
      client.Delete(absl::StrCat("/v1/sandboxes/", item.value("id", "")));
    }
  }
}

// Sandboxes a stopped runtime leaves behind: one whose create was still on its way in when the
// list above was taken, or that a runtime stopping mid-create left Pending (its next start would
// destroy it; a test's runtime has none). Each agent is its sandbox's init, so killing it ends
// everything inside; then its (empty) cgroups go. No test leaves processes behind.
void SweepLeftoverSandboxes(const std::string& runtime_state_dir) {
  const std::string sandboxes = runtime_state_dir + "/sandboxes/";
  std::vector<pid_t> agents = ProcessesMatching("--sandbox-dir " + sandboxes);
  for (pid_t pid : agents) {
    std::cerr << "harness: killing a sandbox left behind (osb-agent pid " << pid << ")\n";
    ::kill(pid, SIGKILL);
  }
  if (agents.empty()) return;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  for (pid_t pid : agents) {
    while (ProcessRunning(pid) && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(sandboxes.c_str()), ::closedir);
  while (dir != nullptr) {
    dirent* e = ::readdir(dir.get());
    if (e == nullptr) break;
    if (e->d_name[0] == '.') continue;
    for (const char* pattern : {"/sys/fs/cgroup/opensandbox/", "/sys/fs/cgroup/*/opensandbox/"}) {
      glob_t found{};
      if (::glob(absl::StrCat(pattern, e->d_name).c_str(), 0, nullptr, &found) == 0) {
        for (size_t i = 0; i < found.gl_pathc; ++i) {
          // Busy for a moment after its last process died, as the runtime also finds.
          while (::rmdir(found.gl_pathv[i]) != 0 && errno == EBUSY && absl::Now() < deadline) {
            absl::SleepFor(absl::Milliseconds(10));
          }
        }
      }
      ::globfree(&found);
    }
  }
}

std::unique_ptr<httplib::Client> MakeClient(const std::string& address, const std::string& key) {
  auto client = std::make_unique<httplib::Client>("http://" + address);
  client->set_default_headers({{"OPEN-SANDBOX-API-KEY", key}});
  client->set_read_timeout(60, 0);
  return client;
}

}  // namespace

pid_t Spawn(const std::vector<std::string>& args, const std::string& log_path) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    ::setpgid(0, 0);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

void StopProcess(pid_t pid, bool is_child) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    if (is_child ? ::waitpid(pid, nullptr, WNOHANG) == pid : !ProcessRunning(pid)) return;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  if (is_child) ::waitpid(pid, nullptr, 0);
}

bool PathExists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool GoneWithin(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (PathExists(path)) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// A failed test shows what its servers logged (a crash report included): CI keeps no files.
void PrintLogsIfFailed(const std::vector<std::string>& paths) {
  if (!::testing::Test::HasFailure()) return;
  for (const auto& path : paths) std::cerr << "---- " << path << "\n" << ReadAll(path) << "\n";
}

std::string BinDir() { return OSB_BIN_DIR; }

std::unique_ptr<RuntimeProcess> RuntimeProcess::Start(const std::vector<std::string>& extra_args) {
  std::unique_ptr<RuntimeProcess> r(new RuntimeProcess());
  r->state_dir_ = r->dir_.path() + "/state";
  r->args_ = {BinDir() + "/osb-runtime",
              "--listen",
              "127.0.0.1:0",
              "--state-dir",
              r->state_dir_,
              "--api-key",
              r->api_key_,
              "--ready-file",
              r->dir_.path() + "/ready.json"};
  r->args_.insert(r->args_.end(), extra_args.begin(), extra_args.end());
  if (!r->Launch()) return nullptr;
  return r;
}

bool RuntimeProcess::Launch() {
  const std::string ready = dir_.path() + "/ready.json";
  ::unlink(ready.c_str());
  pid_ = Spawn(args_, log_path());
  if (!WaitForFile(ready, absl::Seconds(20))) {
    ADD_FAILURE() << "osb-runtime did not start: " << ReadAll(log_path());
    address_.clear();
    return false;
  }
  address_ = nlohmann::json::parse(ReadAll(ready))["address"];
  return true;
}

bool RuntimeProcess::Restart(const std::function<void()>& while_down) {
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  if (while_down) while_down();
  return Launch();
}

RuntimeProcess::~RuntimeProcess() {
  if (!address_.empty()) KillAllSandboxes(*Client());
  StopProcess(pid_, /*is_child=*/true);
  SweepLeftoverSandboxes(state_dir_);
  PrintLogsIfFailed({log_path()});
}

std::unique_ptr<httplib::Client> RuntimeProcess::Client() const {
  return MakeClient(address_, api_key_);
}

std::unique_ptr<Stack> Stack::Start() {
  std::unique_ptr<Stack> s(new Stack());
  s->socket_ = s->dir_.path() + "/run/osbd.sock";
  if (!s->StartOsbd()) return nullptr;
  return s;
}

bool Stack::StartOsbd() {
  const std::string state = dir_.path() + "/state";
  osbd_pid_ = Spawn({BinDir() + "/osbd", "--socket", socket_, "--state-dir", state,
                     "--embedded-listen", "127.0.0.1:0"},
                    dir_.path() + "/osbd.log");
  const std::string ready = state + "/runtime/ready.json";
  if (!WaitForFile(socket_, absl::Seconds(30)) || !WaitForFile(ready, absl::Seconds(5))) {
    ADD_FAILURE() << "osbd did not start: " << ReadAll(dir_.path() + "/osbd.log")
                  << ReadAll(state + "/runtime/runtime.log");
    return false;
  }
  channel_ = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
  if (!channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    ADD_FAILURE() << "cannot connect to osbd at " << socket_;
    return false;
  }
  // osbd found or started its runtime before it made its socket: ready.json is current.
  auto ready_json = nlohmann::json::parse(ReadAll(ready), nullptr, /*allow_exceptions=*/false);
  if (!ready_json.is_object()) {
    ADD_FAILURE() << "unreadable " << ready;
    return false;
  }
  runtime_address_ = ready_json.value("address", "");
  runtime_pid_ = ready_json.value("pid", -1);
  runtime_api_key_ =
      std::string(absl::StripAsciiWhitespace(ReadAll(state + "/runtime/api-key")));
  return true;
}

void Stack::StopOsbd() {
  channel_.reset();
  StopProcess(osbd_pid_, /*is_child=*/true);
  osbd_pid_ = -1;
}

bool Stack::RestartOsbd() {
  StopOsbd();
  return StartOsbd();
}

Stack::~Stack() {
  // osbd first, so that nothing creates sandboxes behind the cleanup (a pool refilling, a create
  // a test left in flight).
  StopOsbd();
  if (!runtime_address_.empty()) KillAllSandboxes(*RuntimeClient());
  StopProcess(runtime_pid_, /*is_child=*/false);
  SweepLeftoverSandboxes(dir_.path() + "/state/runtime");
  PrintLogsIfFailed({dir_.path() + "/osbd.log", dir_.path() + "/state/runtime/runtime.log"});
}

std::unique_ptr<httplib::Client> Stack::RuntimeClient() const {
  return MakeClient(runtime_address_, runtime_api_key_);
}

SleepingChild::SleepingChild() {
  pid_ = ::fork();
  if (pid_ == 0) {
    ::execl("/bin/sleep", "sleep", "300", static_cast<char*>(nullptr));
    ::_exit(127);
  }
}

void SleepingChild::Exit() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void SetDeadline(grpc::ClientContext& ctx, absl::Duration d) {
  ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(d));
}

std::vector<pid_t> ProcessesMatching(const std::string& needle) {
  std::vector<pid_t> pids;
  std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
  while (dirent* e = ::readdir(proc.get())) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::string cmdline = ReadAll(absl::StrCat("/proc/", pid, "/cmdline"));
    for (char& c : cmdline) {
      if (c == '\0') c = ' ';
    }
    if (cmdline.find(needle) != std::string::npos) pids.push_back(pid);
  }
  return pids;
}

}  // namespace osb::test
