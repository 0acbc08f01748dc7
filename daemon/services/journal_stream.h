// The server-streaming side of a command journal: Commands.Run, RunInSession and Attach each
// hand their call to a JournalStream, which writes the journal's events to the client one at a
// time from its reader position and finishes with the journal's final status. A client that
// leaves only ends its reading; the journal (and the command) carry on.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "daemon/command_journal.h"
#include "opensandbox/v1/commands.pb.h"

namespace osb::daemon {

class JournalStream final : public grpc::ServerWriteReactor<opensandbox::v1::CommandEvent>,
                            public JournalReader {
 public:
  JournalStream() : link_(std::make_shared<ReaderLink>()) {
    absl::MutexLock lock(&link_->mu);
    link_->reader = this;
  }

  // Reads `journal` from after `after_seq`; finishes at once with the error when the journal
  // cannot be read from there.
  void Follow(std::shared_ptr<CommandJournal> journal, uint64_t after_seq);
  // Finishes without a journal (the call was refused before anything ran).
  void Fail(grpc::Status status);

  void OnJournalUpdate() override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::shared_ptr<ReaderLink> link_;
  absl::Mutex mu_;
  std::shared_ptr<CommandJournal> journal_ ABSL_GUARDED_BY(mu_);
  std::optional<CommandJournal::SubscriptionId> subscription_ ABSL_GUARDED_BY(mu_);
  opensandbox::v1::CommandEvent current_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool wrote_ ABSL_GUARDED_BY(mu_) = false;  // a message (and with it the headers) went out
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // Set when the call must end (client gone) while a write is in flight.
  std::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osb::daemon
