// osbctl: the command line of OpenSandbox-C++. Talks to osbd over gRPC, starting it when no
// daemon answers. Exit status: the remote command's for `run`; 0 on success otherwise;
// 125 when osbctl, osbd or the sandbox service fails (as `docker run` does).
#include <grpc/grpc.h>
#include <grpcpp/client_context.h>
#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/src/daemon_channel.h"
#include "client/osbctl/batch_command.h"
#include "client/osbctl/code_commands.h"
#include "client/osbctl/completion.h"
#include "client/osbctl/config_file.h"
#include "client/osbctl/file_commands.h"
#include "client/osbctl/key_value_flags.h"
#include "client/osbctl/output.h"
#include "client/osbctl/preset_commands.h"
#include "client/osbctl/sandbox_commands.h"
#include "client/osbctl/snapshot_commands.h"
#include "client/osbctl/shell_quote.h"
#include "google/protobuf/util/time_util.h"
#include "opensandbox/v1/commands.grpc.pb.h"
#include "opensandbox/v1/daemon.grpc.pb.h"
#include "opensandbox/v1/pools.grpc.pb.h"
#include "opensandbox/v1/sandboxes.grpc.pb.h"
#include "rest/sys/default_paths.h"

namespace {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

using osb::cli::Fail;
using osb::cli::kToolFailure;
using osb::cli::PrintJson;
using osb::cli::WriteAll;

struct CreateFlags {
  std::string image = "host";
  std::string snapshot;  // instead of the image
  int64_t timeout_seconds = 0;  // 0: the daemon's default (600 s)
  bool manual_cleanup = false;
  std::vector<std::string> env, metadata, resources;  // KEY=VALUE each
  std::string network_default;  // allow or deny; empty: no network policy unless rules
  std::vector<std::string> egress_rules;  // allow=HOST or deny=HOST, first match wins
  int lease_pid = 0;  // 0: no lease
  bool renew_while_alive = false;
};

void AddCreateFlags(CLI::App* cmd, CreateFlags& f) {
  cmd->add_option("--image", f.image, "image name (osb-runtime: any name runs the host base)")
      ->capture_default_str();
  cmd->add_option("--snapshot", f.snapshot, "start from this snapshot instead of an image");
  cmd->add_option("--timeout", f.timeout_seconds, "seconds until the sandbox expires (≥ 60)");
  cmd->add_flag("--manual-cleanup", f.manual_cleanup, "no expiry: the sandbox lives until killed");
  cmd->add_option("-e,--env", f.env, "KEY=VALUE in the sandbox's environment (repeatable)");
  cmd->add_option("-m,--metadata", f.metadata, "KEY=VALUE label, for list --metadata (repeatable)");
  cmd->add_option("--resource", f.resources,
                  "resource limit: cpu=500m, memory=512Mi, gpu=1 (repeatable; default cpu=1, "
                  "memory=2Gi)");
  cmd->add_option("--network-default", f.network_default,
                  "outbound traffic that no --egress-rule matches: allow or deny (with rules "
                  "only: deny)")
      ->check(CLI::IsMember({"allow", "deny"}));
  cmd->add_option("--egress-rule", f.egress_rules,
                  "allow=HOST or deny=HOST (*.example.com for a domain's hosts); repeatable, the "
                  "first match wins");
  cmd->add_option("--lease-pid", f.lease_pid,
                  "kill the sandbox when this process exits (e.g. $$, your shell)")
      ->check(CLI::Range(1, INT_MAX));
  cmd->add_flag("--renew-while-alive", f.renew_while_alive,
                "with --lease-pid: also renew the sandbox's expiry while that process lives");
}

// "allow" or "deny" as a NetworkAction; NETWORK_ACTION_UNSPECIFIED for anything else.
v1::NetworkAction ParseNetworkAction(const std::string& name) {
  if (name == "allow") return v1::NETWORK_ACTION_ALLOW;
  if (name == "deny") return v1::NETWORK_ACTION_DENY;
  return v1::NETWORK_ACTION_UNSPECIFIED;
}

// The request `f` describes, into `r`; false (with one line on stderr) for a malformed value.
bool BuildCreateRequest(const CreateFlags& f, v1::CreateSandboxRequest* r) {
  if (f.snapshot.empty()) {
    r->set_image(f.image);
  } else {
    r->set_snapshot_id(f.snapshot);
  }
  r->set_manual_cleanup(f.manual_cleanup);
  if (f.timeout_seconds > 0) {
    *r->mutable_timeout() = TimeUtil::SecondsToDuration(f.timeout_seconds);
  }
  if (f.lease_pid > 0) {
    r->set_lease(f.renew_while_alive ? v1::LEASE_MODE_RENEW_WHILE_ALIVE
                                     : v1::LEASE_MODE_KILL_ON_EXIT);
    r->set_lease_pid(f.lease_pid);
  }
  if (!osb::cli::ParseKeyValues(f.env, "--env", r->mutable_env()) ||
      !osb::cli::ParseKeyValues(f.metadata, "--metadata", r->mutable_metadata()) ||
      !osb::cli::ParseKeyValues(f.resources, "--resource", r->mutable_resource_limits())) {
    return false;
  }
  if (f.network_default.empty() && f.egress_rules.empty()) return true;
  v1::NetworkPolicy* policy = r->mutable_network_policy();
  // With rules and no default the sidecar denies the rest; saying so keeps the request explicit.
  policy->set_default_action(ParseNetworkAction(f.network_default.empty() ? "deny"
                                                                          : f.network_default));
  for (const auto& rule : f.egress_rules) {
    const std::size_t eq = rule.find('=');
    const v1::NetworkAction action =
        ParseNetworkAction(eq == std::string::npos ? "" : rule.substr(0, eq));
    if (action == v1::NETWORK_ACTION_UNSPECIFIED || eq + 1 == rule.size()) {
      std::fprintf(stderr, "osbctl: --egress-rule %s: expected allow=HOST or deny=HOST\n",
                   rule.c_str());
      return false;
    }
    v1::NetworkRule* added = policy->add_egress();
    added->set_action(action);
    added->set_target(rule.substr(eq + 1));
  }
  return true;
}

// Streams the command's output to our stdout and stderr as it arrives, in a bash session when
// `session_id` is not empty; returns its exit status. A `background` command is only started:
// its id goes to stdout, for `command logs|status|interrupt`.
int RunCommand(v1::Commands::Stub& commands, const std::string& sandbox_id,
               const std::string& command, grpc::ClientContext& ctx,
               const std::string& session_id = "", bool background = false) {
  std::unique_ptr<grpc::ClientReader<v1::CommandEvent>> reader;
  if (session_id.empty()) {
    v1::RunCommandRequest request;
    request.set_sandbox_id(sandbox_id);
    request.set_command(command);
    request.set_background(background);
    reader = commands.Run(&ctx, request);
  } else {
    v1::RunInSessionRequest request;
    request.set_sandbox_id(sandbox_id);
    request.set_session_id(session_id);
    request.set_command(command);
    reader = commands.RunInSession(&ctx, request);
  }
  v1::CommandEvent event;
  std::optional<int> exit_code;
  while (reader->Read(&event)) {
    switch (event.kind_case()) {
      case v1::CommandEvent::kStarted:
        if (background) std::printf("%s\n", event.started().command_id().c_str());
        break;
      case v1::CommandEvent::kStdout:
      case v1::CommandEvent::kStderr: {
        const std::string& line =
            event.has_stdout() ? event.stdout().data() : event.stderr().data();
        // execd reports a line without its newline, and an empty line as "\n".
        WriteAll(event.has_stdout() ? 1 : 2, line == "\n" ? line : line + "\n");
        break;
      }
      case v1::CommandEvent::kCompleted:
        exit_code = 0;
        break;
      case v1::CommandEvent::kFailed: {
        const auto& failed = event.failed();
        if (failed.has_exit_code()) {
          exit_code =
              failed.exit_code() >= 0 && failed.exit_code() < 256 ? failed.exit_code() : 137;
        } else {
          std::fprintf(stderr, "osbctl: the command could not run: %s\n", failed.value().c_str());
          exit_code = 127;
        }
        break;
      }
      case v1::CommandEvent::kBroken:
        std::fprintf(stderr, "osbctl: lost the stream of command %s: %s\n",
                     event.broken().command_id().c_str(), event.broken().reason().c_str());
        break;
      default:
        break;
    }
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Fail(status, "command");
  return exit_code.value_or(kToolFailure);
}

// Makes every flag of `app` and its subcommands take one value per occurrence (`-e A=1 -e B=2`).
// CLI11 (2.1) lets a repeatable flag take the words after it, and then runs on past `--` too:
// `run -e A=1 -- bash -c X` failed with "-c not expected".
void OneValuePerFlag(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (option->nonpositional()) option->allow_extra_args(false);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) OneValuePerFlag(*sub);
}

int Osbctl(int argc, char** argv) {
  // A file streamed to or from a sandbox allocates and frees the same few chunk-sized buffers
  // (ours, gRPC's) over and over. With glibc's defaults the heap's top went back to the kernel
  // after each and was faulted in again: a third of an upload's time.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  CLI::App app{"osbctl: run untrusted code in OpenSandbox sandboxes through osbd"};
  app.require_subcommand(1);
  auto config = osb::cli::LoadCliConfig();
  if (!config.ok()) {
    std::fprintf(stderr, "osbctl: config: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  // Defaults: the environment, then the config file, then osbctl's own; flags override them.
  std::string socket_path;
  if (const char* env = std::getenv("OSBD_SOCKET"); env != nullptr && *env) socket_path = env;
  if (socket_path.empty()) socket_path = config->socket.value_or(osb::DefaultSocketPath());
  app.add_option("--socket", socket_path,
                 "osbd's Unix socket (env OSBD_SOCKET; `socket` in " + osb::cli::CliConfigPath() +
                     ")")
      ->capture_default_str();
  app.set_version_flag("--version", "osbctl 0.1.0");
  std::string output_format = config->output.value_or("json");
  app.add_option("-o,--output", output_format, "how results print: json, yaml, raw or table")
      ->check(CLI::IsMember({"json", "yaml", "raw", "table"}))
      ->capture_default_str();

  CreateFlags defaults;
  if (config->image.has_value()) defaults.image = *config->image;
  if (config->timeout_seconds.has_value()) defaults.timeout_seconds = *config->timeout_seconds;
  CreateFlags run_flags = defaults;
  std::vector<std::string> run_args;
  CLI::App* run = app.add_subcommand("run", "create a sandbox, run a command in it, kill it");
  AddCreateFlags(run, run_flags);
  std::string run_pool;
  run->add_option("--pool", run_pool,
                  "take a ready sandbox from this warm pool (created at once when it is empty) "
                  "instead of creating one; the pool's template sets the image and the rest")
      ->excludes("--image")
      ->excludes("--snapshot")
      ->excludes("--timeout")
      ->excludes("--manual-cleanup")
      ->excludes("--env")
      ->excludes("--metadata")
      ->excludes("--resource")
      ->excludes("--network-default")
      ->excludes("--egress-rule")
      ->excludes("--lease-pid")
      ->excludes("--renew-while-alive");
  run->add_option("command", run_args, "the command (after --): one argument is a shell line")
      ->required();

  osb::cli::SandboxCommands sandbox_commands(app);
  CreateFlags create_flags = defaults;
  CLI::App* create =
      sandbox_commands.sandbox_app()->add_subcommand("create", "create a sandbox and print its id");
  AddCreateFlags(create, create_flags);

  osb::cli::FileCommands file_commands(app);
  osb::cli::PresetCommands preset_commands(app);
  osb::cli::CodeCommands code_commands(app);
  osb::cli::SnapshotCommands snapshot_commands(app);
  std::string command_sandbox;
  std::vector<std::string> command_args;
  CLI::App* command_run =
      file_commands.command_app()->add_subcommand("run", "run a command in a sandbox, streamed");
  command_run->add_option("id", command_sandbox, "sandbox id")->required();
  command_run
      ->add_option("command", command_args, "the command (after --): one argument is a shell line")
      ->required();
  bool command_background = false;
  command_run->add_flag("--background", command_background,
                        "start it detached and print its id (output: `command logs`)");
  std::string batch_file;
  CLI::App* command_batch = file_commands.command_app()->add_subcommand(
      "batch", "run the jobs of a JSON or YAML file; prints each result as a JSON line");
  command_batch->add_option("file", batch_file, "a RunBatchRequest in proto JSON or YAML")
      ->required()
      ->check(CLI::ExistingFile);
  std::string command_session;
  CLI::App* session_run = file_commands.session_app()->add_subcommand(
      "run", "run a command in a session, streamed (stderr is merged into stdout)");
  session_run->add_option("id", command_sandbox, "sandbox id")->required();
  session_run->add_option("session_id", command_session, "id of the session")->required();
  session_run
      ->add_option("command", command_args, "the command (after --): one argument is a shell line")
      ->required();

  std::string completion_shell;
  CLI::App* completion = app.add_subcommand(
      "completion", "print a completion script: source <(osbctl completion bash)");
  completion->add_option("shell", completion_shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));

  CLI::App* daemon = app.add_subcommand("daemon", "the local osbd");
  daemon->require_subcommand(1);
  CLI::App* daemon_status = daemon->add_subcommand("status", "print osbd's version and upstream");
  CLI::App* daemon_stop = daemon->add_subcommand("stop", "stop osbd (sandboxes keep running)");
  bool stop_runtime = false;
  daemon_stop->add_flag("--runtime", stop_runtime,
                        "also stop the embedded osb-runtime osbd uses (its sandboxes keep "
                        "running, for its next start)");
  CLI::App* daemon_stats =
      daemon->add_subcommand("stats", "print osbd's per-call counts, latencies and gauges as JSON");
  OneValuePerFlag(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2, as shells expect.
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (*completion) {
    std::fputs(osb::cli::CompletionScript(app, completion_shell).c_str(), stdout);
    return 0;
  }

  osb::cli::ResultFormat format = osb::cli::ResultFormat::kJson;
  osb::cli::ParseResultFormat(output_format, &format);
  osb::cli::SetResultFormat(format);

  // Malformed flag values are usage errors, reported before osbd is started or called.
  v1::CreateSandboxRequest create_request;
  if ((*create || *run) &&
      !BuildCreateRequest(*create ? create_flags : run_flags, &create_request)) {
    return 2;
  }
  if (!sandbox_commands.Prepare()) return 2;

  // Ctrl-C and SIGTERM cancel the call in flight; `run` then still kills its sandbox.
  // Static, as the call state below: the signal thread that uses them outlives this function
  // (main ends the process with _Exit, after it returns).
  static sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  // `daemon` commands talk to a running osbd only: starting one to ask about it would be absurd.
  auto channel =
      *daemon ? opensandbox::internal::ConnectToDaemon(socket_path, absl::Seconds(2))
              : opensandbox::internal::ConnectOrStartDaemon(socket_path,
                                                            osb::PathBesideSelf("osbd"));
  if (!channel.ok() && *daemon_stop) {
    std::fprintf(stderr, "osbctl: osbd is not running on %s\n", socket_path.c_str());
    return 0;
  }
  if (!channel.ok()) {
    std::fprintf(stderr, "osbctl: %s\n", std::string(channel.status().message()).c_str());
    return kToolFailure;
  }
  auto sandboxes = v1::Sandboxes::NewStub(*channel);
  auto commands = v1::Commands::NewStub(*channel);
  auto pools = v1::Pools::NewStub(*channel);

  static grpc::ClientContext call;  // the long call a signal cancels
  static std::atomic<bool> interrupted{false};
  // A second call a signal cancels as well (run's command stream), while it exists.
  static absl::Mutex second_call_mu;
  static grpc::ClientContext* second_call = nullptr;
  std::thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    interrupted = true;
    call.TryCancel();
    absl::MutexLock lock(&second_call_mu);
    if (second_call != nullptr) second_call->TryCancel();
  }).detach();
  // Makes `ctx` the second call while `fn` runs.
  auto as_second_call = [&](grpc::ClientContext& ctx, const auto& fn) {
    {
      absl::MutexLock lock(&second_call_mu);
      if (interrupted) ctx.TryCancel();
      second_call = &ctx;
    }
    auto result = fn();
    absl::MutexLock lock(&second_call_mu);
    second_call = nullptr;
    return result;
  };

  if (file_commands.Chosen()) return file_commands.Run(*channel, call);
  if (preset_commands.Chosen()) return preset_commands.Run(*channel, call);
  if (snapshot_commands.Chosen()) return snapshot_commands.Run(*channel, call);
  if (code_commands.Chosen()) {
    int code = code_commands.Run(*channel, call);
    return interrupted ? 130 : code;
  }
  if (*command_batch) return osb::cli::RunBatchFile(*commands, call, batch_file);
  if (*command_run || *session_run) {
    int code = RunCommand(*commands, command_sandbox, osb::cli::CommandLine(command_args), call,
                          command_session, command_background);
    return interrupted ? 130 : code;
  }
  if (*create || *run) {
    v1::Sandbox created;
    grpc::Status status;
    if (*run && run_pool.empty() && create_request.lease_pid() == 0) {
      // A run's sandbox is tied to this process, as a pooled one is: a run cut short (kill -9
      // included) still ends it. The kill at the end stays: it is done when osbctl returns.
      // Where osbd cannot watch this process (another user's, or of another pid namespace),
      // the run goes on without the lease.
      create_request.set_lease(v1::LEASE_MODE_KILL_ON_EXIT);
      create_request.set_lease_pid(static_cast<int32_t>(::getpid()));
      grpc::ClientContext leased_call;
      status = as_second_call(leased_call, [&] {
        return sandboxes->Create(&leased_call, create_request, &created);
      });
      const bool lease_refused =
          (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
           status.error_code() == grpc::StatusCode::PERMISSION_DENIED) &&
          absl::StrContains(status.error_message(), "lease_pid");
      if (lease_refused && !interrupted) {
        create_request.clear_lease();
        create_request.clear_lease_pid();
        status = sandboxes->Create(&call, create_request, &created);
      }
    } else if (run_pool.empty()) {
      status = sandboxes->Create(&call, create_request, &created);
    } else {
      // Tied to this process: a run cut short (kill -9 included) still ends its sandbox.
      v1::AcquireSandboxRequest acquire;
      acquire.set_pool_name(run_pool);
      acquire.set_policy(v1::ACQUIRE_POLICY_DIRECT_CREATE);
      acquire.set_lease(v1::LEASE_MODE_KILL_ON_EXIT);
      acquire.set_lease_pid(static_cast<int32_t>(::getpid()));
      v1::AcquireSandboxResponse acquired;
      status = pools->Acquire(&call, acquire, &acquired);
      created = acquired.sandbox();
    }
    if (!status.ok()) return interrupted ? 130 : Fail(status, "create sandbox");
    if (*create) {
      std::printf("%s\n", created.id().c_str());
      return 0;
    }
    grpc::ClientContext run_call;
    int code = as_second_call(run_call, [&] {
      return RunCommand(*commands, created.id(), osb::cli::CommandLine(run_args), run_call);
    });
    grpc::ClientContext kill_call;
    grpc::Status kill_status;
    if (run_pool.empty()) {
      v1::KillSandboxRequest kill_request;
      kill_request.set_sandbox_id(created.id());
      v1::KillSandboxResponse killed;
      kill_status = sandboxes->Kill(&kill_call, kill_request, &killed);
    } else {  // a sandbox that ran a command is never handed out again
      v1::ReleaseSandboxRequest release;
      release.set_pool_name(run_pool);
      release.set_sandbox_id(created.id());
      v1::ReleaseSandboxResponse released;
      kill_status = pools->Release(&kill_call, release, &released);
    }
    if (!kill_status.ok()) Fail(kill_status, "kill sandbox " + created.id());
    return interrupted ? 130 : code;
  }
  if (sandbox_commands.Chosen()) return sandbox_commands.Run(*channel, call, interrupted);
  auto daemon_stub = v1::Daemon::NewStub(*channel);
  if (*daemon_status) {
    v1::GetVersionRequest request;
    request.set_client_version("osbctl/0.1.0");
    v1::GetVersionResponse version;
    grpc::Status status = daemon_stub->GetVersion(&call, request, &version);
    if (!status.ok()) return Fail(status, "daemon status");
    PrintJson(version);
    return 0;
  }
  if (*daemon_stats) {
    v1::DaemonStats stats;
    grpc::Status status = daemon_stub->GetStats(&call, v1::GetDaemonStatsRequest(), &stats);
    if (!status.ok()) return Fail(status, "daemon stats");
    PrintJson(stats);
    return 0;
  }
  if (*daemon_stop) {
    v1::ShutdownRequest request;
    request.set_stop_embedded_runtime(stop_runtime);
    v1::ShutdownResponse stopped;
    grpc::Status status = daemon_stub->Shutdown(&call, request, &stopped);
    if (!status.ok()) return Fail(status, "daemon stop");
    return 0;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A reference to gRPC held to the end, so that it is never torn down: every call has ended and
  // every line is written when Osbctl returns, and the process ends there, without joining
  // gRPC's threads and freeing its state (a millisecond or more of a short command's life).
  grpc_init();
  const int code = Osbctl(argc, argv);
  std::fflush(nullptr);
  std::_Exit(code);
}
