#include "client/src/daemon_connection.h"
#include "client/src/lazy_daemon.h"
#include "client/src/proto_convert.h"
#include "opensandbox/async.h"
#include "opensandbox/templates.h"

namespace opensandbox {

namespace v1 = ::opensandbox::v1;

namespace {

SandboxTemplate FromProto(const v1::Template& in) {
  SandboxTemplate out;
  out.name = in.name();
  out.description = in.description();
  out.image = in.image();
  out.spec = internal::SpecFromTemplate(in);
  out.created_at = internal::TimeFromProto(in.created_at());
  out.updated_at = internal::TimeFromProto(in.updated_at());
  return out;
}

}  // namespace

TemplateManager::TemplateManager(Options options)
    : daemon_(std::make_shared<internal::LazyDaemon>(std::move(options))) {}

absl::StatusOr<std::vector<SandboxTemplate>> TemplateManager::List() {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  auto list = (*daemon)->Call((*daemon)->templates(), &v1::Templates::Stub::List,
                              v1::ListTemplatesRequest());
  if (!list.ok()) return list.status();
  std::vector<SandboxTemplate> out;
  for (const auto& t : list->templates()) out.push_back(FromProto(t));
  return out;
}

absl::StatusOr<SandboxTemplate> TemplateManager::Get(const std::string& name) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::GetTemplateRequest request;
  request.set_name(name);
  auto t = (*daemon)->Call((*daemon)->templates(), &v1::Templates::Stub::Get, request);
  if (!t.ok()) return t.status();
  return FromProto(*t);
}

absl::StatusOr<SandboxTemplate> TemplateManager::Define(const SandboxTemplate& t) {
  auto proto = internal::TemplateFromSpec(t.name, t.description, t.image, t.spec);
  if (!proto.ok()) return proto.status();
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::DefineTemplateRequest request;
  *request.mutable_template_() = *std::move(proto);
  auto defined = (*daemon)->Call((*daemon)->templates(), &v1::Templates::Stub::Define, request);
  if (!defined.ok()) return defined.status();
  return FromProto(*defined);
}

absl::Status TemplateManager::Delete(const std::string& name) {
  auto daemon = daemon_->Get();
  if (!daemon.ok()) return daemon.status();
  v1::DeleteTemplateRequest request;
  request.set_name(name);
  return (*daemon)->Call((*daemon)->templates(), &v1::Templates::Stub::Delete, request).status();
}

std::future<absl::StatusOr<std::vector<SandboxTemplate>>> TemplateManager::ListAsync() {
  return internal::RunAsync([self = *this]() mutable { return self.List(); });
}

std::future<absl::StatusOr<SandboxTemplate>> TemplateManager::GetAsync(std::string name) {
  return internal::RunAsync(
      [self = *this, name = std::move(name)]() mutable { return self.Get(name); });
}

std::future<absl::StatusOr<SandboxTemplate>> TemplateManager::DefineAsync(SandboxTemplate t) {
  return internal::RunAsync([self = *this, t = std::move(t)]() mutable { return self.Define(t); });
}

std::future<absl::Status> TemplateManager::DeleteAsync(std::string name) {
  return internal::RunAsync(
      [self = *this, name = std::move(name)]() mutable { return self.Delete(name); });
}

}  // namespace opensandbox
