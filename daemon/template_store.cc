#include "daemon/template_store.h"

#include "absl/strings/str_cat.h"
#include "daemon/convert.h"
#include "google/protobuf/util/time_util.h"
#include "rest/error.h"

namespace osb::daemon {

namespace v1 = opensandbox::v1;
using google::protobuf::util::TimeUtil;

namespace {

absl::Status NoSuchTemplate(const std::string& name) {
  return rest::MakeError(absl::StatusCode::kNotFound, "OSBD::TEMPLATE_NOT_FOUND",
                         absl::StrCat("no template named \"", name, "\""));
}

absl::Status FromConfigError(const std::string& name) {
  return rest::MakeError(
      absl::StatusCode::kFailedPrecondition, "OSBD::TEMPLATE_FROM_CONFIG",
      absl::StrCat("template \"", name, "\" comes from osbd's config file: change it there"));
}

}  // namespace

TemplateStore::TemplateStore(std::string dir, std::vector<std::string>* skipped)
    : records_(std::move(dir)) {
  for (auto& [name, record] : records_.Load(v1::Template(), skipped)) {
    auto* t = static_cast<v1::Template*>(record.get());
    t->set_name(name);
    templates_.emplace(name, std::move(*t));
  }
}

absl::StatusOr<v1::Template> TemplateStore::Define(v1::Template t) {
  return Store(std::move(t), /*from_config=*/false);
}

absl::StatusOr<v1::Template> TemplateStore::DefineFromConfig(v1::Template t) {
  return Store(std::move(t), /*from_config=*/true);
}

absl::StatusOr<v1::Template> TemplateStore::Store(v1::Template t, bool from_config) {
  if (auto s = ValidateDnsLabel("template name", t.name()); !s.ok()) return s;
  // Checked as the create request it would make; a stand-in image where the template names none.
  v1::CreateSandboxRequest probe = ApplyTemplate(t, v1::CreateSandboxRequest());
  if (probe.image().empty() && probe.snapshot_id().empty()) probe.set_image("template-check");
  if (auto rest = ToRest(probe); !rest.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("template ", t.name(), ": ", rest.status().message()));
  }
  t.set_from_config(from_config);
  absl::MutexLock lock(&mu_);
  const auto now = TimeUtil::GetCurrentTime();
  auto existing = templates_.find(t.name());
  if (!from_config && existing != templates_.end() && existing->second.from_config()) {
    return FromConfigError(t.name());
  }
  *t.mutable_created_at() = existing != templates_.end() ? existing->second.created_at() : now;
  *t.mutable_updated_at() = now;
  // The config file is the record of its own templates.
  if (!from_config) {
    if (auto s = records_.Save(t.name(), t); !s.ok()) return s;
  }
  templates_[t.name()] = t;
  return t;
}

absl::StatusOr<v1::Template> TemplateStore::Get(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = templates_.find(name);
  if (it == templates_.end()) return NoSuchTemplate(name);
  return it->second;
}

std::vector<v1::Template> TemplateStore::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Template> out;
  out.reserve(templates_.size());
  for (const auto& [name, t] : templates_) out.push_back(t);
  return out;
}

absl::Status TemplateStore::Delete(const std::string& name) {
  absl::MutexLock lock(&mu_);
  if (templates_.count(name) == 0) return NoSuchTemplate(name);
  if (templates_[name].from_config()) return FromConfigError(name);
  if (auto s = records_.Remove(name); !s.ok()) return s;
  templates_.erase(name);
  return absl::OkStatus();
}

v1::CreateSandboxRequest ApplyTemplate(const v1::Template& t, v1::CreateSandboxRequest r) {
  r.clear_template_();
  if (r.image().empty() && r.snapshot_id().empty()) {
    r.set_image(t.image());
    r.set_snapshot_id(t.snapshot_id());
  }
  if (!r.has_image_auth() && t.has_image_auth()) *r.mutable_image_auth() = t.image_auth();
  if (r.entrypoint().empty()) *r.mutable_entrypoint() = t.entrypoint();
  if (!r.has_timeout() && !r.manual_cleanup()) {
    if (t.has_timeout()) *r.mutable_timeout() = t.timeout();
    r.set_manual_cleanup(t.manual_cleanup());
  }
  r.mutable_resource_limits()->insert(t.resource_limits().begin(), t.resource_limits().end());
  r.mutable_env()->insert(t.env().begin(), t.env().end());
  r.mutable_metadata()->insert(t.metadata().begin(), t.metadata().end());
  r.mutable_extensions()->insert(t.extensions().begin(), t.extensions().end());
  if (!r.has_network_policy() && t.has_network_policy()) {
    *r.mutable_network_policy() = t.network_policy();
  }
  if (r.volumes().empty()) *r.mutable_volumes() = t.volumes();
  if (!r.has_platform() && t.has_platform()) *r.mutable_platform() = t.platform();
  r.set_secure_access(r.secure_access() || t.secure_access());
  if (!r.has_ready_timeout() && t.has_ready_timeout()) {
    *r.mutable_ready_timeout() = t.ready_timeout();
  }
  if (!r.has_health_check() && t.has_health_check()) *r.mutable_health_check() = t.health_check();
  r.set_skip_health_check(r.skip_health_check() || t.skip_health_check());
  r.set_credential_proxy(r.credential_proxy() || t.credential_proxy());
  return r;
}

v1::Template WithoutSecrets(v1::Template t) {
  if (t.has_image_auth()) t.mutable_image_auth()->clear_password();
  return t;
}

}  // namespace osb::daemon
