// osbd on a temporary socket and state directory, against an OpenSandbox server the test names
// (osb-runtime, or a FaultProxy in front of it) instead of an embedded runtime, with a channel
// connected to it. Unlike Stack, it owns no sandboxes: the test kills them through the server
// (RuntimeProcess does on destruction).
//
//   auto runtime = osb::test::RuntimeProcess::Start();
//   auto osbd = osb::test::OsbdProcess::Start(runtime->address(), runtime->api_key());
//   ASSERT_NE(osbd, nullptr);
//   auto sandboxes = opensandbox::v1::Sandboxes::NewStub(osbd->channel());
#pragma once

#include <grpcpp/channel.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.h"

namespace osb::test {

class OsbdProcess {
 public:
  // Runs `osbd --socket S --state-dir D [--domain DOMAIN] [--api-key KEY] EXTRA_ARGS...`:
  // --domain and --api-key are left out when empty (osbd then takes them from its environment or
  // a config file in `extra_args`, or starts an embedded runtime). nullptr, with a test failure
  // showing osbd's log, when osbd exits or its socket does not answer within 30 s.
  static std::unique_ptr<OsbdProcess> Start(const std::string& domain, const std::string& api_key,
                                            const std::vector<std::string>& extra_args = {});
  // Stops osbd (SIGTERM, then SIGKILL after 5 s) and prints its log when the test failed.
  ~OsbdProcess();
  OsbdProcess(const OsbdProcess&) = delete;
  OsbdProcess& operator=(const OsbdProcess&) = delete;

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const std::string& socket_path() const { return socket_; }
  const std::string& state_dir() const { return state_dir_; }
  // A temporary directory of this osbd's own (removed on destruction), e.g. for config files.
  const std::string& dir() const { return dir_.path(); }
  std::string log_path() const { return dir_.path() + "/osbd.log"; }  // its stdout and stderr
  pid_t pid() const { return pid_; }

 private:
  OsbdProcess() = default;
  TempDir dir_;
  std::string socket_, state_dir_;
  pid_t pid_ = -1;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace osb::test
