// Templates: named presets of create parameters kept by osbd, for Sandbox::Create
// (SandboxSpec::template_name) and for warm pools.
//
//   opensandbox::TemplateManager templates;
//   opensandbox::SandboxTemplate python{.name = "python", .image = "python:3.11"};
//   python.spec.resource = {{"memory", "1Gi"}};
//   (void)templates.Define(python);
//   auto sandbox = opensandbox::Sandbox::Create("", {.template_name = "python"});
#pragma once

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "opensandbox/options.h"
#include "opensandbox/sandbox_spec.h"

namespace opensandbox {
namespace internal {
class LazyDaemon;
}  // namespace internal

struct SandboxTemplate {
  // A DNS label: lowercase letters, digits and '-', at most 63.
  std::string name;
  std::string description;
  // May be empty (the create request then names one).
  std::string image;
  // The parameters; only those that are set take effect (`template_name` and `lease` are
  // ignored).
  SandboxSpec spec;
  // Set by osbd.
  absl::Time created_at = absl::InfinitePast();
  absl::Time updated_at = absl::InfinitePast();
};

class TemplateManager {
 public:
  // Reaches osbd on first use; copies share the connection.
  explicit TemplateManager(Options options = {});

  // All templates, sorted by name.
  absl::StatusOr<std::vector<SandboxTemplate>> List();
  std::future<absl::StatusOr<std::vector<SandboxTemplate>>> ListAsync();
  // kNotFound when there is none by that name.
  absl::StatusOr<SandboxTemplate> Get(const std::string& name);
  std::future<absl::StatusOr<SandboxTemplate>> GetAsync(std::string name);
  // Creates or replaces; returns it as stored. kInvalidArgument for a bad name or parameters.
  absl::StatusOr<SandboxTemplate> Define(const SandboxTemplate& t);
  std::future<absl::StatusOr<SandboxTemplate>> DefineAsync(SandboxTemplate t);
  // kNotFound when there is none; kFailedPrecondition while a pool uses it.
  absl::Status Delete(const std::string& name);
  std::future<absl::Status> DeleteAsync(std::string name);

 private:
  std::shared_ptr<internal::LazyDaemon> daemon_;
};

}  // namespace opensandbox
