// Real processes on temporary paths for integration tests: osb-runtime alone (RuntimeProcess) or
// the whole stack, osbd with its embedded osb-runtime (Stack). Both clean up everything they
// started, sandboxes included, even when a test fails.
//
//   auto stack = osb::test::Stack::Start();
//   ASSERT_NE(stack, nullptr);
//   auto sandboxes = opensandbox::v1::Sandboxes::NewStub(stack->channel());
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <httplib.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "rest/sys/process.h"
#include "tests/temp_dir.h"

namespace osb::test {

// Whether a bound on a process's memory means anything in this build: AddressSanitizer keeps
// freed memory in quarantine, so sanitized builds check what was stored, not how much was held.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kMemoryBoundsHold = false;
#else
inline constexpr bool kMemoryBoundsHold = true;
#endif
// Whether this is a sanitized build, where the daemon's per-event work is tens of times slower:
// volume tests move less there, so they prove the same within their deadlines.
inline constexpr bool kSanitized = !kMemoryBoundsHold;

// Gives a gRPC call a deadline, so that a hung daemon fails the test instead of stalling it.
void SetDeadline(grpc::ClientContext& ctx, absl::Duration d = absl::Seconds(60));

// Directory of the built binaries (osbd, osbctl, osb-runtime, osb-agent).
std::string BinDir();

// The pieces the process classes here are made of, for test-specific ones (OsbdProcess).
// Starts argv[0] in its own process group, stdin /dev/null, stdout and stderr appended to
// `log_path`; the child's pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log_path);
// SIGTERM, then SIGKILL after 5 s; reaps it when it is our child.
void StopProcess(pid_t pid, bool is_child);
// When the current test has failed, prints these files (servers' logs) to stderr.
void PrintLogsIfFailed(const std::vector<std::string>& paths);

// Whether `path` exists on the host (a link counts as itself, not followed).
bool PathExists(const std::string& path);

// Whether `path` (not followed if a link) is gone now or within `timeout`: what osb-runtime
// releases behind a kill's answer (a sandbox's directory, cgroup and record) is gone shortly after.
bool GoneWithin(const std::string& path, absl::Duration timeout = absl::Seconds(5));

// osb-runtime serving on 127.0.0.1:<ephemeral> with the API key "test-key".
class RuntimeProcess {
 public:
  // nullptr (with a test failure recorded) when it does not come up. `extra_args` are added to
  // osb-runtime's command line.
  static std::unique_ptr<RuntimeProcess> Start(const std::vector<std::string>& extra_args = {});
  ~RuntimeProcess();  // kills every sandbox through the API, then the runtime

  const std::string& address() const { return address_; }
  const std::string& api_key() const { return api_key_; }
  const std::string& state_dir() const { return state_dir_; }
  pid_t pid() const { return pid_; }
  std::string log_path() const { return dir_.path() + "/runtime.log"; }  // its stdout and stderr
  // A client for the lifecycle API with the API key set.
  std::unique_ptr<httplib::Client> Client() const;

  // Kills osb-runtime with SIGKILL, as a crash would, leaving its sandboxes running, calls
  // `while_down`, and starts it again on the same state directory (on a new port: address()
  // changes). False (with a test failure) when it does not come up again.
  bool Restart(const std::function<void()>& while_down = {});

 private:
  RuntimeProcess() = default;
  bool Launch();
  TempDir dir_;
  std::vector<std::string> args_;
  std::string address_, api_key_ = "test-key", state_dir_;
  pid_t pid_ = -1;
};

// osbd on a temporary socket, with the embedded osb-runtime it starts.
class Stack {
 public:
  static std::unique_ptr<Stack> Start();
  ~Stack();  // kills every sandbox, stops osbd and the runtime

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const std::string& socket_path() const { return socket_; }
  const std::string& runtime_address() const { return runtime_address_; }
  const std::string& runtime_api_key() const { return runtime_api_key_; }
  pid_t runtime_pid() const { return runtime_pid_; }
  pid_t osbd_pid() const { return osbd_pid_; }
  const std::string& dir() const { return dir_.path(); }
  std::unique_ptr<httplib::Client> RuntimeClient() const;

  // Stops osbd (SIGTERM, as a service manager would) and leaves the runtime and its sandboxes
  // running; StartOsbd starts it again on the same socket and state directory, and connects a
  // new channel() (and learns the runtime anew: osbd starts one when the last has stopped).
  // RestartOsbd does both. False (with a test failure) when osbd does not come up.
  void StopOsbd();
  bool StartOsbd();
  bool RestartOsbd();

 private:
  Stack() = default;
  TempDir dir_;
  std::string socket_, runtime_address_, runtime_api_key_;
  pid_t osbd_pid_ = -1, runtime_pid_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
};

// Runs a program, collecting stdout, stderr and the exit status (-1 if it did not exit):
// osb::RunToCompletion with a timeout no test reaches.
using ProcessResult = ChildResult;
inline ProcessResult RunProcess(const std::vector<std::string>& argv,
                                const std::vector<std::string>& extra_env = {}) {
  return RunToCompletion(argv, extra_env, absl::Minutes(10));
}

// A child process that only sleeps (5 minutes), to hold a lease; killed and reaped by Exit or
// the destructor.
class SleepingChild {
 public:
  SleepingChild();
  ~SleepingChild() { Exit(); }
  SleepingChild(const SleepingChild&) = delete;
  SleepingChild& operator=(const SleepingChild&) = delete;
  pid_t pid() const { return pid_; }
  void Exit();

 private:
  pid_t pid_ = -1;
};

// Ids of the processes whose command line contains `needle` (from /proc).
std::vector<pid_t> ProcessesMatching(const std::string& needle);

}  // namespace osb::test
