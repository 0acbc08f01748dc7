// CommandJournal: one command run's events, numbered from 1, kept in a bounded window so that
// readers can join late (Commands.Attach) or come back after a disconnect, losing nothing that is
// still in the window. The upstream stream feeds it (Append, then End once); readers follow it
// through a Subscription. The journal owns the backpressure: when a subscribed reader falls more
// than a high-water mark behind, Append asks the feeder to pause the upstream transfer, and the
// journal resumes it once every reader has caught up to the low-water mark. With no reader, the
// upstream flows freely and the window drops its oldest events.
//
//   auto journal = std::make_shared<CommandJournal>(loop);
//   auto sub = journal->Subscribe(link, /*after_seq=*/0);    // a reader's position
//   journal->Append(event);                                   // link->reader()->OnJournalUpdate()
//   CommandJournal::Next next = journal->Read(*sub);          // the event, or the end, or nothing
//
// Thread-safe. The journal never calls a reader while holding its own lock; a reader may call
// Read from OnJournalUpdate. Lock order: ReaderLink::mu, then the reader's own lock, then the
// journal's.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/support/status.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "daemon/upstream/curl_loop.h"
#include "opensandbox/v1/commands.pb.h"

namespace osb::daemon {

// Called when a journal has something new for its readers (an event or its end).
class JournalReader {
 public:
  virtual ~JournalReader() = default;
  virtual void OnJournalUpdate() = 0;
};

// How a journal reaches a reader that may be destroyed at any time: the reader clears `reader`
// under `mu` before it goes.
struct ReaderLink {
  absl::Mutex mu;
  JournalReader* reader ABSL_GUARDED_BY(mu) = nullptr;
};

class CommandJournal {
 public:
  struct Limits {
    std::size_t max_events = 16384;        // kept in the window
    std::size_t max_bytes = 4 << 20;       // of serialized events in the window
    std::size_t high_water_events = 256;   // a reader this far behind pauses the upstream
    std::size_t high_water_bytes = 1 << 20;
    std::size_t low_water_events = 64;     // ...until every reader is back within this
    std::size_t low_water_bytes = 256 << 10;
  };

  explicit CommandJournal(CurlLoop& loop) : CommandJournal(loop, Limits{}) {}
  CommandJournal(CurlLoop& loop, Limits limits) : loop_(loop), limits_(limits) {}

  // --- The feeding side (the upstream stream's callbacks). ---

  // Numbers `event` (its seq is overwritten), keeps it, and wakes the readers. kPause when a
  // reader lags beyond the high-water mark: the feeder then pauses its transfer, which the
  // journal resumes later through the loop. Ignored after End.
  DataAction Append(opensandbox::v1::CommandEvent event);
  // The status readers finish with after the last event. Once; later calls are ignored.
  void End(grpc::Status status);
  // The transfer feeding the journal, for Resume (and Cancel when its last reader of an
  // unshared journal leaves).
  void SetTransfer(CurlLoop::TransferId id);
  void TransferEnded();
  // Cancel the transfer when the last reader unsubscribes (for runs no one can attach to).
  void CancelWhenUnread();

  // --- The reading side. ---

  using SubscriptionId = uint64_t;
  // Starts a reader after event `after_seq`. OutOfRange when events after it were already
  // dropped from the window (the message names the oldest kept seq).
  absl::StatusOr<SubscriptionId> Subscribe(std::shared_ptr<ReaderLink> link, uint64_t after_seq);
  // Ends a reader; it is no longer woken nor waited for.
  void Unsubscribe(SubscriptionId id);

  struct Next {
    std::optional<opensandbox::v1::CommandEvent> event;  // the reader's next event, and/or
    std::optional<grpc::Status> end;  // the end: with the last event when the journal has ended
    bool more = false;  // further events are waiting after `event`
  };
  // The reader's next event (advancing it), with the end when that was the last event of an
  // ended journal (so the two can go out together); or the end alone; or neither yet (wait for
  // an update).
  Next Read(SubscriptionId id);

  bool ended() const;
  // When End was called; InfinitePast before that.
  absl::Time ended_at() const;
  // Oldest seq still in the window (1 until something is dropped), and the last one appended.
  uint64_t first_seq() const;
  uint64_t last_seq() const;
  // Serialized bytes of the events in the window.
  uint64_t window_bytes() const;

 private:
  struct Entry {
    opensandbox::v1::CommandEvent event;
    uint64_t bytes;          // its serialized size
    uint64_t bytes_through;  // bytes appended up to and including this event
  };
  struct Subscriber {
    std::shared_ptr<ReaderLink> link;
    uint64_t next_seq;  // the next event it will read
  };

  void Wake(const std::vector<std::shared_ptr<ReaderLink>>& links);
  std::vector<std::shared_ptr<ReaderLink>> LinksLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Unread events and bytes of a reader whose next event is `next_seq`.
  std::pair<uint64_t, uint64_t> LagLocked(uint64_t next_seq) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeResumeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CurlLoop& loop_;
  const Limits limits_;
  mutable absl::Mutex mu_;
  std::deque<Entry> window_ ABSL_GUARDED_BY(mu_);
  uint64_t first_seq_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t bytes_appended_ ABSL_GUARDED_BY(mu_) = 0;
  std::size_t window_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  absl::Time ended_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::map<SubscriptionId, Subscriber> subscribers_ ABSL_GUARDED_BY(mu_);
  SubscriptionId next_subscription_ ABSL_GUARDED_BY(mu_) = 1;
  std::optional<CurlLoop::TransferId> transfer_ ABSL_GUARDED_BY(mu_);
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_when_unread_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace osb::daemon
