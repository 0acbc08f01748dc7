#include "client/src/daemon_channel.h"

#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "rest/sys/file_util.h"
#include "rest/sys/process.h"

namespace opensandbox::internal {
namespace {

std::shared_ptr<grpc::Channel> Channel(const std::string& socket_path) {
  return grpc::CreateChannel("unix:" + socket_path, grpc::InsecureChannelCredentials());
}

bool Connected(const std::shared_ptr<grpc::Channel>& channel, absl::Duration wait) {
  return channel->WaitForConnected(std::chrono::system_clock::now() +
                                   absl::ToChronoMilliseconds(wait));
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectToDaemon(const std::string& socket_path,
                                                               absl::Duration wait) {
  struct stat st {};
  if (::stat(socket_path.c_str(), &st) == 0) {
    auto channel = Channel(socket_path);
    if (Connected(channel, wait)) return channel;
  }
  return absl::UnavailableError("no osbd answers on " + socket_path);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectOrStartDaemon(const std::string& socket_path,
                                                                    const std::string& osbd_binary,
                                                                    absl::Duration start_timeout) {
  if (auto channel = ConnectToDaemon(socket_path, absl::Seconds(2)); channel.ok()) return channel;
  struct stat st {};
  const std::string dir = socket_path.substr(0, socket_path.rfind('/'));
  if (auto s = osb::MakeDirs(dir, 0700); !s.ok()) return s;
  const std::string log_path = dir + "/osbd.log";
  auto pid = osb::SpawnDetached({osbd_binary, "--socket", socket_path}, log_path);
  if (!pid.ok()) return pid.status();
  const absl::Time deadline = absl::Now() + start_timeout;
  while (absl::Now() < deadline && osb::ProcessRunning(*pid)) {
    if (::stat(socket_path.c_str(), &st) == 0) {
      auto channel = Channel(socket_path);
      if (Connected(channel, absl::Milliseconds(200))) return channel;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  auto log = osb::ReadFile(log_path);
  std::string tail = log.ok() ? std::string(absl::StripAsciiWhitespace(*log)) : "";
  if (tail.size() > 2000) tail = tail.substr(tail.size() - 2000);
  std::string what = osb::ProcessRunning(*pid)
                         ? absl::StrCat("did not answer on ", socket_path, " within ",
                                        absl::FormatDuration(start_timeout))
                         : "exited at start";
  return absl::UnavailableError(absl::StrCat("osbd ", what, "; ", log_path, ": ", tail));
}

}  // namespace opensandbox::internal
