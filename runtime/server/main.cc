// osb-runtime: a single-host OpenSandbox service. Sandboxes are osb-agent processes in Linux
// namespaces; the lifecycle API is served over HTTP (and optionally a Unix socket).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "rest/ids.h"
#include "rest/sys/default_paths.h"
#include "rest/sys/file_util.h"
#include "runtime/server/lifecycle_api.h"
#include "runtime/server/runtime_config.h"
#include "runtime/server/sandbox_manager.h"
#include "runtime/server/snapshot_manager.h"

namespace {

constexpr uid_t kFirstSandboxId = 1'000'000'000;  // far above any account: a range no one owns

int Fail(absl::string_view message) {
  std::fprintf(stderr, "osb-runtime: %.*s\n", static_cast<int>(message.size()), message.data());
  return 1;
}

std::string DefaultStateDir() {
  if (::geteuid() == 0) return "/var/lib/opensandbox/runtime";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && *xdg != '\0') {
    return absl::StrCat(xdg, "/opensandbox/runtime");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : "/tmp", "/.local/state/opensandbox/runtime");
}

// The key, in precedence order: --api-key, OPENSANDBOX_SERVER_API_KEY, --api-key-file, and
// otherwise one generated into <state>/api-key (mode 0600) on first start.
absl::StatusOr<std::string> ResolveApiKey(const std::string& flag, const std::string& file,
                                          const std::string& state_dir) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("OPENSANDBOX_SERVER_API_KEY"); env != nullptr && *env) {
    return std::string(env);
  }
  std::string path = file.empty() ? state_dir + "/api-key" : file;
  auto existing = osb::ReadFile(path);
  if (existing.ok()) {
    std::string key(absl::StripAsciiWhitespace(*existing));
    if (key.empty()) return absl::InvalidArgumentError("API key file " + path + " is empty");
    return key;
  }
  if (!file.empty()) return existing.status();
  std::string key = rest::RandomHex(32);
  if (auto s = osb::WriteFileAtomic(path, key + "\n", 0600); !s.ok()) return s;
  return key;
}

// SIGTERM, SIGINT and SIGHUP end the runtime as they always did (sandboxes keep running), once
// its spare agents, which belong to no sandbox, are gone with their cgroups and directories, and
// the sandboxes it killed are released (SandboxManager::FinishReleases). The
// handler only writes to a pipe; a thread does the rest.
int stop_pipe[2] = {-1, -1};

void StopOnSignals(osb::runtime::SandboxManager& manager) {
  if (::pipe2(stop_pipe, O_CLOEXEC) != 0) return;
  std::thread([&manager] {
    unsigned char sig = 0;
    while (::read(stop_pipe[0], &sig, 1) < 0 && errno == EINTR) {
    }
    manager.DiscardSpares();
    manager.FinishReleases();
    ::signal(sig, SIG_DFL);
    ::raise(sig);
  }).detach();
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    ::signal(sig, [](int s) {
      const auto byte = static_cast<unsigned char>(s);
      (void)!::write(stop_pipe[1], &byte, 1);
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  // Every open client connection holds a descriptor (and a thread): allow as many as the hard
  // limit, not the usual soft 1024.
  if (struct rlimit files{};
      ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    (void)::setrlimit(RLIMIT_NOFILE, &files);
  }
  CLI::App app{"osb-runtime: a single-host OpenSandbox service (lifecycle API + sandboxes)"};
  std::string listen = "127.0.0.1:8080";
  std::string unix_socket, state_dir = DefaultStateDir(), api_key, api_key_file, ready_file;
  std::string agent_binary = osb::PathBesideSelf("osb-agent");
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string config_path, egress_dns;
  size_t spare_agents = 1;
  bool insecure = false;
  app.add_option("--listen", listen, "HOST:PORT to serve HTTP on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--unix", unix_socket, "also serve on this Unix socket");
  app.add_option("--state-dir", state_dir, "where sandboxes and the API key live")
      ->capture_default_str();
  app.add_option("--api-key", api_key, "the API key (else env OPENSANDBOX_SERVER_API_KEY)");
  app.add_option("--api-key-file", api_key_file, "read the API key from this file");
  app.add_flag("--insecure-no-api-key", insecure, "serve without an API key (tests only)");
  app.add_option("--agent", agent_binary, "path of osb-agent")->capture_default_str();
  app.add_option("--cgroup-root", cgroup_root,
                 "where the cgroup filesystem is mounted (sandbox limits and pause live there)")
      ->capture_default_str();
  app.add_option("--config", config_path,
                 "TOML config: [images] table, [storage] allowed_host_paths");
  app.add_option("--egress-dns", egress_dns,
                 "the DNS server (IP[:PORT]) behind egress rules by name (default: the first "
                 "nameserver of /etc/resolv.conf)");
  app.add_option("--spare-agents", spare_agents,
                 "sandbox agents kept started ahead of need, so a create skips starting one")
      ->capture_default_str();
  app.add_option("--ready-file", ready_file,
                 "once serving, write {\"address\",\"pid\"} to this file (for supervisors)");
  app.set_version_flag("--version", "osb-runtime 0.1.0");
  CLI11_PARSE(app, argc, argv);

  std::string host = listen.substr(0, listen.rfind(':'));
  int port = -1;
  if (listen.rfind(':') == std::string::npos ||
      !absl::SimpleAtoi(listen.substr(listen.rfind(':') + 1), &port) || port < 0 || port > 65535) {
    return Fail("--listen must be HOST:PORT, got " + listen);
  }
  if (auto s = osb::MakeDirs(state_dir, 0711); !s.ok()) return Fail(s.message());
  std::string key;
  if (!insecure) {
    auto resolved = ResolveApiKey(api_key, api_key_file, state_dir);
    if (!resolved.ok()) return Fail(resolved.status().message());
    key = *resolved;
  }

  osb::runtime::RuntimeOptions options;
  options.state_dir = state_dir;
  options.agent_binary = agent_binary;
  options.ids = osb::runtime::DefaultIdMapping(kFirstSandboxId);
  options.cgroup_root = cgroup_root;
  options.egress_dns = egress_dns;
  options.spare_agents = spare_agents;
  if (!config_path.empty()) {
    auto config = osb::runtime::LoadRuntimeConfig(config_path);
    if (!config.ok()) return Fail(config.status().message());
    options.allowed_host_paths = config->allowed_host_paths;
    options.images = config->images;
  }
  auto manager = osb::runtime::SandboxManager::Start(options);
  if (!manager.ok()) return Fail(manager.status().message());
  StopOnSignals(**manager);
  std::fprintf(stderr, "osb-runtime: resource limits and pause: %s\n",
               (*manager)->cgroups().Summary().c_str());
  const std::string egress = (*manager)->network_helper().empty()
                                 ? "unavailable (no pasta: install Debian's passt), sandboxes "
                                   "have loopback only"
                                 : "through " + (*manager)->network_helper() +
                                       "; rules by name through the DNS filter, asking " +
                                       (*manager)->egress_dns();
  std::fprintf(stderr, "osb-runtime: network egress: %s\n", egress.c_str());
  std::fprintf(stderr, "osb-runtime: not supported yet: ossfs volumes\n");

  auto snapshots = osb::runtime::SnapshotManager::Start(state_dir, **manager);
  if (!snapshots.ok()) return Fail(snapshots.status().message());
  osb::runtime::LifecycleApi api(**manager, **snapshots, key);
  if (port == 0) {
    port = api.http().BindToAnyPort(host);
    if (port <= 0) return Fail("cannot listen on " + listen);
  } else if (!api.http().Bind(host, port)) {
    return Fail("cannot listen on " + listen);
  }
  std::thread unix_thread;
  osb::runtime::LifecycleApi unix_api(**manager, **snapshots, key);
  if (!unix_socket.empty()) {
    ::unlink(unix_socket.c_str());
    unix_api.http().set_address_family(AF_UNIX);
    if (!unix_api.http().Bind(unix_socket, 80))
      return Fail("cannot listen on " + unix_socket);
    ::chmod(unix_socket.c_str(), 0600);
    unix_thread = std::thread([&] { unix_api.http().listen_after_bind(); });
  }
  std::string address = absl::StrCat(host, ":", port);
  if (!ready_file.empty()) {
    nlohmann::json ready = {{"address", address}, {"pid", ::getpid()}};
    if (auto s = osb::WriteFileAtomic(ready_file, ready.dump() + "\n", 0600); !s.ok()) {
      return Fail(s.message());
    }
  }
  std::fprintf(stderr, "osb-runtime: serving the lifecycle API on http://%s (state %s)\n",
               address.c_str(), state_dir.c_str());
  api.http().listen_after_bind();
  if (unix_thread.joinable()) {
    unix_api.http().stop();
    unix_thread.join();
  }
  return 0;
}
