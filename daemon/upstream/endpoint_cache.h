// execd endpoints by origin and sandbox, so a command does not pay a lifecycle round trip to find
// its sandbox. Entries are dropped when the sandbox is killed or resumed and when a request finds
// the endpoint gone (ExecdEndpoint::forget: the endpoint may have moved); the next call asks the
// lifecycle API again. At most kMaxEntries are kept (sandboxes that expire are never killed
// through osbd): a new entry past that evicts another, which costs it one lifecycle request.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "daemon/upstream/origin.h"

namespace osb::daemon {

class EndpointCache {
 public:
  static constexpr size_t kMaxEntries = 10000;

  std::optional<ExecdEndpoint> Find(const Origin& origin, const std::string& sandbox_id) {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(Key(origin, sandbox_id));
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const Origin& origin, const std::string& sandbox_id, ExecdEndpoint endpoint) {
    absl::MutexLock lock(&mu_);
    auto key = Key(origin, sandbox_id);
    if (entries_.size() >= kMaxEntries && entries_.find(key) == entries_.end()) {
      entries_.erase(entries_.begin());  // any other: ids are random, so is the order
    }
    entries_[std::move(key)] = std::move(endpoint);
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return entries_.size();
  }
  void Drop(const Origin& origin, const std::string& sandbox_id) {
    absl::MutexLock lock(&mu_);
    entries_.erase(Key(origin, sandbox_id));
  }

 private:
  // The same sandbox id on two servers is two sandboxes; a proxied and a direct endpoint differ.
  static std::pair<std::string, std::string> Key(const Origin& origin, const std::string& id) {
    return {origin.protocol + "://" + origin.authority + (origin.use_server_proxy ? "#proxy" : ""),
            id};
  }

  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, ExecdEndpoint> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osb::daemon
