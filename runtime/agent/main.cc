// osb-agent: PID 1 and execd of one sandbox. Started by osb-runtime only, as root of the
// sandbox's fresh user namespace: it builds the sandbox's root filesystem, binds its API socket
// at a host path the runtime chose, moves into the new root, starts the sandbox's entrypoint and
// serves the execd API until the sandbox is killed.
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "rest/sys/file_util.h"
#include "runtime/agent/agent_server.h"
#include "runtime/agent/capability_bound.h"
#include "runtime/agent/env_file.h"
#include "runtime/agent/reaper.h"
#include "runtime/agent/readiness_port.h"
#include "runtime/agent/sandbox_root.h"
#include "runtime/agent/seccomp_filter.h"

extern char** environ;

namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "osb-agent: %s\n", std::string(status.message()).c_str());
  return 1;
}

// The configuration osb-runtime sends on `fd` (agent_launcher.h): {"args": [...], "env": [...]}.
// Sets the environment and returns the arguments, after the program name; nullopt when the
// runtime closed the pipe without sending any (a spare agent it no longer needs).
absl::StatusOr<std::optional<std::vector<std::string>>> ReadConfig(int fd) {
  auto read = osb::ReadToEnd(fd, "the configuration");
  ::close(fd);
  if (!read.ok()) return read.status();
  const std::string& text = *read;
  if (text.empty()) return std::nullopt;
  auto config = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object() || !config.value("args", nlohmann::json()).is_array() ||
      !config.value("env", nlohmann::json()).is_array()) {
    return absl::InvalidArgumentError("the configuration is not {\"args\", \"env\"}");
  }
  ::clearenv();
  for (const auto& e : config["env"]) {
    if (!e.is_string()) return absl::InvalidArgumentError("an environment entry is not a string");
    ::putenv(::strdup(e.get<std::string>().c_str()));
  }
  std::vector<std::string> args;
  for (const auto& a : config["args"]) {
    if (!a.is_string()) return absl::InvalidArgumentError("an argument is not a string");
    args.push_back(a.get<std::string>());
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  osb::agent::Reaper::BlockSigchld();  // before any thread exists
  // Two malloc arenas for all the agent's threads: glibc gives each thread its own, up to 8 per
  // core, and the 64 HTTP workers touched 16 of them (~2.7 MiB of anonymous memory in a sandbox
  // that had served a few requests) for allocations that are small and few.
  mallopt(M_ARENA_MAX, 2);
  ::signal(SIGPIPE, SIG_IGN);

  // Started as `osb-agent --config-fd N [ARGS]` (the runtime's way), the other arguments arrive
  // on N, to follow ARGS.
  std::vector<std::string> configured;
  std::vector<char*> configured_argv;
  if (argc >= 3 && std::string_view(argv[1]) == "--config-fd") {
    int fd = -1;
    if (!absl::SimpleAtoi(argv[2], &fd)) return Fail(absl::InvalidArgumentError("bad --config-fd"));
    auto config = ReadConfig(fd);
    if (!config.ok()) return Fail(config.status());
    if (!config->has_value()) return 0;  // a spare the runtime did not use
    // Configured: from now on the sandbox outlives the runtime (agent_launcher.cc set this).
    ::prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
    configured = **std::move(config);
    configured_argv.push_back(argv[0]);
    for (int i = 3; i < argc; ++i) configured_argv.push_back(argv[i]);
    for (auto& a : configured) configured_argv.push_back(a.data());
    argc = static_cast<int>(configured_argv.size());
    configured_argv.push_back(nullptr);
    argv = configured_argv.data();
  }

  CLI::App app{"osb-agent: the execd API inside one sandbox (started by osb-runtime only)"};
  osb::agent::SandboxRootSpec root;
  std::string socket_path;
  std::vector<std::string> entrypoint;
  app.add_option("--sandbox-dir", root.sandbox_dir, "the sandbox's directory")->required();
  app.add_option("--base", root.base_dir, "the base skeleton (overlay lower layer)")->required();
  app.add_option("--socket", socket_path, "host path of the API socket to bind")->required();
  app.add_option("--hostname", root.hostname, "the sandbox's hostname")->required();
  osb::agent::SandboxLimits limits;
  app.add_option("--cpus", limits.cpus, "the CPU limit the runtime enforces (for metrics)");
  app.add_option("--memory-bytes", limits.memory_bytes,
                 "the memory limit the runtime enforces (for metrics)");
  bool no_host_dirs = false;
  app.add_flag("--no-host-dirs", no_host_dirs,
               "the base is an image's rootfs: do not bind the host's /usr, /bin, /lib...");
  std::vector<std::string> volumes;
  // One value per --volume: else CLI11 (2.1) lets the last one's values run on past `--`, and an
  // entrypoint's own options ("bash -c ...") become unexpected arguments.
  app.add_option("--volume", volumes, "a bind mount, ro|rw:TARGET:SOURCE (repeatable)")
      ->allow_extra_args(false);
  app.add_option("entrypoint", entrypoint, "the sandbox's entrypoint")->required();
  app.set_version_flag("--version", "osb-agent 0.1.0");
  CLI11_PARSE(app, argc, argv);

  root.bind_host_dirs = !no_host_dirs;
  // Half the memory, as Docker sizes a tmpfs: a full /tmp is a write that fails with ENOSPC, not
  // a sandbox whose memory is all tmpfs pages, where the OOM killer would take its processes
  // (the agent, its init, included) without freeing any.
  if (limits.memory_bytes.has_value()) root.tmp_bytes = *limits.memory_bytes / 2;
  for (const std::string& arg : volumes) {
    auto volume = osb::runtime::DecodeVolumeMount(arg);
    if (!volume.ok()) return Fail(volume.status());
    root.volumes.push_back(*volume);
  }

  osb::agent::Reaper reaper;
  osb::agent::AgentServer server(reaper, limits);
  server.http().set_address_family(AF_UNIX);
  auto bind_socket = [&]() -> absl::Status {
    ::unlink(socket_path.c_str());
    if (!server.http().Bind(socket_path, 80)) {
      return absl::UnavailableError(absl::StrCat("cannot bind the API socket ", socket_path));
    }
    return absl::OkStatus();
  };
  if (auto s = osb::agent::EnterSandboxRoot(root, bind_socket); !s.ok()) return Fail(s);
  if (auto s = osb::agent::BringUpLoopback(); !s.ok()) return Fail(s);
  // The sandbox is built: from here on, nothing in it (the agent included) may gain privileges,
  // keep capabilities beyond a container's, or make the system calls the filter refuses.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return Fail(osb::ErrnoStatus("PR_SET_NO_NEW_PRIVS", errno));
  }
  if (auto s = osb::agent::BoundCapabilities(); !s.ok()) return Fail(s);
  if (auto s = osb::agent::InstallSeccompFilter(); !s.ok()) return Fail(s);
  // Where the SDKs' commands.set_env persists variables for later commands (env_file.h), unless
  // the sandbox's environment says otherwise.
  ::setenv("EXECD_ENVS", osb::agent::kDefaultEnvFile, /*overwrite=*/0);
  // Not fatal: the sandbox works without it, only the SDK's readiness check would wait.
  if (auto s = osb::agent::ServeReadinessPort(); !s.ok()) {
    std::fprintf(stderr, "osb-agent: %s\n", std::string(s.message()).c_str());
  }

  std::vector<char*> args;
  for (auto& a : entrypoint) args.push_back(a.data());
  args.push_back(nullptr);
  auto started = reaper.Spawn(
      [&] {
        ::setsid();
        ::chdir("/");
        ::execvp(args[0], args.data());
        const char message[] = "osb-agent: cannot start the entrypoint\n";
        (void)!::write(2, message, sizeof message - 1);
        _exit(127);
      },
      [](int) {});
  if (!started.ok()) return Fail(started.status());

  server.http().listen_after_bind();
  return 0;
}
