// WarmPools: the pools osbd keeps (Pools service), by name. Definitions are saved under the
// state directory and their pools started again when osbd starts, adopting the idle members an
// earlier osbd left. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/named_records.h"
#include "daemon/warm_pool.h"
#include "opensandbox/v1/pools.pb.h"

namespace osb::daemon {

// NotFound naming the pool, with the ErrorInfo reason OSBD::POOL_NOT_FOUND.
absl::Status NoSuchPool(const std::string& name);

class WarmPools {
 public:
  // Loads the definitions saved in `dir` ("" keeps nothing on disk) and starts their pools.
  // Definitions that cannot be read or started are skipped and listed in `*skipped`.
  WarmPools(DaemonContext& context, std::string dir, std::vector<std::string>* skipped);
  ~WarmPools();  // stops every pool without touching its sandboxes

  // Validates `pool` (name a DNS label, its template known, min_idle <= max_idle, its connection
  // resolvable), saves it and starts it; a pool of the same name is drained and replaced.
  absl::StatusOr<opensandbox::v1::Pool> Define(opensandbox::v1::Pool pool);
  // Drains and forgets the pool. NotFound when there is none by that name.
  absl::Status Delete(const std::string& name, bool keep_idle);
  std::vector<opensandbox::v1::Pool> List() const;
  // nullptr when there is none by that name.
  std::shared_ptr<WarmPool> Find(const std::string& name) const;
  // Drops `sandbox_id` from whichever pool holds it idle (it is being killed by other means).
  void Forget(const std::string& sandbox_id);
  // Whether any pool is made from template `name`.
  bool UsesTemplate(const std::string& name) const;

 private:
  absl::StatusOr<std::shared_ptr<WarmPool>> Make(const opensandbox::v1::Pool& definition);

  DaemonContext& context_;
  NamedRecords records_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<WarmPool>> pools_ ABSL_GUARDED_BY(mu_);
};

}  // namespace osb::daemon
