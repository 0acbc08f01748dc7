#include "tests/integration/osbd_process.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>

#include "absl/time/clock.h"

namespace osb::test {

std::unique_ptr<OsbdProcess> OsbdProcess::Start(const std::string& domain,
                                                const std::string& api_key,
                                                const std::vector<std::string>& extra_args) {
  std::unique_ptr<OsbdProcess> p(new OsbdProcess());
  p->socket_ = p->dir_.path() + "/run/osbd.sock";
  p->state_dir_ = p->dir_.path() + "/state";
  std::vector<std::string> args = {BinDir() + "/osbd", "--socket", p->socket_, "--state-dir",
                                   p->state_dir_};
  if (!domain.empty()) args.insert(args.end(), {"--domain", domain});
  if (!api_key.empty()) args.insert(args.end(), {"--api-key", api_key});
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  p->pid_ = Spawn(args, p->log_path());

  // The socket appears once osbd serves; an osbd that exits first is not waited for.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  struct stat st {};
  bool up = false;
  while (!up && absl::Now() < deadline) {
    up = ::stat(p->socket_.c_str(), &st) == 0;
    if (!up && ::waitpid(p->pid_, nullptr, WNOHANG) == p->pid_) {
      p->pid_ = -1;
      break;
    }
    if (!up) absl::SleepFor(absl::Milliseconds(10));
  }
  // A failure's log is printed by the destructor.
  if (!up) {
    ADD_FAILURE() << "osbd did not start" << (p->pid_ < 0 ? ": it exited" : " within 30 s");
    return nullptr;
  }
  p->channel_ = grpc::CreateChannel("unix:" + p->socket_, grpc::InsecureChannelCredentials());
  if (!p->channel_->WaitForConnected(std::chrono::system_clock::now() +
                                     std::chrono::seconds(10))) {
    ADD_FAILURE() << "cannot connect to osbd at " << p->socket_;
    return nullptr;
  }
  return p;
}

OsbdProcess::~OsbdProcess() {
  channel_.reset();
  StopProcess(pid_, /*is_child=*/true);
  PrintLogsIfFailed({log_path()});
}

}  // namespace osb::test
