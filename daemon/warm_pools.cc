#include "daemon/warm_pools.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "rest/error.h"

namespace osb::daemon {

absl::Status NoSuchPool(const std::string& name) {
  return rest::MakeError(absl::StatusCode::kNotFound, "OSBD::POOL_NOT_FOUND",
                         absl::StrCat("no pool named \"", name, "\""));
}

namespace v1 = opensandbox::v1;

WarmPools::WarmPools(DaemonContext& context, std::string dir, std::vector<std::string>* skipped)
    : context_(context), records_(std::move(dir)) {
  for (auto& [name, record] : records_.Load(v1::Pool(), skipped)) {
    auto* definition = static_cast<v1::Pool*>(record.get());
    definition->set_name(name);
    auto pool = Make(*definition);
    if (!pool.ok()) {
      skipped->push_back(absl::StrCat("pool ", name, ": ", pool.status().message()));
      continue;
    }
    absl::MutexLock lock(&mu_);
    pools_[name] = *pool;
  }
  absl::MutexLock lock(&mu_);
  for (auto& [name, pool] : pools_) pool->Start();
}

WarmPools::~WarmPools() {
  absl::MutexLock lock(&mu_);
  for (auto& [name, pool] : pools_) pool->Stop();
}

absl::StatusOr<std::shared_ptr<WarmPool>> WarmPools::Make(const v1::Pool& definition) {
  if (auto s = ValidateDnsLabel("pool name", definition.name()); !s.ok()) return s;
  if (definition.template_().empty()) {
    return absl::InvalidArgumentError("pool " + definition.name() + ": template is required");
  }
  if (auto t = context_.templates().Get(definition.template_()); !t.ok()) return t.status();
  if (definition.max_idle() != 0 && definition.max_idle() < definition.min_idle()) {
    return absl::InvalidArgumentError(absl::StrCat("pool ", definition.name(), ": max_idle ",
                                                   definition.max_idle(), " is below min_idle ",
                                                   definition.min_idle()));
  }
  auto origin = context_.Resolve(definition.connection());
  if (!origin.ok()) return origin.status();
  return std::make_shared<WarmPool>(context_, definition, *std::move(origin));
}

absl::StatusOr<v1::Pool> WarmPools::Define(v1::Pool definition) {
  std::shared_ptr<WarmPool> replaced;
  {
    absl::MutexLock lock(&mu_);
    auto existing = pools_.find(definition.name());
    *definition.mutable_created_at() =
        existing != pools_.end() ? existing->second->definition().created_at()
                                 : google::protobuf::util::TimeUtil::GetCurrentTime();
  }
  auto pool = Make(definition);
  if (!pool.ok()) return pool.status();
  if (auto s = records_.Save(definition.name(), definition); !s.ok()) return s;
  {
    absl::MutexLock lock(&mu_);
    auto& slot = pools_[definition.name()];
    replaced = std::move(slot);
    slot = *pool;
  }
  if (replaced != nullptr) replaced->Drain(/*keep_idle=*/false);
  (*pool)->Start();
  return definition;
}

absl::Status WarmPools::Delete(const std::string& name, bool keep_idle) {
  std::shared_ptr<WarmPool> pool;
  {
    absl::MutexLock lock(&mu_);
    auto it = pools_.find(name);
    if (it == pools_.end()) return NoSuchPool(name);
    if (auto s = records_.Remove(name); !s.ok()) return s;
    pool = std::move(it->second);
    pools_.erase(it);
  }
  pool->Drain(keep_idle);
  return absl::OkStatus();
}

std::vector<v1::Pool> WarmPools::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Pool> out;
  for (const auto& [name, pool] : pools_) out.push_back(pool->definition());
  return out;
}

std::shared_ptr<WarmPool> WarmPools::Find(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = pools_.find(name);
  return it == pools_.end() ? nullptr : it->second;
}

void WarmPools::Forget(const std::string& sandbox_id) {
  absl::MutexLock lock(&mu_);
  for (auto& [name, pool] : pools_) pool->Forget(sandbox_id);
}

bool WarmPools::UsesTemplate(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [pool_name, pool] : pools_) {
    if (pool->definition().template_() == name) return true;
  }
  return false;
}

}  // namespace osb::daemon
