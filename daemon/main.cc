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
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "daemon/bearer_token_check.h"
#include "daemon/callback_keep_awake.h"
#include "daemon/daemon_config.h"
#include "daemon/embedded_runtime.h"
#include "daemon/lease_adoption.h"
#include "daemon/log_format.h"
#include "daemon/metrics_endpoint.h"
#include "daemon/owner_id.h"
#include "daemon/peer_listener.h"
#include "daemon/prometheus_text.h"
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

#ifdef NDEBUG
  // Debian's Abseil checks every Mutex acquisition for lock-order cycles (a graph update per
  // lock), which was a tenth of osbd's time per call; debug builds keep the check.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  CLI::App app{"osbd: the local OpenSandbox daemon (gRPC on a Unix socket)"};
  // Flags beat their environment variables (read here), which beat the config file (read after
  // the flags, since --config names it), which beats the built-in defaults.
  std::string socket_path = osb::GetEnv("OSBD_SOCKET");
  std::string state_dir;
  std::string config_path = osb::GetEnv("OSBD_CONFIG");
  std::string domain = osb::GetEnv("OPEN_SANDBOX_DOMAIN");
  std::string api_key = osb::GetEnv("OPEN_SANDBOX_API_KEY");
  std::string protocol = osb::GetEnv("OPEN_SANDBOX_PROTOCOL");
  std::string ca_file = osb::GetEnv("OSBD_CA_FILE");
  std::string runtime_binary = osb::PathBesideSelf("osb-runtime");
  std::string embedded_listen = osb::GetEnv("OSBD_EMBEDDED_LISTEN");
  std::string log_format = osb::GetEnv("OSBD_LOG_FORMAT");
  app.add_option("--socket", socket_path,
                 "Unix socket to serve on (env OSBD_SOCKET; default " + osb::DefaultSocketPath() +
                     ")");
  app.add_option("--state-dir", state_dir,
                 "daemon state: templates, pools, the embedded runtime (default " +
                     osb::DefaultStateDir() + ")");
  app.add_option("--config", config_path,
                 "TOML config file (env OSBD_CONFIG; default " +
                     osb::daemon::DefaultDaemonConfigPath() + " when it exists)");
  app.add_option("--domain", domain, "OpenSandbox server host:port (env OPEN_SANDBOX_DOMAIN); "
                                     "empty: the embedded osb-runtime");
  app.add_option("--api-key", api_key, "API key for --domain (env OPEN_SANDBOX_API_KEY)");
  app.add_option("--protocol", protocol, "http or https (env OPEN_SANDBOX_PROTOCOL)");
  app.add_option("--ca-file", ca_file,
                 "PEM file of the certificate authorities trusted for https upstreams "
                 "(env OSBD_CA_FILE; default: the system's)");
  app.add_option("--runtime-binary", runtime_binary, "osb-runtime to start when no domain is set")
      ->capture_default_str();
  app.add_option("--embedded-listen", embedded_listen,
                 "HOST:PORT for a new embedded runtime (env OSBD_EMBEDDED_LISTEN; "
                 "default 127.0.0.1:8080 when free, else any port)");
  app.add_option("--log-format", log_format,
                 "text or json (one JSON object per line) (env OSBD_LOG_FORMAT; default text)");
  app.set_version_flag("--version", "osbd 0.1.0");
  CLI11_PARSE(app, argc, argv);
  // Every line goes through the redacting formatter from the first one on; the file may still
  // choose JSON below.
  auto format = osb::daemon::ParseLogFormat(log_format.empty() ? "text" : log_format);
  if (!format.ok()) {
    std::fprintf(stderr, "--log-format: %s\n", std::string(format.status().message()).c_str());
    return 2;
  }
  osb::daemon::UseLogFormat(*format);

  const bool config_named = !config_path.empty();
  if (!config_named) config_path = osb::daemon::DefaultDaemonConfigPath();
  auto config = osb::daemon::LoadDaemonConfig(config_path, config_named);
  if (!config.ok()) {
    spdlog::critical("config: {}", std::string(config.status().message()));
    return 2;
  }
  if (log_format.empty() && config->log_format.has_value()) {
    osb::daemon::UseLogFormat(*config->log_format);
  }
  const osb::daemon::ConnectionProfile& file_defaults = config->defaults;
  // What no log line may show.
  osb::daemon::SecretRedactor& secrets = osb::daemon::LogSecrets();
  secrets.Add(api_key);
  secrets.Add(file_defaults.api_key.value_or(""));
  secrets.Add(config->tcp_token);
  for (const auto& [name, profile] : config->profiles) secrets.Add(profile.api_key.value_or(""));
  if (socket_path.empty()) socket_path = config->socket.value_or(osb::DefaultSocketPath());
  if (state_dir.empty()) state_dir = config->state_dir.value_or(osb::DefaultStateDir());
  if (domain.empty()) domain = file_defaults.domain.value_or("");
  // The file's key belongs to the file's domain: a domain from a flag or the environment does
  // not receive it.
  if (api_key.empty() && domain == file_defaults.domain.value_or("")) {
    api_key = file_defaults.api_key.value_or("");
  }
  if (protocol.empty()) protocol = file_defaults.protocol.value_or("");
  // A CA file that cannot be read would fail every https request later, one by one: refuse it
  // before anything starts (an embedded runtime among them).
  std::vector<std::pair<std::string, std::string>> ca_files = {
      {"--ca-file", ca_file}, {"config ca_file", file_defaults.ca_file.value_or("")}};
  for (const auto& [name, profile] : config->profiles) {
    ca_files.emplace_back("config profile " + name + " ca_file", profile.ca_file.value_or(""));
  }
  for (const auto& [where, path] : ca_files) {
    if (!path.empty() && ::access(path.c_str(), R_OK) != 0) {
      spdlog::critical("{}: CA file {}: {}", where, path, std::strerror(errno));
      return 2;
    }
  }

  // Until the server runs there is nothing to wind down: a signal ends osbd at once.
  std::atomic<bool> serving{false};
  absl::Notification stop;
  // How long running calls may go on once stop is notified: 10 s for a signal (as a service
  // manager's stop timeout leaves), or what Daemon.Shutdown asked for. Set before the notify.
  std::atomic<int64_t> grace_ms{10000};
  std::thread([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (!serving) _exit(128 + sig);
    if (!stop.HasBeenNotified()) stop.Notify();
  }).detach();

  osb::daemon::Origin origin;
  osb::daemon::DaemonInfo info;
  info.state_dir = state_dir;
  info.access_group = config->access_group;
  // 0711: the embedded runtime's sandboxes (unprivileged ids) traverse it to their own files.
  if (auto s = osb::MakeDirs(state_dir, 0711); !s.ok()) {
    spdlog::critical("{}", std::string(s.message()));
    return 1;
  }
  if (auto owner = osb::daemon::LoadOrCreateOwnerId(state_dir); owner.ok()) {
    info.owner = *std::move(owner);
  } else {
    spdlog::critical("{}", std::string(owner.status().message()));
    return 1;
  }
  pid_t embedded_runtime_pid = 0;
  if (domain.empty()) {
    auto runtime = osb::daemon::FindOrStartRuntime(
        {.state_dir = state_dir, .runtime_binary = runtime_binary, .listen = embedded_listen});
    if (!runtime.ok()) {
      spdlog::critical("embedded osb-runtime: {}", std::string(runtime.status().message()));
      return 1;
    }
    spdlog::info("{} embedded osb-runtime at {} (pid {})",
                 runtime->started ? "started" : "using the running", runtime->address,
                 runtime->pid);
    origin.authority = runtime->address;
    origin.api_key = runtime->api_key;
    embedded_runtime_pid = runtime->pid;
    secrets.Add(runtime->api_key);
    info.embedded_runtime_address = runtime->address;
  } else {
    if (auto s = osb::daemon::ParseDomain(domain, &origin.protocol, &origin.authority); !s.ok()) {
      spdlog::critical("{}", std::string(s.message()));
      return 1;
    }
    origin.api_key = api_key;
  }
  if (!protocol.empty()) origin.protocol = protocol;
  // The file's other connection keys (headers, server proxy, timeout) have no flag.
  osb::daemon::ConnectionProfile rest_of_defaults = file_defaults;
  rest_of_defaults.domain.reset();
  rest_of_defaults.api_key.reset();
  rest_of_defaults.protocol.reset();
  origin = *osb::daemon::ApplyProfile(rest_of_defaults, origin);
  if (!ca_file.empty()) origin.ca_file = ca_file;
  std::map<std::string, osb::daemon::Origin> profiles;
  for (const auto& [name, profile] : config->profiles) {
    auto profile_origin = osb::daemon::ApplyProfile(profile, origin);
    if (!profile_origin.ok()) {
      spdlog::critical("config: profile {}: {}", name,
                       std::string(profile_origin.status().message()));
      return 2;
    }
    profiles.emplace(name, *std::move(profile_origin));
  }
  const std::string socket_dir = socket_path.substr(0, socket_path.rfind('/'));
  if (auto s = osb::MakeDirs(socket_dir, 0700); !s.ok()) {
    spdlog::critical("{}", std::string(s.message()));
    return 1;
  }
  if (auto safe = osb::daemon::SocketDirectoryIsSafe(socket_dir); !safe.ok()) {
    spdlog::critical("{}", std::string(safe.message()));
    return 1;
  }
  if (config->access_group.has_value()) {
    // The group's members must reach the socket in its directory: 0710 to the group, when the
    // directory is osbd's own.
    struct stat st {};
    if (::stat(socket_dir.c_str(), &st) == 0 && st.st_uid == ::geteuid() &&
        (::chown(socket_dir.c_str(), static_cast<uid_t>(-1), *config->access_group) != 0 ||
         ::chmod(socket_dir.c_str(), 0710) != 0)) {
      spdlog::warn("cannot open {} to group {}: {}", socket_dir, *config->access_group,
                   std::strerror(errno));
    }
  }
  if (SocketAnswers(socket_path)) {
    spdlog::critical("another osbd is already serving on {}", socket_path);
    return 1;
  }
  auto listener = osb::daemon::PeerListener::Bind(socket_path, config->access_group);
  if (!listener.ok()) {
    spdlog::critical("cannot serve on {}: {}", socket_path,
                     std::string(listener.status().message()));
    return 1;
  }

  osb::daemon::DaemonContext context(origin, info, std::move(profiles));
  for (const auto& t : config->templates) {
    if (auto defined = context.templates().DefineFromConfig(t); !defined.ok()) {
      spdlog::critical("config {}: {}", config->path, std::string(defined.status().message()));
      return 2;
    }
  }
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
  std::atomic<bool> stop_runtime{false};
  osb::daemon::DaemonService daemon(context, [&](absl::Duration grace, bool stop_embedded_runtime) {
    grace_ms = absl::ToInt64Milliseconds(grace);
    if (stop_embedded_runtime) stop_runtime = true;
    if (!stop.HasBeenNotified()) stop.Notify();
  });

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  auto acceptor = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
      grpc::InsecureServerCredentials());
  std::shared_ptr<grpc::ServerCredentials> tcp_credentials;
  int tcp_port = 0;
  if (!config->tcp_listen.empty()) {
    // Local credentials take loopback peers only, and let a processor check every call's token.
    tcp_credentials = grpc::experimental::LocalServerCredentials(LOCAL_TCP);
    tcp_credentials->SetAuthMetadataProcessor(
        std::make_shared<osb::daemon::BearerTokenCheck>(config->tcp_token));
    builder.AddListeningPort(config->tcp_listen, tcp_credentials, &tcp_port);
  }
  builder.RegisterService(&sandboxes);
  builder.RegisterService(&commands);
  builder.RegisterService(&code);
  builder.RegisterService(&files);
  builder.RegisterService(&templates);
  builder.RegisterService(&pools);
  builder.RegisterService(&daemon);
  builder.experimental().SetInterceptorCreators(
      osb::daemon::CallStatsInterceptors(context.call_stats()));
  // Whatever the daemon creates from here on is private.
  ::umask(0077);
  server = builder.BuildAndStart();
  if (server == nullptr || (!config->tcp_listen.empty() && tcp_port == 0)) {
    spdlog::critical("cannot serve on {}{}", socket_path,
                     config->tcp_listen.empty() ? "" : " and " + config->tcp_listen);
    return 1;
  }
  auto keep_awake =
      std::make_unique<osb::daemon::CallbackKeepAwake>(server->InProcessChannel({}));
  std::unique_ptr<osb::daemon::MetricsEndpoint> metrics;
  if (!config->metrics_listen.empty()) {
    osb::daemon::PeerListener* peers = listener->get();
    auto started = osb::daemon::MetricsEndpoint::Start(config->metrics_listen, [&context, peers] {
      return osb::daemon::PrometheusText(osb::daemon::CollectDaemonStats(context),
                                         peers->refused());
    });
    if (!started.ok()) {
      spdlog::critical("metrics endpoint: {}", std::string(started.status().message()));
      return 1;
    }
    metrics = *std::move(started);
    spdlog::info("Prometheus metrics at http://{}/metrics", metrics->address());
  }
  if (tcp_port != 0) spdlog::info("osbd also serving on TCP {} (token required)", tcp_port);
  serving = true;
  // Said before the first connection is taken: whoever sees an answer can read where it came from.
  spdlog::info("osbd serving on {} (upstream {}://{})", socket_path, origin.protocol,
               origin.authority);
  (*listener)->Start(std::move(acceptor));

  stop.WaitForNotification();
  spdlog::info("osbd stopping: running calls have {} ms to finish", grace_ms.load());
  metrics.reset();
  keep_awake.reset();
  listener->reset();  // no new connections
  // New calls are refused at once; running ones (command streams included) finish or are
  // cancelled at the deadline.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(grace_ms.load()));
  if (stop_runtime && embedded_runtime_pid > 0) {
    if (auto stopped = osb::daemon::StopRuntime(embedded_runtime_pid); !stopped.ok()) {
      spdlog::error("embedded osb-runtime: {}", std::string(stopped.message()));
      return 1;
    }
    spdlog::info("embedded osb-runtime (pid {}) stopped", embedded_runtime_pid);
  }
  return 0;
}
