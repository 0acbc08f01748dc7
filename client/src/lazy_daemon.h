// LazyDaemon: the connection to osbd of a client object made without one (SandboxManager,
// TemplateManager, PoolManager): opened on first use, shared by the object's copies and by its
// async calls. Thread-safe.
#pragma once

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/src/daemon_connection.h"
#include "opensandbox/options.h"

namespace opensandbox::internal {

class LazyDaemon {
 public:
  explicit LazyDaemon(Options options) : options_(std::move(options)) {}

  // The connection, opened now if it is not yet; a failure is returned and tried again next time.
  absl::StatusOr<std::shared_ptr<DaemonConnection>> Get() {
    absl::MutexLock lock(&mu_);
    if (daemon_ == nullptr) {
      auto opened = DaemonConnection::Open(options_);
      if (!opened.ok()) return opened.status();
      daemon_ = *std::move(opened);
    }
    return daemon_;
  }

  const Options& options() const { return options_; }

 private:
  const Options options_;
  absl::Mutex mu_;
  std::shared_ptr<DaemonConnection> daemon_ ABSL_GUARDED_BY(mu_);
};

}  // namespace opensandbox::internal
