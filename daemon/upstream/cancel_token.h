// A call's cancellation, carried by the upstream requests made on its behalf: Cancel() ends every
// transfer started with the token and not yet finished, and any started with it later, with
// Cancelled. Shared (std::shared_ptr) between the call and its requests, so either may go first.
//
//   auto token = std::make_shared<CancelToken>();
//   request.cancel = token;        // HttpRequest, or an Origin whose requests inherit it
//   loop.Start(request, handler);  // ...
//   token->Cancel();               // the gRPC call was cancelled: on_done gets Cancelled
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace osb::daemon {

class CurlLoop;

class CancelToken {
 public:
  // Idempotent.
  void Cancel();
  bool cancelled() const;

 private:
  friend class CurlLoop;
  // CurlLoop's side: a transfer starts with the token (false when the token is already
  // cancelled: the transfer must not start) and leaves it when it finishes.
  bool Track(CurlLoop* loop, uint64_t transfer);
  void Untrack(CurlLoop* loop, uint64_t transfer);

  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::pair<CurlLoop*, uint64_t>> transfers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osb::daemon
