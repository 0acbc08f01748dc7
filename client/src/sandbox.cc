#include "opensandbox/sandbox.h"

#include "absl/strings/str_cat.h"
#include "opensandbox/async.h"
#include "client/src/daemon_connection.h"
#include "client/src/proto_convert.h"
#include "client/src/sandbox_calls.h"

namespace opensandbox {

using internal::DaemonConnection;
namespace v1 = ::opensandbox::v1;

Sandbox::Sandbox(std::shared_ptr<DaemonConnection> daemon, std::string id)
    : daemon_(daemon), id_(id), commands_(daemon, id), codes_(daemon, id), files_(daemon, id) {}

absl::StatusOr<Sandbox> Sandbox::Create(const std::string& image, const SandboxSpec& spec,
                                        Options options) {
  auto request = internal::CreateRequestFromSpec(image, spec);
  if (!request.ok()) return request.status();
  auto daemon = DaemonConnection::Open(options);
  if (!daemon.ok()) return daemon.status();
  auto created = (*daemon)->Call((*daemon)->sandboxes(), &v1::Sandboxes::Stub::Create, *request);
  if (!created.ok()) return created.status();
  return Sandbox(*daemon, created->id());
}

std::future<absl::StatusOr<Sandbox>> Sandbox::CreateAsync(std::string image, SandboxSpec spec,
                                                          Options options) {
  return internal::RunAsync([image = std::move(image), spec = std::move(spec),
                             options = std::move(options)] {
    return Create(image, spec, options);
  });
}

absl::StatusOr<Sandbox> Sandbox::Connect(const std::string& sandbox_id, Options options) {
  auto daemon = DaemonConnection::Open(options);
  if (!daemon.ok()) return daemon.status();
  auto info = internal::GetSandbox(**daemon, sandbox_id);
  if (!info.ok()) return info.status();
  return Sandbox(*daemon, info->id);
}

absl::StatusOr<Sandbox> Sandbox::Resume(const std::string& sandbox_id, Options options,
                                        absl::Duration ready_timeout) {
  auto daemon = DaemonConnection::Open(options);
  if (!daemon.ok()) return daemon.status();
  if (auto s = internal::ResumeSandbox(**daemon, sandbox_id, ready_timeout); !s.ok()) return s;
  return Sandbox(*daemon, sandbox_id);
}

absl::StatusOr<SandboxInfo> Sandbox::GetInfo() const {
  if (!daemon_) return internal::HandleClosed();
  return internal::GetSandbox(*daemon_, id_);
}

absl::StatusOr<Endpoint> Sandbox::GetEndpoint(int port) const {
  return EndpointOf(port, std::nullopt);
}

absl::StatusOr<Endpoint> Sandbox::GetSignedEndpoint(int port, absl::Time expires) const {
  return EndpointOf(port, expires);
}

absl::StatusOr<Endpoint> Sandbox::EndpointOf(int port, std::optional<absl::Time> expires) const {
  if (!daemon_) return internal::HandleClosed();
  if (port < 1 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", port, " is not in 1..65535"));
  }
  v1::GetEndpointRequest request;
  request.set_sandbox_id(id_);
  request.set_port(static_cast<std::uint32_t>(port));
  if (expires.has_value()) request.mutable_expires()->set_seconds(absl::ToUnixSeconds(*expires));
  auto endpoint = daemon_->Call(daemon_->sandboxes(), &v1::Sandboxes::Stub::GetEndpoint, request);
  if (!endpoint.ok()) return endpoint.status();
  return internal::EndpointFromProto(*endpoint);
}

absl::StatusOr<SandboxMetrics> Sandbox::GetMetrics() const {
  if (!daemon_) return internal::HandleClosed();
  v1::GetSandboxMetricsRequest request;
  request.set_sandbox_id(id_);
  auto metrics = daemon_->Call(daemon_->sandboxes(), &v1::Sandboxes::Stub::GetMetrics, request);
  if (!metrics.ok()) return metrics.status();
  return internal::MetricsFromProto(*metrics);
}

absl::StatusOr<absl::Time> Sandbox::Renew(absl::Duration timeout) {
  if (!daemon_) return internal::HandleClosed();
  return internal::RenewSandbox(*daemon_, id_, timeout);
}

absl::StatusOr<SnapshotInfo> Sandbox::CreateSnapshot(const std::string& name, bool wait) {
  if (!daemon_) return internal::HandleClosed();
  return internal::CreateSnapshot(*daemon_, id_, name, wait);
}

absl::Status Sandbox::Pause() {
  if (!daemon_) return internal::HandleClosed();
  return internal::PauseSandbox(*daemon_, id_);
}

absl::Status Sandbox::Kill() {
  if (!daemon_) return internal::HandleClosed();
  return internal::KillSandbox(*daemon_, id_);
}

std::future<absl::Status> Sandbox::KillAsync() {
  return internal::RunAsync([self = *this]() mutable { return self.Kill(); });
}

bool Sandbox::IsHealthy() {
  auto info = GetInfo();
  if (!info.ok() || info->status.state != "Running") return false;
  auto execution = commands_.Run("true", {.timeout = absl::Seconds(5)});
  return execution.ok() && execution->exit_code == 0;
}

void Sandbox::Close() {
  daemon_.reset();
  commands_.daemon_.reset();
  codes_.daemon_.reset();
  files_.daemon_.reset();
}

std::future<absl::StatusOr<Sandbox>> Sandbox::ConnectAsync(std::string sandbox_id,
                                                           Options options) {
  return internal::RunAsync([sandbox_id = std::move(sandbox_id), options = std::move(options)]() {
    return Connect(sandbox_id, options);
  });
}

std::future<absl::StatusOr<Sandbox>> Sandbox::ResumeAsync(std::string sandbox_id, Options options,
                                                          absl::Duration ready_timeout) {
  return internal::RunAsync(
      [sandbox_id = std::move(sandbox_id), options = std::move(options), ready_timeout]() {
        return Resume(sandbox_id, options, ready_timeout);
      });
}

std::future<absl::StatusOr<SandboxInfo>> Sandbox::GetInfoAsync() const {
  return internal::RunAsync([self = *this]() { return self.GetInfo(); });
}

std::future<absl::StatusOr<Endpoint>> Sandbox::GetEndpointAsync(int port) const {
  return internal::RunAsync([self = *this, port]() { return self.GetEndpoint(port); });
}

std::future<absl::StatusOr<SandboxMetrics>> Sandbox::GetMetricsAsync() const {
  return internal::RunAsync([self = *this]() { return self.GetMetrics(); });
}

std::future<absl::StatusOr<absl::Time>> Sandbox::RenewAsync(absl::Duration timeout) {
  return internal::RunAsync([self = *this, timeout]() mutable { return self.Renew(timeout); });
}

std::future<absl::StatusOr<SnapshotInfo>> Sandbox::CreateSnapshotAsync(std::string name,
                                                                       bool wait) {
  return internal::RunAsync([self = *this, name = std::move(name), wait]() mutable {
    return self.CreateSnapshot(name, wait);
  });
}

std::future<absl::Status> Sandbox::PauseAsync() {
  return internal::RunAsync([self = *this]() mutable { return self.Pause(); });
}

std::future<bool> Sandbox::IsHealthyAsync() {
  return internal::RunAsync([self = *this]() mutable { return self.IsHealthy(); });
}

}  // namespace opensandbox
