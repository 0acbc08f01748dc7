#include "daemon/services/journal_stream.h"

#include "daemon/services/grpc_status.h"

namespace osb::daemon {

void JournalStream::Follow(std::shared_ptr<CommandJournal> journal, uint64_t after_seq) {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  auto subscription = journal->Subscribe(link_, after_seq);
  if (!subscription.ok()) return FinishLocked(ToGrpcStatus(subscription.status()));
  journal_ = std::move(journal);
  subscription_ = *subscription;
  WriteNextLocked();
}

void JournalStream::Fail(grpc::Status status) {
  absl::MutexLock lock(&mu_);
  if (!finished_) FinishLocked(std::move(status));
}

void JournalStream::OnJournalUpdate() {
  absl::MutexLock lock(&mu_);
  WriteNextLocked();
}

void JournalStream::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok && !finish_after_write_.has_value()) {
    finish_after_write_ = grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
  }
  if (finish_after_write_.has_value()) return FinishLocked(*finish_after_write_);
  WriteNextLocked();
}

void JournalStream::OnCancel() {
  absl::MutexLock lock(&mu_);
  grpc::Status cancelled(grpc::StatusCode::CANCELLED, "the client cancelled the call");
  if (writing_) {
    finish_after_write_ = cancelled;
  } else if (!finished_) {
    FinishLocked(cancelled);
  }
}

void JournalStream::OnDone() {
  {
    absl::MutexLock lock(&link_->mu);
    link_->reader = nullptr;
  }
  {
    absl::MutexLock lock(&mu_);
    if (journal_ != nullptr && subscription_.has_value()) journal_->Unsubscribe(*subscription_);
  }
  delete this;
}

void JournalStream::WriteNextLocked() {
  if (writing_ || finished_ || !subscription_.has_value()) return;
  CommandJournal::Next next = journal_->Read(*subscription_);
  if (next.event.has_value() && next.end.has_value()) {
    // The last event and the end in one operation: a write-done round trip fewer per run.
    current_ = *std::move(next.event);
    finished_ = true;
    StartWriteAndFinish(&current_, grpc::WriteOptions(), *std::move(next.end));
  } else if (next.event.has_value()) {
    current_ = *std::move(next.event);
    writing_ = true;
    // With more events waiting, gRPC may gather this one with the next into one socket write;
    // the last one waiting goes out at once. Never the first message: that batch carries the
    // response headers too, and with the hint it never completes (grpc/grpc#12975, #34231), so
    // OnWriteDone never came and the stream hung.
    grpc::WriteOptions options;
    if (next.more && wrote_) options.set_buffer_hint();
    wrote_ = true;
    StartWrite(&current_, options);
  } else if (next.end.has_value()) {
    FinishLocked(*next.end);
  }
}

void JournalStream::FinishLocked(grpc::Status status) {
  if (finished_) return;
  finished_ = true;
  Finish(std::move(status));
}

}  // namespace osb::daemon
