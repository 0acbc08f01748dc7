// The common half of a server-streaming RPC fed by one upstream transfer on the CurlLoop
// (Commands.Run's events, Files.Read's chunks): messages are queued as the transfer delivers
// them and written to the client one at a time; above `high_water` queued messages the feeder
// is told to pause the transfer, which is resumed once the client has drained the queue to
// `low_water`; the call finishes after the queue with the final status. A cancelled call cancels
// the transfer.
//
// Loop-thread callbacks must reach the reactor only through link(): OnDone severs it before the
// reactor is deleted. Lock order: link()->mu, then mu_.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "daemon/services/daemon_context.h"
#include "daemon/upstream/curl_loop.h"

namespace osb::daemon {

template <typename Derived, typename Message>
class UpstreamStream : public grpc::ServerWriteReactor<Message> {
 public:
  struct Link {
    absl::Mutex mu;
    UpstreamStream* stream ABSL_GUARDED_BY(mu) = nullptr;  // nullptr once the call is done
    Derived* reactor() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return static_cast<Derived*>(stream); }
  };

  UpstreamStream(DaemonContext& context, grpc::CallbackServerContext* ctx, std::size_t high_water,
                 std::size_t low_water)
      : context_(context),
        ctx_(ctx),
        link_(std::make_shared<Link>()),
        high_water_(high_water),
        low_water_(low_water) {
    // The base pointer: `this` is not a Derived yet while this constructor runs.
    absl::MutexLock lock(&link_->mu);
    link_->stream = this;
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    if (!ok) {
      final_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
      queue_.clear();
    }
    if (paused_ && queue_.size() <= low_water_ && transfer_.has_value()) {
      paused_ = false;
      context_.loop().Resume(*transfer_);
    }
    WriteNextLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&mu_);
    if (transfer_.has_value()) context_.loop().Cancel(*transfer_);
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&link_->mu);
      link_->stream = nullptr;
    }
    delete static_cast<Derived*>(this);
  }

  // Finishes with `status` once the queue is written (e.g. the upstream could not be reached).
  void End(grpc::Status status) {
    absl::MutexLock lock(&mu_);
    final_status_ = std::move(status);
    WriteNextLocked();
  }

 protected:
  const std::shared_ptr<Link>& link() const { return link_; }
  // Whether the client cancelled the call (or its deadline passed); valid until OnDone.
  bool CallCancelled() const { return ctx_->IsCancelled(); }

  // The transfer feeding the stream, once started (a call already cancelled cancels it at once).
  void SetTransferLocked(CurlLoop::TransferId id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    transfer_ = id;
    if (ctx_->IsCancelled()) context_.loop().Cancel(id);
  }
  void TransferEndedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { transfer_.reset(); }

  // Queues `m` and writes what it can; kPause when the feeder should pause the transfer.
  DataAction QueueLocked(Message m) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    queue_.push_back(std::move(m));
    WriteNextLocked();
    if (queue_.size() >= high_water_) {
      paused_ = true;
      return DataAction::kPause;
    }
    return DataAction::kContinue;
  }

  // The call ends with `status` after what is queued.
  void FinishAfterQueueLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    final_status_ = std::move(status);
    WriteNextLocked();
  }

  DaemonContext& context_;
  absl::Mutex mu_;

 private:
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || finished_) return;
    if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      writing_ = true;
      this->StartWrite(&current_);
    } else if (final_status_.has_value()) {
      finished_ = true;
      this->Finish(*final_status_);
    }
  }

  grpc::CallbackServerContext* ctx_;
  std::shared_ptr<Link> link_;
  const std::size_t high_water_, low_water_;
  std::deque<Message> queue_ ABSL_GUARDED_BY(mu_);
  Message current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<CurlLoop::TransferId> transfer_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osb::daemon
