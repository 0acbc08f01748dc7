#include "daemon/callback_keep_awake.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/byte_buffer.h>

#include <chrono>
#include <utility>

namespace osb::daemon {
namespace {

struct Tick {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

}  // namespace

CallbackKeepAwake::CallbackKeepAwake(std::shared_ptr<grpc::Channel> channel,
                                     absl::Duration period)
    : stub_(std::move(channel)), thread_([this, period] { Loop(period); }) {}

CallbackKeepAwake::~CallbackKeepAwake() {
  stop_.Notify();
  thread_.join();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](bool* in_flight) { return !*in_flight; }, &in_flight_));
}

void CallbackKeepAwake::Loop(absl::Duration period) {
  while (!stop_.WaitForNotificationWithTimeout(period)) {
    {
      absl::MutexLock lock(&mu_);
      if (in_flight_) continue;  // a slow tick keeps the queue busy as well
      in_flight_ = true;
    }
    auto* tick = new Tick;
    tick->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::Slice empty("");
    tick->request = grpc::ByteBuffer(&empty, 1);
    stub_.UnaryCall(&tick->context, kKeepAwakeMethod, grpc::StubOptions(), &tick->request,
                    &tick->response, [this, tick](const grpc::Status&) {
                      delete tick;
                      absl::MutexLock lock(&mu_);
                      in_flight_ = false;
                    });
  }
}

}  // namespace osb::daemon
