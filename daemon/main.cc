// osbd: the local OpenSandbox daemon. Serves the gRPC API (proto/opensandbox/v1) on a Unix socket
// and reaches the sandbox service through one pooled upstream loop. With no domain configured it
// uses (starting it when needed) the embedded osb-runtime.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "daemon/embedded_runtime.h"
#include "daemon/lease_adoption.h"
#include "daemon/services/code_service.h"
#include "daemon/services/commands_service.h"
#include "daemon/services/daemon_context.h"
#include "daemon/services/daemon_service.h"
#include "daemon/services/files_service.h"
#include "daemon/services/pools_service.h"
#include "daemon/services/sandboxes_service.h"
#include "daemon/services/templates_service.h"
#include "rest/sys/default_paths.h"
#include "rest/sys/file_util.h"
#include "spdlog/spdlog.h"

namespace {

// True when something accepts connections on the Unix socket at `path`.
bool SocketAnswers(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  bool answers = fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  if (fd >= 0) ::close(fd);
  return answers;
}

}  // namespace

int main(int argc, char** argv) {
  // Signals are taken by a dedicated thread; block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"osbd: the local OpenSandbox daemon (gRPC on a Unix socket)"};
  std::string socket_path = osb::GetEnv("OSBD_SOCKET");
  std::string state_dir = osb::DefaultStateDir();
  std::string domain = osb::GetEnv("OPEN_SANDBOX_DOMAIN");
  std::string api_key = osb::GetEnv("OPEN_SANDBOX_API_KEY");
  std::string protocol = osb::GetEnv("OPEN_SANDBOX_PROTOCOL");
  std::string runtime_binary = osb::PathBesideSelf("osb-runtime");
  std::string embedded_listen = osb::GetEnv("OSBD_EMBEDDED_LISTEN");
  if (socket_path.empty()) socket_path = osb::DefaultSocketPath();
  app.add_option("--socket", socket_path, "Unix socket to serve on (env OSBD_SOCKET)")
      ->capture_default_str();
  app.add_option("--state-dir", state_dir, "daemon state (embedded runtime, keys)")
      ->capture_default_str();
  app.add_option("--domain", domain, "OpenSandbox server host:port (env OPEN_SANDBOX_DOMAIN); "
                                     "empty: the embedded osb-runtime");
  app.add_option("--api-key", api_key, "API key for --domain (env OPEN_SANDBOX_API_KEY)");
  app.add_option("--protocol", protocol, "http or https (env OPEN_SANDBOX_PROTOCOL)");
  app.add_option("--runtime-binary", runtime_binary, "osb-runtime to start when no domain is set")
      ->capture_default_str();
  app.add_option("--embedded-listen", embedded_listen,
                 "HOST:PORT for a new embedded runtime (env OSBD_EMBEDDED_LISTEN; "
                 "default 127.0.0.1:8080 when free, else any port)");
  app.set_version_flag("--version", "osbd 0.1.0");
  CLI11_PARSE(app, argc, argv);

  // Until the server runs there is nothing to wind down: a signal ends osbd at once.
  std::atomic<bool> serving{false};
  absl::Notification stop;
  std::thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (!serving) _exit(128 + sig);
    if (!stop.HasBeenNotified()) stop.Notify();
  }).detach();

  osb::daemon::Origin origin;
  osb::daemon::DaemonInfo info;
  info.state_dir = state_dir;
  // 0711: the embedded runtime's sandboxes (unprivileged ids) traverse it to their own files.
  if (auto s = osb::MakeDirs(state_dir, 0711); !s.ok()) {
    spdlog::critical("{}", std::string(s.message()));
    return 1;
  }
  if (domain.empty()) {
    auto runtime = osb::daemon::FindOrStartRuntime(
        {.state_dir = state_dir, .runtime_binary = runtime_binary, .listen = embedded_listen});
    if (!runtime.ok()) {
      spdlog::critical("embedded osb-runtime: {}", std::string(runtime.status().message()));
      return 1;
    }
    spdlog::info("{} embedded osb-runtime at {} (pid {})",
                 runtime->started ? "started" : "using the running", runtime->address, runtime->pid);
    origin.authority = runtime->address;
    origin.api_key = runtime->api_key;
    info.embedded_runtime_address = runtime->address;
  } else {
    if (auto s = osb::daemon::ParseDomain(domain, &origin.protocol, &origin.authority); !s.ok()) {
      spdlog::critical("{}", std::string(s.message()));
      return 1;
    }
    origin.api_key = api_key;
  }
  if (!protocol.empty()) origin.protocol = protocol;

  const std::string socket_dir = socket_path.substr(0, socket_path.rfind('/'));
  if (auto s = osb::MakeDirs(socket_dir, 0700); !s.ok()) {
    spdlog::critical("{}", std::string(s.message()));
    return 1;
  }
  if (SocketAnswers(socket_path)) {
    spdlog::critical("another osbd is already serving on {}", socket_path);
    return 1;
  }
  ::unlink(socket_path.c_str());

  osb::daemon::DaemonContext context(origin, info);
  osb::daemon::AdoptLeases(context, [](osb::daemon::AdoptionResult r) {
    if (!r.status.ok()) {
      spdlog::warn("the leases of an earlier osbd were not taken over: {}",
                   std::string(r.status.message()));
    } else if (r.adopted + r.swept > 0) {
      spdlog::info("leases of an earlier osbd: {} watched again, {} sandboxes killed (holder gone)",
                   r.adopted, r.swept);
    }
  });
  std::unique_ptr<grpc::Server> server;
  osb::daemon::SandboxesService sandboxes(context);
  osb::daemon::CommandsService commands(context);
  osb::daemon::CodeService code(context);
  osb::daemon::FilesService files(context);
  osb::daemon::TemplatesService templates(context);
  osb::daemon::PoolsService pools(context);
  osb::daemon::DaemonService daemon(context, [&](absl::Duration) {
    if (!stop.HasBeenNotified()) stop.Notify();
  });

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(&sandboxes);
  builder.RegisterService(&commands);
  builder.RegisterService(&code);
  builder.RegisterService(&files);
  builder.RegisterService(&templates);
  builder.RegisterService(&pools);
  builder.RegisterService(&daemon);
  builder.experimental().SetInterceptorCreators(
      osb::daemon::CallStatsInterceptors(context.call_stats()));
  // bind() creates the socket 0777 & ~umask: 0600 from the first moment a client can see it (a
  // chmod afterwards would leave a window). The directory is 0700 besides; whatever the daemon
  // creates later is private too.
  ::umask(0177);
  server = builder.BuildAndStart();
  ::umask(0077);
  if (server == nullptr) {
    spdlog::critical("cannot serve on {}", socket_path);
    return 1;
  }
  serving = true;
  spdlog::info("osbd serving on {} (upstream {}://{})", socket_path, origin.protocol,
               origin.authority);

  stop.WaitForNotification();
  spdlog::info("osbd stopping");
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  ::unlink(socket_path.c_str());
  return 0;
}
