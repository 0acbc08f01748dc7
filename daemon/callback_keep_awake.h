// Keeps gRPC's callback threads polling while osbd is idle.
//
// gRPC 1.51 runs callback-API servers on a process-wide completion queue served by "nexting"
// threads (this iomgr has no background poller), and they are the only threads polling osbd's
// connections. A nexting thread that waits 1 s without an event sleeps for 100 ms before it
// polls again (grpc/src/cpp/common/completion_queue_cc.cc); idle together, they all sleep, and the
// first call after a second of quiet waited up to 100 ms to be read: `osbctl daemon status` took
// 6–99 ms after a pause instead of 5–9 ms. A call every `period` (well under 1 s) through the
// server's in-process channel completes on that queue, so one of them always has an event within
// the second and never sleeps.
//
//   auto keep_awake = std::make_unique<CallbackKeepAwake>(server->InProcessChannel({}));
//   ...
//   keep_awake.reset();  // before server->Shutdown
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/generic/generic_stub.h>

#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace osb::daemon {

// The method the keep-awake calls: no service has it (the answer is UNIMPLEMENTED, at once), and
// CallStats does not count it.
inline constexpr char kKeepAwakeMethod[] = "/osbd.internal.KeepAwake/Tick";

class CallbackKeepAwake {
 public:
  explicit CallbackKeepAwake(std::shared_ptr<grpc::Channel> channel,
                             absl::Duration period = absl::Milliseconds(250));
  // Stops the calls and waits for the one in flight.
  ~CallbackKeepAwake();
  CallbackKeepAwake(const CallbackKeepAwake&) = delete;
  CallbackKeepAwake& operator=(const CallbackKeepAwake&) = delete;

 private:
  void Loop(absl::Duration period);

  grpc::GenericStub stub_;
  absl::Mutex mu_;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace osb::daemon
