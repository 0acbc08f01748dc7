#include "daemon/command_journal.h"

#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "daemon/services/field_error.h"

namespace osb::daemon {

DataAction CommandJournal::Append(opensandbox::v1::CommandEvent event) {
  std::vector<std::shared_ptr<ReaderLink>> links;
  DataAction action = DataAction::kContinue;
  {
    absl::MutexLock lock(&mu_);
    if (end_.has_value()) return DataAction::kContinue;
    event.set_seq(next_seq_++);
    const uint64_t bytes = event.ByteSizeLong();
    bytes_appended_ += bytes;
    window_bytes_ += bytes;
    window_.push_back({std::move(event), bytes, bytes_appended_});
    while (window_.size() > 1 &&
           (window_.size() > limits_.max_events || window_bytes_ > limits_.max_bytes)) {
      window_bytes_ -= window_.front().bytes;
      window_.pop_front();
      ++first_seq_;
    }
    for (const auto& [id, subscriber] : subscribers_) {
      auto [events, lag_bytes] = LagLocked(subscriber.next_seq);
      if (events >= limits_.high_water_events || lag_bytes >= limits_.high_water_bytes) {
        paused_ = true;
        action = DataAction::kPause;
      }
    }
    links = LinksLocked();
  }
  Wake(links);
  return action;
}

void CommandJournal::End(grpc::Status status) {
  std::vector<std::shared_ptr<ReaderLink>> links;
  {
    absl::MutexLock lock(&mu_);
    if (end_.has_value()) return;
    end_ = std::move(status);
    ended_at_ = absl::Now();
    links = LinksLocked();
  }
  Wake(links);
}

void CommandJournal::SetTransfer(CurlLoop::TransferId id) {
  absl::MutexLock lock(&mu_);
  transfer_ = id;
}

void CommandJournal::TransferEnded() {
  absl::MutexLock lock(&mu_);
  transfer_.reset();
}

void CommandJournal::CancelWhenUnread() {
  absl::MutexLock lock(&mu_);
  cancel_when_unread_ = true;
}

absl::StatusOr<CommandJournal::SubscriptionId> CommandJournal::Subscribe(
    std::shared_ptr<ReaderLink> link, uint64_t after_seq) {
  absl::MutexLock lock(&mu_);
  if (after_seq + 1 < first_seq_) {
    return absl::OutOfRangeError(absl::StrCat(
        "events ", after_seq + 1, " to ", first_seq_ - 1,
        " were already dropped from the journal; the oldest kept is ", first_seq_));
  }
  if (after_seq >= next_seq_) {
    return InvalidField("after_seq", absl::StrCat(after_seq, " is beyond the last event, ",
                                                  next_seq_ - 1));
  }
  const SubscriptionId id = next_subscription_++;
  subscribers_.emplace(id, Subscriber{std::move(link), after_seq + 1});
  return id;
}

void CommandJournal::Unsubscribe(SubscriptionId id) {
  absl::MutexLock lock(&mu_);
  subscribers_.erase(id);
  MaybeResumeLocked();
  if (cancel_when_unread_ && subscribers_.empty() && !end_.has_value() && transfer_.has_value()) {
    loop_.Cancel(*transfer_);
  }
}

CommandJournal::Next CommandJournal::Read(SubscriptionId id) {
  absl::MutexLock lock(&mu_);
  auto it = subscribers_.find(id);
  if (it == subscribers_.end()) {
    return {std::nullopt, grpc::Status(grpc::StatusCode::INTERNAL, "unknown journal reader")};
  }
  Subscriber& subscriber = it->second;
  if (subscriber.next_seq < first_seq_) {
    return {std::nullopt,
            grpc::Status(grpc::StatusCode::OUT_OF_RANGE,
                         absl::StrCat("events from ", subscriber.next_seq,
                                      " were dropped from the journal before they were read; "
                                      "the oldest kept is ",
                                      first_seq_))};
  }
  if (subscriber.next_seq < next_seq_) {
    Next next{window_[subscriber.next_seq - first_seq_].event, std::nullopt};
    ++subscriber.next_seq;
    if (subscriber.next_seq == next_seq_) next.end = end_;
    next.more = subscriber.next_seq < next_seq_;
    MaybeResumeLocked();
    return next;
  }
  if (end_.has_value()) return {std::nullopt, end_};
  return {};
}

bool CommandJournal::ended() const {
  absl::MutexLock lock(&mu_);
  return end_.has_value();
}

absl::Time CommandJournal::ended_at() const {
  absl::MutexLock lock(&mu_);
  return ended_at_;
}

uint64_t CommandJournal::first_seq() const {
  absl::MutexLock lock(&mu_);
  return first_seq_;
}

uint64_t CommandJournal::window_bytes() const {
  absl::MutexLock lock(&mu_);
  return window_bytes_;
}

uint64_t CommandJournal::last_seq() const {
  absl::MutexLock lock(&mu_);
  return next_seq_ - 1;
}

void CommandJournal::Wake(const std::vector<std::shared_ptr<ReaderLink>>& links) {
  for (const auto& link : links) {
    absl::MutexLock lock(&link->mu);
    if (link->reader != nullptr) link->reader->OnJournalUpdate();
  }
}

std::vector<std::shared_ptr<ReaderLink>> CommandJournal::LinksLocked() const {
  std::vector<std::shared_ptr<ReaderLink>> links;
  links.reserve(subscribers_.size());
  for (const auto& [id, subscriber] : subscribers_) links.push_back(subscriber.link);
  return links;
}

std::pair<uint64_t, uint64_t> CommandJournal::LagLocked(uint64_t next_seq) const {
  if (next_seq < first_seq_) {
    return {std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint64_t>::max()};
  }
  uint64_t bytes_read = bytes_appended_;
  if (next_seq < next_seq_) {
    const Entry& next = window_[next_seq - first_seq_];
    bytes_read = next.bytes_through - next.bytes;
  }
  return {next_seq_ - next_seq, bytes_appended_ - bytes_read};
}

void CommandJournal::MaybeResumeLocked() {
  if (!paused_) return;
  for (const auto& [id, subscriber] : subscribers_) {
    auto [events, lag_bytes] = LagLocked(subscriber.next_seq);
    if (events > limits_.low_water_events || lag_bytes > limits_.low_water_bytes) return;
  }
  paused_ = false;
  if (transfer_.has_value()) loop_.Resume(*transfer_);
}

}  // namespace osb::daemon
