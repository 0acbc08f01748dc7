// TemplateStore: osbd's named presets of create parameters (Templates service), kept in memory
// and saved under the state directory so they survive restarts. ApplyTemplate fills a create
// request's unset fields from a template. Thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "daemon/named_records.h"
#include "opensandbox/v1/sandboxes.pb.h"
#include "opensandbox/v1/templates.pb.h"

namespace osb::daemon {

class TemplateStore {
 public:
  // Loads the templates saved in `dir` ("" keeps them in memory only); unreadable files are
  // skipped and listed in `*skipped`.
  TemplateStore(std::string dir, std::vector<std::string>* skipped);

  // Validates `t` (name a DNS label; the parameters as a create request would be checked, except
  // that image and snapshot may both be empty), stamps created_at/updated_at and saves it,
  // replacing a template of the same name. Returns it as stored. FailedPrecondition when the name
  // belongs to a template from the config file.
  absl::StatusOr<opensandbox::v1::Template> Define(opensandbox::v1::Template t);
  // Define for a template of the config file: checked the same way, kept in memory only (the file
  // is its record), marked from_config, and shadowing a saved one of the same name.
  absl::StatusOr<opensandbox::v1::Template> DefineFromConfig(opensandbox::v1::Template t);
  // NotFound when there is none by that name. The registry password included: for osbd's own use.
  absl::StatusOr<opensandbox::v1::Template> Get(const std::string& name) const;
  // All templates, sorted by name.
  std::vector<opensandbox::v1::Template> List() const;
  // NotFound when there is none by that name; FailedPrecondition for one from the config file.
  absl::Status Delete(const std::string& name);

 private:
  absl::StatusOr<opensandbox::v1::Template> Store(opensandbox::v1::Template t, bool from_config);

  NamedRecords records_;
  mutable absl::Mutex mu_;
  std::map<std::string, opensandbox::v1::Template> templates_ ABSL_GUARDED_BY(mu_);
};

// `request` with each field it leaves unset taken from `t`: scalars and messages when unset,
// lists when empty, map entries whose keys it lacks; a request that sets a timeout or manual
// cleanup keeps it. The request's `template` is cleared.
opensandbox::v1::CreateSandboxRequest ApplyTemplate(const opensandbox::v1::Template& t,
                                                    opensandbox::v1::CreateSandboxRequest request);

// `t` as Get and List show it to clients: the registry password blanked.
opensandbox::v1::Template WithoutSecrets(opensandbox::v1::Template t);

}  // namespace osb::daemon
