#include "daemon/embedded_runtime.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "rest/ids.h"
#include "rest/sys/file_util.h"
#include "rest/sys/process.h"
#include "rest/sys/unique_fd.h"

namespace osb::daemon {
namespace {

bool Healthy(const std::string& address) {
  CURL* curl = curl_easy_init();
  std::string url = absl::StrCat("http://", address, "/health");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
                   +[](char*, size_t size, size_t n, void*) { return size * n; });
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  return rc == CURLE_OK && status == 200;
}

bool PortFree(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return free;
}

struct ReadyRecord {
  std::string address;
  pid_t pid = 0;
};

absl::StatusOr<ReadyRecord> ReadReady(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object() || !j["address"].is_string() || !j["pid"].is_number_integer()) {
    return absl::DataLossError("malformed " + path);
  }
  return ReadyRecord{j["address"].get<std::string>(), j["pid"].get<pid_t>()};
}

}  // namespace

absl::StatusOr<EmbeddedRuntime> FindOrStartRuntime(const EmbeddedRuntimeOptions& options) {
  const std::string dir = options.state_dir + "/runtime";
  const std::string ready_path = dir + "/ready.json";
  const std::string key_path = dir + "/api-key";
  if (auto s = MakeDirs(dir, 0711); !s.ok()) return s;

  auto key = ReadFile(key_path);
  if (!key.ok()) {
    if (auto s = WriteFileAtomic(key_path, rest::RandomHex(32) + "\n", 0600); !s.ok()) return s;
    key = ReadFile(key_path);
    if (!key.ok()) return key.status();
  }
  EmbeddedRuntime runtime;
  runtime.api_key = std::string(absl::StripAsciiWhitespace(*key));

  if (auto ready = ReadReady(ready_path); ready.ok() && ::kill(ready->pid, 0) == 0 &&
                                          Healthy(ready->address)) {
    runtime.address = ready->address;
    runtime.pid = ready->pid;
    return runtime;
  }
  ::unlink(ready_path.c_str());
  std::string listen = options.listen;
  if (listen.empty()) listen = PortFree(8080) ? "127.0.0.1:8080" : "127.0.0.1:0";
  std::vector<std::string> args = {options.runtime_binary, "--listen",    listen,
                                   "--state-dir",          dir,          "--api-key-file",
                                   key_path,               "--ready-file", ready_path};
  auto pid = SpawnDetached(args, dir + "/runtime.log");
  if (!pid.ok()) return pid.status();

  const absl::Time deadline = absl::Now() + options.start_timeout;
  bool exited = false;
  while (absl::Now() < deadline && !exited) {
    exited = !ProcessRunning(*pid);  // one that fails at start never writes the file
    if (auto ready = ReadReady(ready_path); ready.ok()) {
      runtime.address = ready->address;
      runtime.pid = ready->pid;
      runtime.started = true;
      return runtime;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  auto log = ReadFile(dir + "/runtime.log");
  return absl::UnavailableError(absl::StrCat(
      "osb-runtime ",
      exited ? "exited at start"
             : absl::StrCat("did not start within ", absl::FormatDuration(options.start_timeout)),
      "; ",
      dir, "/runtime.log says: ", log.ok() ? absl::StripAsciiWhitespace(*log) : "nothing"));
}

absl::Status StopRuntime(pid_t pid, absl::Duration timeout) {
  // A pidfd names this very process: the pid cannot be given to another one while it is held.
  UniqueFd process(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!process.valid()) {
    if (errno == ESRCH) return absl::OkStatus();
    return ErrnoStatus(absl::StrCat("pidfd_open ", pid), errno);
  }
  if (::syscall(SYS_pidfd_send_signal, process.get(), SIGTERM, nullptr, 0) != 0) {
    if (errno == ESRCH) return absl::OkStatus();
    return ErrnoStatus(absl::StrCat("signal osb-runtime ", pid), errno);
  }
  pollfd exited{process.get(), POLLIN, 0};
  int ready = 0;
  do {
    ready = ::poll(&exited, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  } while (ready < 0 && errno == EINTR);
  if (ready <= 0) {
    return absl::DeadlineExceededError(absl::StrCat("osb-runtime (pid ", pid,
                                                    ") is still running ",
                                                    absl::FormatDuration(timeout),
                                                    " after SIGTERM"));
  }
  return absl::OkStatus();
}

}  // namespace osb::daemon
